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
from safemigrate.cli.errors import CommandFailed
from safemigrate.cli.wrapping import wrap_command
from safemigrate.errors import EXIT_REFUSED
from safemigrate.state import current_heads


def wrap_current(db_group: click.Group) -> None:
    wrap_command(db_group, "current", _current)


def _current(run: Callable[[], Any], options: dict[str, Any]) -> Any:
    return None if _said_ahead(options.get("directory")) else run()


def _said_ahead(directory: str | None) -> bool:
    """Print the database's revisions and how far ahead of the code they are, if they are."""
    found = _ahead(directory)
    if found is None:
        return False
    current, verdict, _ = found
    for revision in current:
        click.echo(f"{revision} (ahead of this code: {verdict})")
    return True


def upgrade_when_ahead(directory: str | None) -> bool:
    """`flask db upgrade` on a database ahead of the code, as the release runner answers it: nothing
    to do (one line) when every newer revision keeps this release working; refused in one line, exit
    6, naming the revision that breaks it, otherwise. False when the database is not ahead."""
    found = _ahead(directory)
    if found is None:
        return False
    _, verdict, refused = found
    if refused is None:
        return False  # another branch, or no ancestry in the ledger: the command's own error says so
    if refused:
        raise CommandFailed(verdict, EXIT_REFUSED)
    click.echo(f"nothing to do: {verdict}")
    return True


def _ahead(directory: str | None) -> tuple[tuple[str, ...], str, bool | None] | None:
    """(the database's revisions, the one-line verdict, refused?) when it is ahead of the code;
    refused is None when the database is not a descendant of this code's head (or the ledger cannot
    place it), True when a revision on the way breaks this release."""
    from safemigrate.ledger.ancestry import ahead_of_code

    scripts = ScriptDirectory(str(host.migrations_directory(directory)))
    try:
        with host.engine().connect() as connection:
            current = current_heads(connection)
            ahead = ahead_of_code(connection, scripts, current)
    except SQLAlchemyError:
        return None  # Flask-Migrate's command says why it cannot connect
    if ahead is None:
        return None
    heads = tuple(scripts.get_heads())
    refusal = ahead.refusal(heads)
    descendant = ahead.descends_from(heads)
    return current, refusal or ahead.summary(), (refusal is not None) if descendant else None
