"""The stairway: every revision goes up, down and up again, walked once on one database.

From base to head, each revision is applied, its downgrade must bring the database back to the
revision below, and its upgrade must work again after that downgrade. One connection and one
parsed ScriptDirectory serve the whole walk, so its cost grows linearly with the history (a fresh
database and a full replay per revision, through Alembic's commands that re-read every file per
call, grows with its square: about 11 minutes at 500 revisions).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from safemigrate.errors import Irreversible, SafeMigrateError
from safemigrate.library_compat import normalized_down_revisions
from safemigrate.state import alembic_config, run_scripts

log = logging.getLogger("safemigrate.stairway")


class StairwayError(SafeMigrateError, AssertionError):
    """A step of the stairway failed; the message names the revision and the step."""


def base_to_head(scripts: ScriptDirectory) -> list[Script]:
    """The revisions in order, base first, each after everything below it (branches and merges
    included). Several heads are refused, as the release runner refuses them: merge them first."""
    heads = scripts.get_heads()
    if len(heads) > 1:
        raise StairwayError(
            f"the history has {len(heads)} heads ({', '.join(sorted(heads))}): the stairway walks a "
            'history with one head; merge them first with `flask db merge heads -m "merge heads"`'
        )
    return list(reversed(list(scripts.walk_revisions())))


def current_heads(connection: Connection) -> set[str]:
    heads = MigrationContext.configure(connection).get_current_heads()
    connection.rollback()  # env.py must find the connection outside a transaction
    return set(heads)


def walk_stairway(
    engine: Engine,
    directory: Path,
    *,
    scripts: ScriptDirectory | None = None,
    on_step: Callable[[Script], None] | None = None,
    on_irreversible: Callable[[Script, str], None] | None = None,
) -> list[str]:
    """Walk the stairway on the (empty) database behind `engine`; return the revisions walked.

    Raises StairwayError naming the revision whose upgrade, downgrade or second upgrade failed or
    left the database at other heads. The database ends at head. `on_step` is called after each
    revision's round trip (progress, timing). Each step is that one revision, as Alembic applies it
    on the way up (a merge joins its branches, a branch's first revision starts one) and undoes it on
    the way down (a merge splits them again), so a merged history is walked like a linear one.
    A revision whose downgrade raises Irreversible is walked up only (its transaction rolled back, the
    database must still be at it); `on_irreversible(script, why)` hears of it, else it is logged.
    """
    scripts = scripts or ScriptDirectory(str(directory))
    chain = base_to_head(scripts)
    revision_map = scripts.revision_map
    walked = []
    with engine.connect() as connection:
        config = alembic_config(connection, directory=directory)
        if current_heads(connection):
            raise StairwayError("the stairway starts on an empty database")
        for script in chain:
            revision = script.revision
            below = current_heads(connection)
            above = (below - set(normalized_down_revisions(script))) | {revision}
            up = MigrationStep.upgrade_from_script(revision_map, script)
            down = MigrationStep.downgrade_from_script(revision_map, script)
            steps = (
                ("upgrade", "upgrade", up, above),
                ("downgrade", "downgrade", down, below),
                ("upgrade after its downgrade", "upgrade", up, above),
            )
            for label, direction, step, expected in steps:
                try:
                    run_scripts(config, scripts, direction, revision, steps=_only(step))
                except Irreversible as exc:
                    connection.rollback()
                    if current_heads(connection) != above:
                        raise StairwayError(
                            f"revision {revision}: its downgrade raised Irreversible after changing the "
                            f"database (now at {_heads(current_heads(connection))})"
                        ) from exc
                    (on_irreversible or _log_irreversible)(script, str(exc))
                    break
                except Exception as exc:
                    raise StairwayError(f"revision {revision}: {label} failed: {exc}") from exc
                reached = current_heads(connection)
                if reached != expected:
                    raise StairwayError(
                        f"revision {revision}: {label} left the database at {_heads(reached)}, "
                        f"expected {_heads(expected)}"
                    )
            walked.append(revision)
            if on_step:
                on_step(script)
    return walked


def _log_irreversible(script: Script, why: str) -> None:
    log.warning("revision %s is irreversible (%s): its downgrade was not walked", script.revision, why)


def _heads(heads: set[str]) -> str:
    return ",".join(sorted(heads)) or "base"


def _only(step: MigrationStep) -> Callable[[tuple[str, ...], MigrationContext], list[MigrationStep]]:
    """run_scripts' `steps`: exactly `step`, whatever the database's heads."""
    return lambda _heads, _context: [step]
