"""Every `flask db` command fails with one line that says what to do, and its exit code.

Flask-Migrate's commands (upgrade, current, stamp, ...) and ours alike: Alembic's CommandError, a
revision file that does not load (its file and line), a database error (the revision that raised
it), a database that is not running (with the host's hint, e.g. `make db`). Flask-Migrate's own
handler would log "Error: ..." and exit 1 before the message could say which case it is, so its
commands are given the unwrapped functions and this layer words the error once.
"""

from __future__ import annotations

import functools
import re

import click
import psycopg2
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from flask import g
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError

from safemigrate.cli import host
from safemigrate.errors import (
    EXIT_FAILED,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    DatabaseUnreachable,
    SafeMigrateError,
    error_summary,
    source_origin,
)

# Alembic's CommandError and the revision map's ResolutionError for a revision the files do not have.
_UNKNOWN_REVISION = re.compile(
    r"(?:Can't locate revision identified by|No such revision or branch) '([^']*)'"
)

# Marks a command whose callback is already wrapped: the `db` group is global and every create_app()
# registers again.
_WRAPPED = "safemigrate_one_line"


class CommandFailed(click.ClickException):
    """`Error: <one line>`, with the exit code of the failure."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED):
        super().__init__(message)
        self.exit_code = exit_code


def one_line_errors(db_group: click.Group) -> None:
    """Wrap every command of the group (call it once all of them are added)."""
    _unwrap_flask_migrate()
    for command in db_group.commands.values():
        if command.callback is not None and not getattr(command.callback, _WRAPPED, False):
            command.callback = _one_line(command.callback)


def _unwrap_flask_migrate() -> None:
    """Flask-Migrate's commands call its functions wrapped in `catch_errors` (log, exit 1): call the
    functions themselves, so their CommandError reaches `_one_line`."""
    import flask_migrate
    import flask_migrate.cli as flask_migrate_cli

    for name, value in vars(flask_migrate_cli).items():
        original = getattr(value, "__wrapped__", None)
        if (
            name.startswith("_")
            and original is not None
            and getattr(value, "__module__", "") == "flask_migrate"
        ):
            setattr(flask_migrate_cli, name, original)
    del flask_migrate  # imported for its side effect only: flask_migrate.cli needs it loaded


def _one_line(callback):
    # with_appcontext keeps the app context open until the command ends, so the except clauses
    # below can still ask the host (its migrations folder, its database, its hint).
    @with_appcontext
    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except click.ClickException as exc:
            if _connection_failed(exc):
                exc.message = _with_hint(exc.message)
            raise
        except (click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 (every failure becomes one line; see describe())
            raise describe(exc) from None

    setattr(run, _WRAPPED, True)
    return run


def describe(exc: Exception) -> CommandFailed:
    """The one line (and exit code) for an error that reached a `flask db` command."""
    if isinstance(exc, DatabaseUnreachable):
        return CommandFailed(_with_hint(str(exc)), exc.exit_code)
    if isinstance(exc, SafeMigrateError):
        return CommandFailed(str(exc), exc.exit_code)
    if isinstance(exc, CommandError | RevisionError):
        return _command_error(str(exc))
    if isinstance(exc, SyntaxError | ImportError):
        return CommandFailed(f"cannot load {source_origin(exc)}")
    if _connection_failed(exc):
        return CommandFailed(
            _with_hint(f"cannot connect to the database: {error_summary(exc)}"), EXIT_UNREACHABLE
        )
    if isinstance(exc, DBAPIError):
        return CommandFailed(f"{source_origin(exc)}{_rolled_back(exc)}")
    return CommandFailed(f"unexpected error: {source_origin(exc)}")


def _connection_failed(exc: BaseException | None) -> bool:
    """`exc`, or an error it was raised from or while handling, is a connection that failed to open
    (an OperationalError without a SQLSTATE: server down, wrong host), not a failing statement."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        original = exc.orig if isinstance(exc, DBAPIError) else exc
        if isinstance(original, psycopg2.OperationalError) and original.pgcode is None:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _rolled_back(exc: BaseException) -> str:
    # One transaction per revision (app/extensions.py): a revision that raised was rolled back.
    import traceback

    in_a_revision = any("/versions/" in frame.filename for frame in traceback.extract_tb(exc.__traceback__))
    return (
        " (that revision was rolled back; `flask db current` shows the last one applied)"
        if in_a_revision
        else ""
    )


def _with_hint(message: str) -> str:
    # The hint first: what to do, then what failed (for a dev server, a socket file nobody knows).
    hint = host.unreachable_hint()
    return f"{hint} ({message})" if hint else message


def _command_error(text: str) -> CommandFailed:
    first = text.strip().splitlines()[0] if text.strip() else "alembic command failed"
    if first.startswith("Target database is not up to date"):
        return _not_up_to_date()
    if first.startswith("Multiple head revisions are present"):
        # Refused, as the release runner refuses several heads (exit 6).
        return CommandFailed(f"{_several_heads()}, or name the one to use", EXIT_REFUSED)
    unknown = _UNKNOWN_REVISION.search(first)
    if unknown:
        return _unknown_revision(unknown.group(1))
    return CommandFailed(first)


def _heads() -> tuple[str, ...]:
    from safemigrate.state import script_directory

    return tuple(script_directory(host.migrations_directory(_directory_given())).get_heads())


def _directory_given() -> str | None:
    """The command's -d/--directory, or the `db` group's (Flask-Migrate keeps that one in `g`)."""
    context = click.get_current_context(silent=True)
    given = context.params.get("directory") if context else None
    return given or getattr(g, "directory", None)


def _several_heads() -> str:
    return (
        f"the revisions have several heads ({', '.join(sorted(_heads()))}): "
        "merge them with `flask db merge heads` (make merge)"
    )


def _database_revisions() -> tuple[str, ...] | None:
    from sqlalchemy.exc import SQLAlchemyError

    from safemigrate.state import current_heads

    try:
        with host.engine().connect() as connection:
            return current_heads(connection)
    except SQLAlchemyError:
        return None


def _not_up_to_date() -> CommandFailed:
    """Alembic says the same for a database behind head and for scripts with several heads."""
    heads = _heads()
    if len(heads) > 1:
        return CommandFailed(f"{_several_heads()}, then run `flask db migrate` again", EXIT_REFUSED)
    current = _database_revisions()
    at = f" (at {', '.join(current) or 'no revision'}, head is {heads[0]})" if current is not None else ""
    return CommandFailed(
        f"the database is behind the revisions{at}: apply them first with `flask db upgrade` (make upgrade)"
    )


def _unknown_revision(revision: str) -> CommandFailed:
    current = _database_revisions() or ()
    if revision and any(revision in applied for applied in current):
        # Refused, as the release runner refuses a database newer than its code (exit 6).
        return CommandFailed(
            f"the database is at revision {revision}, which migrations/versions does not have "
            "(applied from another branch or checkout): check that code out and `flask db downgrade` to a "
            "revision both share, or, on a development database whose schema matches a revision here, "
            "`flask db stamp --purge <revision>`",
            EXIT_REFUSED,
        )
    return CommandFailed(f"no revision {revision!r} in migrations/versions (`flask db history` lists them)")
