"""Release-phase migration runner (Procfile: `release: python run_migration.py`).

The runner is safemigrate's (safemigrate/release/); this file is the host's side of it: which
database the app uses and where its migrations are. `python run_migration.py --help` lists the
options and exit codes.
"""

import os
import sys

from config import CONFIGS, MIGRATIONS_DIR, config_from_env
from safemigrate.cli.release import main


def app_database_url():
    """The app's own resolution without building the app (the runner's start-up cost matters):
    DATABASE_URL, else in development and tests the embedded server."""
    configured = config_from_env().SQLALCHEMY_DATABASE_URI
    if configured:
        return configured
    from devdb.embedded import dev_server

    return dev_server().url()


def scratch_server():
    """Development and tests only: --check-drift may build on a throwaway embedded server when the
    role cannot create databases. Production hands none, and the check says so in one line."""
    name = os.environ.get("APP_ENV", "development").strip().lower() or "development"
    config_class = CONFIGS.get(name)
    if config_class is None or not config_class.USE_EMBEDDED_DB:
        return None  # an unknown APP_ENV is reported by app_database_url, inside the runner
    from devdb.embedded import throwaway_server

    return throwaway_server


if __name__ == "__main__":
    sys.exit(
        main(app_database_url=app_database_url, directory=MIGRATIONS_DIR, scratch_server=scratch_server())
    )
