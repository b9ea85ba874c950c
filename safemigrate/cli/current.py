"""`flask db current`: Flask-Migrate's command, which also answers for a database ahead of the code.

Alembic fails ("Can't locate revision") on a database at a revision its files lack: exactly the
database the previous release sees during an overlap or after a rollback. This command says instead
how far ahead it is and whether every revision on the way keeps this release working
(safemigrate/ledger/ancestry.py), and defers to Flask-Migrate's command otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from safemigrate.cli import host
from safemigrate.cli.wrapping import wrap_command
from safemigrate.state import current_heads


def wrap_current(db_group: click.Group) -> None:
    wrap_command(db_group, "current", _current)


def _current(run: Callable[[], Any], options: dict[str, Any]) -> Any:
    return None if _said_ahead(options.get("directory")) else run()


def _said_ahead(directory: str | None) -> bool:
    """Print the database's revisions and how far ahead of the code they are, if they are."""
    from safemigrate.ledger.ancestry import ahead_of_code

    scripts = ScriptDirectory(str(host.migrations_directory(directory)))
    try:
        with host.engine().connect() as connection:
            current = current_heads(connection)
            ahead = ahead_of_code(connection, scripts, current)
    except SQLAlchemyError:
        return False  # Flask-Migrate's command says why it cannot connect
    if ahead is None:
        return False
    verdict = ahead.refusal(tuple(scripts.get_heads())) or ahead.summary()
    for revision in current:
        click.echo(f"{revision} (ahead of this code: {verdict})")
    return True
