"""What a failed revision left behind: the statements it had committed and the ones rolled back.

A revision normally runs in one transaction, so a failure undoes all of it. The zero-downtime
helpers (safemigrate/safe/) leave that transaction: Alembic's autocommit_block commits the work
done so far and runs the helper's statements one by one in autocommit. A revision that fails after
that is only partly rolled back. The journal listens to the migration connection and knows which
statements were committed (by a commit, or by running in autocommit) and which were still pending.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor, ExecutionContext

_READ_ONLY = re.compile(r"^\s*(SELECT|SHOW|SET|RESET|BEGIN|COMMIT|ROLLBACK)\b", re.IGNORECASE)


def _worth_reporting(statement: str) -> bool:
    """Schema or data changes; not catalogue reads, settings or Alembic's own bookkeeping."""
    return not _READ_ONLY.match(statement) and "alembic_version" not in statement


def _short(statement: str, width: int = 90) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def describe(statements: list[str], limit: int = 3) -> str:
    """`ALTER TABLE ...; CREATE INDEX ... (x2); and 3 more`: distinct statements in order."""
    counts: dict[str, int] = {}
    for statement in statements:
        key = _short(statement)
        counts[key] = counts.get(key, 0) + 1
    shown = [f"{text} (x{count})" if count > 1 else text for text, count in list(counts.items())[:limit]]
    rest = len(counts) - len(shown)
    return "; ".join(shown) + (f"; and {rest} more" if rest > 0 else "")


class StatementJournal:
    """Records the changes of the revision being applied on one connection."""

    def __init__(self, engine: Engine):
        self.target: DBAPIConnection | None = None  # the connection of the revision being applied
        self.revision: str | None = None
        self.committed: list[str] = []
        self.pending: list[str] = []
        sa.event.listen(engine, "after_cursor_execute", self._executed)
        sa.event.listen(engine, "commit", self._commit)

    def start(self, connection: Connection, revision: str) -> None:
        """Start recording the statements `revision` runs on `connection`. A retry of the same
        revision keeps what the earlier attempts committed: it is still in the database."""
        self.target = connection.connection.dbapi_connection
        if revision != self.revision:
            self.committed = []
        self.revision = revision
        self.pending = []

    def stop(self) -> None:
        self.target = None

    def _executed(
        self,
        conn: Connection,
        cursor: DBAPICursor,
        statement: str,
        parameters: object,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        dbapi_connection = cursor.connection
        if self.target is None or dbapi_connection is not self.target or not _worth_reporting(statement):
            return
        # In autocommit (inside Alembic's autocommit_block) a statement is committed as it runs.
        (self.committed if dbapi_connection.autocommit else self.pending).append(statement)

    def _commit(self, conn: Connection) -> None:
        if self.target is not None and conn.connection.dbapi_connection is self.target:
            self.committed.extend(self.pending)
            self.pending = []

    def outcome(self) -> str:
        """After a failure: what stays committed and what was rolled back, in one clause."""
        if not self.committed:
            return "rolled back"
        rolled_back = describe(self.pending) if self.pending else "nothing else"
        return (
            f"PARTLY COMMITTED: these steps stay applied: {describe(self.committed)}; "
            f"rolled back: {rolled_back}; alembic_version was not updated, so running the revision "
            "again repeats the committed steps (make them idempotent, e.g. IF NOT EXISTS, see MIGRATIONS.md)"
        )
