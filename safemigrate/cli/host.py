"""What the `flask db` commands take from the Flask app that runs them.

The toolkit imports nothing of the app: the database and the migrations folder come from
Flask-Migrate's extension (`current_app.extensions["migrate"]`), and a development-only scratch
server (for `flask db drift` when the role may not create databases) from
`current_app.extensions[SCRATCH_SERVER]`, which only a development host sets, and what to do when
the database does not answer from `current_app.extensions[UNREACHABLE_HINT]`.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from sqlalchemy.engine import Engine

from safemigrate.scratch import ScratchServer

# The key a host sets in app.extensions to a callable returning a context manager that yields the
# URL of a throwaway server's maintenance database (development only; production sets nothing).
SCRATCH_SERVER = "safemigrate.scratch_server"
# The key a host may set to what a person should do when its database does not answer, e.g.
# "the development database is not running: start it with `make db`" (the toolkit cannot know).
UNREACHABLE_HINT = "safemigrate.unreachable_hint"


def _migrate():
    try:
        return current_app.extensions["migrate"]
    except KeyError:
        raise click.ClickException(
            "Flask-Migrate is not initialised on this app (Migrate(app, db))"
        ) from None


def engine() -> Engine:
    """The app's database engine, as Flask-Migrate was given it."""
    return _migrate().db.engine


def migrations_directory(given: str | None = None) -> Path:
    """The migrations folder: the command's --directory, else the one Flask-Migrate was given."""
    return Path(given) if given else Path(_migrate().directory)


def models_file() -> Path:
    """The file of the app's models (the module of its first mapped class)."""
    import sys

    mappers = list(_migrate().db.Model.registry.mappers)
    if not mappers:
        raise click.ClickException("the app maps no classes")
    module = sys.modules[mappers[0].class_.__module__]
    return Path(module.__file__ or "")


def scratch_server() -> ScratchServer | None:
    return current_app.extensions.get(SCRATCH_SERVER)


def unreachable_hint() -> str | None:
    return current_app.extensions.get(UNREACHABLE_HINT) if current_app else None


def instance_path() -> Path:
    return Path(current_app.instance_path)
