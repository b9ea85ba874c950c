"""The proof: the previous release's mappers on every revision from its head to the new one.

A scratch database (on the app's server) is upgraded to the previous release's head and probed once:
what fails there fails in the previous release already and is left out. Then it is upgraded one
revision at a time, probed after each; a probe that starts failing is an incompatibility of that
revision. The scratch database is dropped at the end, whatever happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from safemigrate.compat.previous import CompatError, PreviousRelease
from safemigrate.compat.probes import Failure, probe
from safemigrate.errors import error_summary
from safemigrate.scratch import ScratchUnavailable, scratch_database
from safemigrate.state import alembic_config, is_known_revision, run_scripts


@dataclass(frozen=True)
class Incompatibility:
    revision: str
    message: str
    failure: Failure

    def line(self) -> str:
        return f"revision {self.revision} ({self.message}): {self.failure.line()}"


@dataclass
class Proof:
    previous_heads: tuple[str, ...]
    head: str
    revisions: list[str] = field(default_factory=list)  # walked, oldest first
    incompatibilities: list[Incompatibility] = field(default_factory=list)
    already_failing: list[Failure] = field(default_factory=list)  # at the previous head itself
    # What the ledger's static verdict said of each walked revision (review/compat.py): True keeps,
    # False breaks, None cannot tell. The proof overrules it; a difference is worth a look.
    static: dict[str, bool | None] = field(default_factory=dict)

    @property
    def compatible(self) -> bool:
        return not self.incompatibilities


def prove(
    server_url: URL,
    scripts: ScriptDirectory,
    previous: PreviousRelease,
    *,
    on_revision: Callable[[str], None] | None = None,
    template: str | None = None,
) -> Proof:
    """Walk from the previous release's head to this code's head on a scratch database, probing.

    `template`: a database already at the previous release's head to clone the scratch one from
    (a caller proving many histories on the same base: the tests' corpus)."""
    heads = tuple(scripts.get_heads())
    if len(heads) != 1:
        raise CompatError(
            f"the migration scripts have {len(heads)} heads: merge them first (flask db merge heads)"
        )
    for old in previous.heads:
        if not is_known_revision(scripts, old):
            raise CompatError(
                f"the previous release's head {old} is not in this history: it is on another branch"
            )
    walk = [s.revision for s in reversed(list(scripts.iterate_revisions(heads[0], previous.heads)))]
    proof = Proof(previous.heads, heads[0], walk)
    try:
        with scratch_database(server_url, "compat", template=template) as scratch_url:
            _walk(scratch_url, scripts, previous, proof, on_revision)
    except ScratchUnavailable as exc:
        raise CompatError(f"cannot create a scratch database: {exc.detail}") from None
    return proof


def _walk(
    url: URL,
    scripts: ScriptDirectory,
    previous: PreviousRelease,
    proof: Proof,
    on_revision: Callable[[str], None] | None,
) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            config = alembic_config(connection, directory=Path(scripts.dir))
            for old in previous.heads:
                run_scripts(config, scripts, "upgrade", old)
            _end_transaction(connection)
            proof.already_failing = probe(connection, previous.classes)
            seen = {failure.key for failure in proof.already_failing}
            for revision in proof.revisions:
                run_scripts(config, scripts, "upgrade", revision)
                _end_transaction(connection)
                if on_revision is not None:
                    on_revision(revision)
                message = (scripts.get_revision(revision).doc or "").strip().splitlines()[0:1]
                for failure in probe(connection, previous.classes):
                    if failure.key not in seen:
                        seen.add(failure.key)
                        proof.incompatibilities.append(Incompatibility(revision, "".join(message), failure))
            proof.static = _static_verdicts(connection, proof.revisions)
    except sa.exc.SQLAlchemyError as exc:
        raise CompatError(f"the revisions do not build in a scratch database: {error_summary(exc)}") from None
    finally:
        engine.dispose()


def _end_transaction(connection: sa.Connection) -> None:
    # Alembic leaves the version read of a run with nothing to do in an open transaction; the probes
    # run in one of their own (rolled back).
    if connection.in_transaction():
        connection.commit()


def _static_verdicts(connection: sa.Connection, revisions: list[str]) -> dict[str, bool | None]:
    """The verdicts the ledger recorded as the walk applied each revision."""
    rows = connection.execute(
        sa.text(
            "SELECT DISTINCT ON (revision) revision, keeps_previous FROM migration_ledger "
            "WHERE direction = 'upgrade' AND revision = ANY(:revisions) ORDER BY revision, id DESC"
        ),
        {"revisions": revisions},
    ).all()
    connection.commit()
    return {row.revision: row.keeps_previous for row in rows}
