"""The stairway: every revision goes up, down and up again, walked once on one database.

From base to head, each revision is applied, its downgrade must bring the database back to the
revision below, and its upgrade must work again after that downgrade. One connection and one
parsed ScriptDirectory serve the whole walk, so its cost grows linearly with the history (a fresh
database and a full replay per revision, through Alembic's commands that re-read every file per
call, grows with its square: about 11 minutes at 500 revisions).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from safemigrate.errors import SafeMigrateError
from safemigrate.state import alembic_config, run_scripts


class StairwayError(SafeMigrateError, AssertionError):
    """A step of the stairway failed; the message names the revision and the step."""


def base_to_head(scripts: ScriptDirectory) -> list[Script]:
    """The revisions in order, base first. The stairway walks a linear history (the release runner
    refuses several heads too); a branch or a merge point is refused with its revision named."""
    chain = list(reversed(list(scripts.walk_revisions())))
    for previous, script in zip([None, *chain], chain, strict=False):
        expected = previous.revision if previous else None
        if script.down_revision != expected:
            raise StairwayError(
                f"revision {script.revision}: the stairway walks a linear history, "
                f"and this revision branches or merges (down_revision {script.down_revision!r})"
            )
    return chain


def current_revision(connection: Connection) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    connection.rollback()  # env.py must find the connection outside a transaction
    return heads[0] if len(heads) == 1 else (None if not heads else ",".join(heads))


def walk_stairway(
    engine: Engine,
    directory: Path,
    *,
    scripts: ScriptDirectory | None = None,
    on_step: Callable[[Script], None] | None = None,
) -> list[str]:
    """Walk the stairway on the (empty) database behind `engine`; return the revisions walked.

    Raises StairwayError naming the revision whose upgrade, downgrade or second upgrade failed or
    left the database at another revision. The database ends at head. `on_step` is called after
    each revision's round trip (progress, timing).
    """
    scripts = scripts or ScriptDirectory(str(directory))
    chain = base_to_head(scripts)
    walked = []
    with engine.connect() as connection:
        config = alembic_config(connection, directory=directory)
        if current_revision(connection) is not None:
            raise StairwayError("the stairway starts on an empty database")
        for script in chain:
            revision, down = script.revision, script.down_revision
            steps = (
                ("upgrade", "upgrade", revision, revision),
                ("downgrade", "downgrade", down or "base", down),
                ("upgrade after its downgrade", "upgrade", revision, revision),
            )
            for label, direction, destination, expected in steps:
                try:
                    run_scripts(config, scripts, direction, destination)
                except Exception as exc:
                    raise StairwayError(f"revision {revision}: {label} failed: {exc}") from exc
                reached = current_revision(connection)
                if reached != expected:
                    raise StairwayError(
                        f"revision {revision}: {label} left the database at {reached or 'base'}, "
                        f"expected {expected or 'base'}"
                    )
            walked.append(revision)
            if on_step:
                on_step(script)
    return walked
