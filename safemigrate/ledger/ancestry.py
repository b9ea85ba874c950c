"""A database ahead of the code: may this (older) release run on it?

During a release's overlap the previous release keeps serving on a schema its successor migrated,
and a rollback runs the previous release's release phase on it. Alembic alone cannot tell that case
from a database on another branch: the newer revisions are not in this code's files. The ledger
can: every applied row records the revision's down revisions and its verdict for the release before
it (ledger/recorder.py). From the database's revision, walk the ledger down until a revision this
code knows: when that is this code's head and every revision on the way keeps the previous release
working, this release may run; otherwise it names the revision that breaks it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from safemigrate.ledger import recorder as ledger
from safemigrate.state import SchemaState, is_known_revision, read_schema_state

# The rows that ran (or adopted) each revision: they carry its ancestry and verdict; a later `repair`
# row only accepts today's file and carries neither.
_APPLIED_ROWS = sa.text(
    f"SELECT DISTINCT ON (revision) revision, direction, down_revisions, keeps_previous, compat_reason "
    f"FROM {ledger.TABLE} WHERE direction IN ('upgrade', 'adopt') ORDER BY revision, id DESC"
)


@dataclass(frozen=True)
class Ahead:
    """The revisions the database has beyond this code, newest first, and what they mean for it."""

    revisions: tuple[str, ...] = ()
    reached: tuple[str, ...] = ()  # the revisions of this code the walk reached
    breaking: tuple[tuple[str, str], ...] = ()  # (revision, why it breaks this release)
    unknown_ancestry: str | None = None  # a revision whose place in the history the ledger lacks

    @property
    def count(self) -> int:
        return len(self.revisions)

    def descends_from(self, heads: tuple[str, ...]) -> bool:
        """Whether the ledger places the database's revisions on top of `heads` (whatever they do)."""
        return self.unknown_ancestry is None and set(self.reached) == set(heads)

    def refusal(self, heads: tuple[str, ...]) -> str | None:
        """One line saying why this code must not run on the database, or None when it may."""
        if self.unknown_ancestry:
            return (
                f"the database is at revision {self.unknown_ancestry}, which this code does not know and the "
                "ledger does not place in the history: the code is older than the database (deploy the "
                "newer code, or downgrade with it)"
            )
        if set(self.reached) != set(heads):
            return (
                f"the database is at revisions this code does not know ({', '.join(self.revisions)}), on "
                f"another branch of the history (they follow {', '.join(self.reached) or 'base'}, not this "
                f"code's head {', '.join(heads)}): deploy the code that has them, or downgrade with it"
            )
        if self.breaking:
            revision, why = self.breaking[-1]  # the oldest: the first one this release cannot live with
            return (
                f"the database is {self.count} revision(s) ahead of this code, and revision {revision} "
                f"breaks this release: it {why}; deploy a release that has {revision}, or downgrade the "
                f"database to {', '.join(heads)} with the newer code first"
            )
        return None

    def summary(self) -> str:
        return (
            f"database is {self.count} revision(s) ahead of this code; all of them keep this release working"
        )


def ahead_of_code(connection: Connection, scripts: ScriptDirectory, current: tuple[str, ...]) -> Ahead | None:
    """None when every current revision is known to this code; otherwise what the ledger says."""
    unknown = [revision for revision in current if not is_known_revision(scripts, revision)]
    if not unknown:
        return None
    rows = _applied_rows(connection)
    revisions: list[str] = []
    reached: set[str] = {revision for revision in current if revision not in unknown}
    breaking: list[tuple[str, str]] = []
    pending, seen = list(unknown), set()
    while pending:
        revision = pending.pop(0)
        if revision in seen:
            continue
        seen.add(revision)
        if is_known_revision(scripts, revision):
            reached.add(revision)
            continue
        row = rows.get(revision)
        if row is None or row.down_revisions is None:
            return Ahead(tuple(revisions), tuple(sorted(reached)), tuple(breaking), unknown_ancestry=revision)
        revisions.append(revision)
        if row.keeps_previous is not True:
            why = row.compat_reason or "has no compatibility verdict in the ledger"
            if row.keeps_previous is None:
                why = f"cannot be judged ({why})"
            breaking.append((revision, why))
        downs = [down for down in row.down_revisions.split(",") if down]
        if not downs:  # a root this code does not have: another history altogether
            return Ahead(tuple(revisions), tuple(sorted(reached)), tuple(breaking))
        pending.extend(downs)
    # Reaching a known revision that is an ancestor of another reached one is the same line.
    tips = {r for r in reached if not any(r != o and _is_ancestor(scripts, r, o) for o in reached)}
    return Ahead(tuple(revisions), tuple(sorted(tips)), tuple(breaking))


def _applied_rows(connection: Connection) -> dict:
    if not ledger.exists(connection):
        return {}
    try:
        rows = connection.execute(_APPLIED_ROWS).all()
    except sa.exc.ProgrammingError:  # a ledger from before the compatibility columns
        connection.rollback()
        return {}
    return {row.revision: row for row in rows}


def _is_ancestor(scripts: ScriptDirectory, ancestor: str, descendant: str) -> bool:
    return any(s.revision == ancestor for s in scripts.iterate_revisions(descendant, "base"))


@dataclass(frozen=True)
class Readiness:
    """Whether this code may serve on the database: at its head, or ahead on compatible revisions."""

    state: SchemaState
    ahead: Ahead | None

    @property
    def reason(self) -> str | None:
        """Why this code may not serve, or None."""
        if self.ahead is not None:
            return self.ahead.refusal(self.state.heads)
        return self.state.reason


def readiness(connection: Connection, scripts: ScriptDirectory) -> Readiness:
    state = read_schema_state(connection, scripts)
    ahead = None if state.known else ahead_of_code(connection, scripts, state.current)
    return Readiness(state, ahead)
