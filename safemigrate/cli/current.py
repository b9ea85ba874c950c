"""`flask db current`: Flask-Migrate's command, which also answers for a database ahead of the code.

Alembic fails ("Can't locate revision") on a database at a revision its files lack: exactly the
database the previous release sees during an overlap or after a rollback. This command says instead
how far ahead it is and whether every revision on the way keeps this release working
(safemigrate/ledger/ancestry.py), and defers to Flask-Migrate's command otherwise.
"""

from __future__ import annotations

import click
from alembic.script import ScriptDirectory
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from safemigrate.cli import host
from safemigrate.state import current_heads


class _AheadAware(click.Command):
    """`current` wrapped: marked as this module's, and keeping the command it wraps."""

    ahead_aware: object
    unwrapped: click.Command


def wrap_current(db_group: click.Group) -> None:
    original = db_group.commands["current"]
    if getattr(original, "ahead_aware", None) is wrap_current:
        return  # the group is global: every create_app() registers again
    original = getattr(original, "unwrapped", original)
    callback = original.callback
    assert callback is not None  # Flask-Migrate's `current` is a command with a function

    @with_appcontext
    def current(**kwargs):
        if _said_ahead(kwargs.get("directory")):
            return None
        return click.get_current_context().invoke(callback, **kwargs)

    wrapped = _AheadAware(
        "current",
        params=original.params,
        callback=current,
        help=original.help,
        short_help=original.short_help,
    )
    wrapped.ahead_aware, wrapped.unwrapped = wrap_current, original
    db_group.add_command(wrapped, "current")


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
