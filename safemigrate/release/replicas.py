"""The read replicas (hot standbys) the runner is told about: MIGRATION_REPLICA_URLS.

An ACCESS EXCLUSIVE lock taken on the primary, even for an instant (ADD COLUMN, DROP INDEX), is
written to WAL and replayed on every hot standby. There the replay waits for any standby query that
holds a lock on the table (up to max_standby_streaming_delay, 30 s by default), and every new standby
query on it queues behind the replay: the primary's lock_timeout does not protect readers on replicas.
So, with replicas configured, the runner:

- opens a read-only session on each before taking the migration lock, and refuses a URL that is
  not a standby (pg_is_in_recovery() false) or does not answer, with nothing touched;
- before each revision, looks on every standby for transactions holding a lock on a relation of the
  migrated database and open for longer than the primary's lock_timeout (`blockers`). A revision's
  SQL is not known before it runs, so any such lock counts, idle-in-transaction sessions included
  (they hold their locks as long as an active query does); a younger transaction is presumed to end
  within about lock_timeout, as on the primary. The runner waits and retries as for a lock timeout;
- after each revision, waits (bounded by MIGRATION_REPLICA_WAIT) until every standby has replayed the
  primary's WAL up to the position taken after the commit, so that the next revision's locks do not
  pile onto a lagging replay.

A standby that cannot be reached at the start, or stops answering, is one line and exit 3.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError

from safemigrate.errors import error_summary
from safemigrate.release.errors import ConnectFailed, UsageError
from safemigrate.release.lock import connect, where

# Every probe is a catalog read: a standby that takes longer than this is not answering.
_PROBE_TIMEOUT_MS = 5000
_BLOCKERS = sa.text(
    """
    SELECT a.pid, extract(epoch FROM clock_timestamp() - a.xact_start) AS seconds, a.state
    FROM pg_stat_activity AS a
    WHERE a.pid <> pg_backend_pid()
      AND a.xact_start < clock_timestamp() - make_interval(secs => :older_than_ms / 1000.0)
      AND EXISTS (
        SELECT 1 FROM pg_locks AS l
        WHERE l.pid = a.pid AND l.locktype = 'relation' AND l.granted
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      )
    ORDER BY a.xact_start
    """
)
_REPLAYED = sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:target AS pg_lsn)")


@dataclass(frozen=True)
class Blocker:
    """A standby transaction whose locks would hold back the replay of an ACCESS EXCLUSIVE lock."""

    replica: str
    pid: int
    seconds: float
    state: str

    def describe(self) -> str:
        held = f"pid {self.pid} ({self.state}) has held table locks for {self.seconds:.1f}s"
        return f"replica {self.replica}: {held}"


class ReplicaLost(ConnectFailed):
    """A standby stopped answering during the release."""


def _engine(url: URL, application_name: str) -> Engine:
    options = f"-c default_transaction_read_only=on -c statement_timeout={_PROBE_TIMEOUT_MS}"
    return sa.create_engine(
        url,
        poolclass=sa.pool.NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"application_name": application_name, "connect_timeout": 5, "options": options},
    )


class Replicas:
    """Read-only sessions on the standbys, and one on the primary to read its WAL position."""

    def __init__(self, primary: URL, urls: tuple[URL, ...], wait: float, sleep: Callable[[float], None]):
        self.urls = urls
        self.wait = wait
        self.sleep = sleep
        self.primary_engine = _engine(primary, "run_migration:replicas") if urls else None
        self.engines = [_engine(url, "run_migration:replica") for url in urls]
        self.connections: list[Connection] = []
        self.primary: Connection | None = None

    def __bool__(self) -> bool:
        return bool(self.urls)

    def open(self, deadline: float) -> None:
        """Connect to every standby and check it is one; UsageError or ConnectFailed otherwise."""
        for engine in self.engines:
            connection = connect(engine, deadline, self.wait, self.sleep, what="replica ")
            self.connections.append(connection)
            in_recovery = self._probe(
                connection, "checking it is a standby", sa.text("SELECT pg_is_in_recovery()")
            )
            if not in_recovery:
                raise UsageError(
                    f"MIGRATION_REPLICA_URLS names a primary, not a standby: {where(engine.url)} is not in "
                    "recovery (pg_is_in_recovery() is false); give only read replicas (nothing was changed)"
                )
        if self.primary_engine is not None:
            self.primary = connect(self.primary_engine, deadline, self.wait, self.sleep)

    def blockers(self, older_than_ms: int) -> list[Blocker]:
        """Standby transactions holding relation locks for longer than `older_than_ms`, oldest first."""
        found: list[Blocker] = []
        for connection in self.connections:
            rows = self._probe(
                connection, "looking for long queries", _BLOCKERS, older_than_ms=older_than_ms, all_rows=True
            )
            found.extend(
                Blocker(_name(connection), pid, float(seconds), state or "?") for pid, seconds, state in rows
            )
        return found

    def wal_position(self) -> str:
        """The primary's WAL insert position: everything committed so far lies before it."""
        assert self.primary is not None
        try:
            return self.primary.exec_driver_sql("SELECT pg_current_wal_insert_lsn()").scalar_one()
        except DBAPIError as exc:
            raise ReplicaLost(
                f"lost the connection to the primary while reading its WAL position: {error_summary(exc)}"
            ) from None

    def wait_for_replay(self, target: str, limit: float) -> tuple[float, list[str]]:
        """Poll until every standby has replayed `target`, for at most `limit` seconds.

        Returns (seconds waited, the standbys still behind)."""
        started = time.monotonic()
        behind = list(self.connections)
        delay = 0.005
        while True:
            behind = [
                c for c in behind if not self._probe(c, "waiting for its replay", _REPLAYED, target=target)
            ]
            waited = time.monotonic() - started
            if not behind or waited >= limit:
                return waited, [_name(c) for c in behind]
            self.sleep(min(delay, limit - waited))
            delay = min(delay * 2, 0.25)

    def _probe(
        self,
        connection: Connection,
        doing: str,
        statement: sa.TextClause,
        all_rows: bool = False,
        **params: Any,
    ) -> Any:
        try:
            result = connection.execute(statement, params)
            return result.all() if all_rows else result.scalar_one()
        except DBAPIError as exc:
            raise ReplicaLost(
                f"replica {_name(connection)} stopped answering while {doing}: {error_summary(exc)}"
            ) from None

    def close(self) -> None:
        for connection in [*self.connections, *([self.primary] if self.primary else [])]:
            with contextlib.suppress(DBAPIError):  # a standby that went away: nothing left to close
                connection.close()
        for engine in [*self.engines, *([self.primary_engine] if self.primary_engine else [])]:
            engine.dispose()


def _name(connection: Connection) -> str:
    return where(connection.engine.url)
