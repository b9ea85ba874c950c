"""Where the database's schema stands against the code's migration scripts."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection

from safemigrate.library_compat import downgrade_steps, upgrade_steps


@functools.cache
def script_directory(directory: Path) -> ScriptDirectory:
    """The revision scripts (parsed once per process: they do not change under a running app)."""
    return ScriptDirectory(str(directory))


def alembic_config(
    connection: Connection | None = None,
    *,
    url: str | None = None,
    directory: Path,
    **attributes: object,
) -> AlembicConfig:
    """An Alembic config for the migration scripts in `directory`, usable without a Flask app.

    Pass `connection` to run online against it, or `url` for offline (--sql) output.
    """
    config = AlembicConfig(str(Path(directory) / "alembic.ini"))
    config.set_main_option("script_location", str(directory))
    # The caller owns logging; env.py must not reconfigure it.
    config.attributes.update(configure_logging=False, connection=connection, url=url, **attributes)
    return config


def run_scripts(
    config: AlembicConfig,
    scripts: ScriptDirectory,
    direction: str,
    destination: str | tuple[str, ...],
    *,
    starting_rev: str | tuple[str, ...] | None = None,
    sql: bool = False,
    steps: Callable[[tuple[str, ...], MigrationContext], Iterable[MigrationStep]] | None = None,
) -> None:
    """`command.upgrade` / `command.downgrade` on an already parsed ScriptDirectory.

    Alembic's commands build a new ScriptDirectory per call and so execute every revision file
    again: called once per revision, a long history becomes quadratic. Callers that run many
    steps (the release runner, the review, the stairway) parse once and pass `scripts` here.
    `direction` is "upgrade" or "downgrade"; `starting_rev` is the offline (--sql) range start.
    `steps(current_heads, context)`, when given, yields the steps to run instead of Alembic walking
    the history to `destination`; as a generator, its code between two yields runs between two
    revisions, after the first one's transaction committed (the release runner's hooks).
    """
    if direction not in ("upgrade", "downgrade"):
        raise ValueError(f"direction must be upgrade or downgrade, not {direction!r}")
    step = upgrade_steps if direction == "upgrade" else downgrade_steps

    def revisions(rev: tuple[str, ...], context: MigrationContext) -> Iterable[MigrationStep]:
        return steps(rev, context) if steps is not None else step(scripts, destination, rev)

    with EnvironmentContext(
        config,
        scripts,
        fn=revisions,
        as_sql=sql,
        starting_rev=starting_rev,
        destination_rev=destination,
    ):
        scripts.run_env()


@dataclass(frozen=True)
class SchemaState:
    current: tuple[str, ...]
    heads: tuple[str, ...]
    known: bool

    @property
    def at_head(self) -> bool:
        return self.known and set(self.current) == set(self.heads)

    @property
    def reason(self) -> str | None:
        """Why the schema is not ready, or None when it is."""
        if self.at_head:
            return None
        if not self.known:
            return "database is at a revision this code does not know (database ahead of the code?)"
        if not self.current:
            return "database has no migrations applied"
        return "database is behind the code's head: migrations are pending"


def current_heads(connection: Connection) -> tuple[str, ...]:
    """The database's revisions (alembic_version), read without Alembic's "Context impl" / "Will
    assume transactional DDL" INFO lines: those belong to the command's own migration, not to every
    look at the version table (`flask db upgrade` printed them three times)."""
    log = logging.getLogger("alembic.runtime.migration")
    was_disabled, log.disabled = log.disabled, True
    try:
        return tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        log.disabled = was_disabled


def read_schema_state(connection: Connection, scripts: ScriptDirectory) -> SchemaState:
    current = current_heads(connection)
    known = all(is_known_revision(scripts, rev) for rev in current)
    return SchemaState(current=current, heads=tuple(scripts.get_heads()), known=known)


def read_applied(connection: Connection, scripts: ScriptDirectory) -> set[str]:
    """Every revision the database has applied: its current heads and all their ancestors."""
    current = current_heads(connection)
    if not current:
        return set()
    return {script.revision for script in scripts.iterate_revisions(current, "base")}


def is_known_revision(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


# Which revisions a squash (safemigrate/squash/) stands for: facts of the scripts, read by the ledger
# (validate) and the squash guard alike.
def squash_revisions(scripts: ScriptDirectory) -> list[Script]:
    return [s for s in scripts.walk_revisions() if getattr(s.module, "replaces", None)]


def replaced_by_squash(scripts: ScriptDirectory) -> dict[str, str]:
    """Every revision a squash stands for (the replaced ones and the squash's own, whose file it
    rewrote) -> the squash's revision. A ledger that recorded the old files finds them gone or
    changed: that is the squash, not an edit."""
    covered: dict[str, str] = {}
    for squash in squash_revisions(scripts):
        covered[squash.revision] = squash.revision
        covered.update(dict.fromkeys(squash.module.replaces, squash.revision))
    return covered
