"""Release-phase migration runner (Procfile: `release: python run_migration.py`).

The logic lives in app/schema/release.py; `python run_migration.py --help` lists the options
and exit codes.
"""

import sys

from app.schema.release_cli import main

if __name__ == "__main__":
    sys.exit(main())
