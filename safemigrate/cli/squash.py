"""`flask db squash B -m "..."`, and `flask db upgrade` guarded against squashed ranges."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import g
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from safemigrate.cli import host
from safemigrate.cli.current import upgrade_when_ahead
from safemigrate.cli.wrapping import wrap_command
from safemigrate.errors import error_summary

EXIT_REFUSED = 6  # as the release runner's refusal


class _Refused(click.ClickException):
    exit_code = EXIT_REFUSED


@click.command("squash")
@click.argument("revision_range", metavar="B")
@click.option("-m", "--message", required=True, help="The squash revision's message.")
@click.option("-d", "--directory", default=None, help="Migration scripts folder.")
@with_appcontext
def squash_command(revision_range: str, message: str, directory: str | None):
    """One revision that brings an empty database straight to B's schema.

    It replaces the revisions from the first up to B (B or base:B; a range from another revision
    is refused), keeps B's identifier and moves the replaced files to migrations/squashed/B/.
    Built from a replayed scratch database and verified on a second one; refuses, writing nothing,
    with several heads, a range that cuts a branch, or a data migration in the range. Warns when
    the replaced files are not committed in git.
    """
    # Imported when the command runs: pglast and the rest stay out of every other flask command.
    from safemigrate.snapshot.dump import DumpError
    from safemigrate.squash.build import squash
    from safemigrate.squash.plan import SquashRefused

    url = host.engine().url
    try:
        result = squash(host.migrations_directory(directory), revision_range, message, url, echo=click.echo)
    except (SquashRefused, DumpError) as exc:
        raise _Refused(f"squash refused: {exc}") from None
    except Exception as exc:  # noqa: BLE001 (a failing revision, a server error: one line, nothing written)
        raise click.ClickException(f"squash failed, nothing written: {error_summary(exc)}") from None
    click.echo(
        f"{result.path.name}: {len(result.plan.replaced)} revisions in {result.statements} statements; "
        "review it, run `flask db lint`, then commit it with the moved files (git add -A migrations)"
    )


def guard_upgrade(db_group: click.Group) -> None:
    """Replace Flask-Migrate's `upgrade` by the same command that first refuses a database part-way
    through a squashed range (safemigrate/squash/guard.py)."""
    wrap_command(db_group, "upgrade", _guarded_upgrade)


def _guarded_upgrade(run: Callable[[], Any], options: dict[str, Any]) -> Any:
    if not options.get("sql"):
        _refuse_squashed_range(options.get("directory"))
        if upgrade_when_ahead(options.get("directory")):
            return None  # a database ahead of the code on compatible revisions: nothing to do
    return run()


def _refuse_squashed_range(directory: str | None) -> None:
    from alembic.script import ScriptDirectory

    from safemigrate.squash.guard import squash_refusal
    from safemigrate.state import current_heads

    folder = host.migrations_directory(directory or getattr(g, "directory", None))
    if not any("\nreplaces = " in path.read_text() for path in Path(folder, "versions").glob("*.py")):
        return  # no squash in this history: skip parsing it twice
    try:
        with host.engine().connect() as connection:
            current = current_heads(connection)
    except SQLAlchemyError:
        return  # the upgrade itself says why it cannot connect
    refusal = squash_refusal(ScriptDirectory(str(folder)), current)
    if refusal:
        raise _Refused(refusal)
