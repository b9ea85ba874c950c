"""The release runner's sessions: connecting with backoff, refusing a transaction pooler, and the
migration lock (taken by polling, re-taken after a lost connection, verified before every step).

The lock is a session-level advisory lock on a dedicated connection: PostgreSQL releases it when
that session ends, so a killed runner never leaves a stale lock behind. The flip side is that a
lost session means a lost lock: `verify()` checks before every revision (and between retries)
that the session is alive and pg_locks still shows the lock, and stops the release otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import select
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from safemigrate.errors import error_summary
from safemigrate.release.errors import (
    ConnectFailed,
    LockLost,
    LockNotAcquired,
    PoolerRefused,
    classify_outside_revision,
    is_connection_lost,
)

log = logging.getLogger("run_migration")

# One lock for every runner of this project's schema (advisory locks are per database).
ADVISORY_LOCK_KEY = int.from_bytes(hashlib.sha256(b"run_migration:schema").digest()[:8], "big", signed=True)
# How pg_locks shows a bigint advisory key: high and low 32 bits, objsubid 1.
_LOCK_CLASSID = (ADVISORY_LOCK_KEY >> 32) & 0xFFFFFFFF
_LOCK_OBJID = ADVISORY_LOCK_KEY & 0xFFFFFFFF
_HELD_SQL = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
    f"AND granted AND classid = {_LOCK_CLASSID} AND objid = {_LOCK_OBJID} AND objsubid = 1"
)
_HELD = sa.text(_HELD_SQL)

POOLER_REFUSAL = (
    "the database URL goes through a connection pooler or proxy, not straight to PostgreSQL: behind a "
    "transaction-pooling connection pooler (e.g. PgBouncer with pool_mode=transaction) the migration "
    "lock and settings get no server session of their own; set MIGRATION_DATABASE_URL to a direct "
    "connection to PostgreSQL (nothing was changed)"
)


def where(url: URL) -> str:
    host = url.host or url.query.get("host") or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"database {url.database!r} on {host}{port}"


def connect(
    engine: Engine, deadline: float, wait: float, sleep: Callable[[float], None], what: str = ""
) -> Connection:
    """Connect, retrying with backoff until `deadline` (the database may still be booting).

    `what` names a server other than the primary in the messages ("replica ")."""
    delay = 0.25
    while True:
        try:
            return engine.connect()
        except OperationalError as exc:
            reason = error_summary(exc)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConnectFailed(
                    f"could not connect to {what}{where(engine.url)} within {wait:g}s: {reason}"
                ) from None
            log.info("%sdatabase not reachable yet (%s); retrying", what, reason)
            sleep(min(delay, remaining))
            delay = min(delay * 2, 2.0)


def _backend_pid(connection: Connection) -> int:
    pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    connection.commit()
    return pid


def refuse_transaction_pooler(first: Connection, second: Connection) -> None:
    """Raise PoolerRefused unless both connections go straight to a PostgreSQL backend.

    PostgreSQL tells each client its backend's pid when the connection starts (BackendKeyData, what
    libpq's PQbackendPID returns); directly, pg_backend_pid() in any transaction is that pid. A pooler
    makes up that key for its clients (it is theirs to cancel with; PgBouncer draws it at random), so
    the two differ on every pooled connection, whatever the pool does with other clients meanwhile.
    Comparing the pids two clients see over a few transactions was not enough: a transaction pooler
    may keep handing each client a server connection of its own while the probe lasts (other
    runners' transactions in between, round robin), and the runner then locked and applied through
    it. A session pooler cannot be told apart from that by a client, so it is refused too.
    Reads pg_backend_pid() only: nothing is set, locked or written.
    """
    pids = []
    for connection in (first, second):
        dbapi_connection: Any = connection.connection.dbapi_connection  # psycopg2's: get_backend_pid()
        announced = dbapi_connection.get_backend_pid()
        pids.append(_backend_pid(connection))
        if pids[-1] != announced:
            raise PoolerRefused(POOLER_REFUSAL)
    if pids[0] == pids[1]:  # a proxy that passes one backend's key on to every client
        raise PoolerRefused(POOLER_REFUSAL)


def _lost(before: str, why: str) -> str:
    return (
        f"lost the migration lock before {before}: {why}; stopped so that no other runner applies "
        "the same revision at the same time; run again"
    )


class MigrationLock:
    """The advisory lock, held by a dedicated session for the whole release."""

    def __init__(self, engine: Engine, wait: float, sleep: Callable[[float], None] = time.sleep):
        self.engine = engine
        self.wait = wait
        self.sleep = sleep
        self.connection: Connection | None = None
        self._watcher: threading.Thread | None = None
        self._stopping = threading.Event()
        self.lost: str | None = None

    def open(self, deadline: float) -> Connection:
        self.connection = connect(self.engine, deadline, self.wait, self.sleep)
        return self.connection

    @property
    def _session(self) -> Connection:
        assert self.connection is not None, "the lock's session is used between open() and close()"
        return self.connection

    def acquire(self, deadline: float) -> None:
        """Poll pg_try_advisory_lock until `deadline`; a lost session is re-opened within it."""
        announced = False
        while True:
            try:
                got = self._session.execute(
                    sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                ).scalar_one()
                self._session.commit()
            except DBAPIError as exc:
                if not is_connection_lost(exc):
                    role = self.engine.url.username
                    raise classify_outside_revision(exc, role, "taking the migration lock") from None
                log.warning(
                    "lost the connection while waiting for the migration lock (%s); reconnecting",
                    error_summary(exc),
                )
                self._discard()
                self.open(deadline)
                continue
            if got:
                return
            if time.monotonic() >= deadline:
                raise LockNotAcquired(f"another runner still holds the migration lock after {self.wait:g}s")
            if not announced:
                log.info("another runner is migrating; waiting for the migration lock")
                announced = True
            self.sleep(0.2 + random.random() * 0.3)  # noqa: S311 (jitter, not security)

    def watch(self) -> None:
        """From now on a thread watches the lock session, so the end of that session (a terminated
        backend, a dropped connection) is noticed at once and verify() costs no round trip before
        each revision.

        The thread waits on the session's socket, not in a query: a backend running a statement (even
        `pg_sleep`) holds a snapshot, and CREATE INDEX CONCURRENTLY on the migration session waits for
        every older snapshot to finish, so a sleeping lock session would make each concurrent build
        hit lock_timeout. An idle session holds none. PostgreSQL sends nothing to an idle session
        except when it ends it; when the socket turns readable, or once a second, the thread checks
        the lock with one short query in its own transaction."""
        if self._watcher is not None:
            return
        self.verify("applying the first revision")  # one real check, on the session itself
        self._wake = os.pipe()  # written to by _stop_watching, so the thread leaves its select at once
        self._watcher = threading.Thread(target=self._watch, name="run_migration lock watch", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        # The raw DBAPI connection: this thread is the only user of the lock session from now on. It is
        # psycopg2's: fileno(), a cursor as a context manager are beyond SQLAlchemy's DBAPI protocol.
        dbapi_connection: Any = self._session.connection.dbapi_connection
        while not self._stopping.is_set():
            with contextlib.suppress(OSError, ValueError):
                select.select([dbapi_connection.fileno(), self._wake[0]], [], [], 1.0)
            if self._stopping.is_set():
                return
            try:
                with dbapi_connection.cursor() as cursor:
                    cursor.execute(_HELD_SQL)
                    held = cursor.fetchone()[0]
                dbapi_connection.commit()
            except (psycopg2.Error, OSError) as exc:
                if not self._stopping.is_set():
                    self.lost = error_summary(exc)
                return
            if not held:
                self.lost = "pg_locks no longer shows it"
                return

    def verify(self, before: str) -> None:
        """Raise LockLost unless our session is alive and still holds the lock."""
        if self._watcher is not None:
            if self.lost or not self._watcher.is_alive():
                raise LockLost(_lost(before, f"its session ended ({self.lost or 'watcher stopped'})"))
            return
        try:
            held = self._session.execute(_HELD).scalar_one()
            self._session.commit()  # an open transaction would hold back CREATE INDEX CONCURRENTLY
        except DBAPIError as exc:
            raise LockLost(_lost(before, f"its session ended ({error_summary(exc)})")) from None
        if not held:
            raise LockLost(_lost(before, "pg_locks no longer shows it"))

    def _stop_watching(self) -> None:
        if self._watcher is None:
            return
        self._stopping.set()
        os.write(self._wake[1], b"x")
        self._watcher.join(timeout=1.0)  # at most one short query away
        dbapi_connection: Any = self._session.connection.dbapi_connection  # psycopg2's: cancel()
        while self._watcher.is_alive():  # that query is stuck (a dead network): cancel it
            with contextlib.suppress(psycopg2.Error):
                dbapi_connection.cancel()
            self._watcher.join(timeout=0.1)
        for fd in self._wake:
            os.close(fd)
        self._watcher = None

    def _discard(self) -> None:
        with contextlib.suppress(DBAPIError):
            self._session.invalidate()
            self._session.close()
        self.connection = None

    def close(self) -> None:
        if self.connection is not None:
            self._stop_watching()
            if self.lost:  # the session is gone: nothing to roll back, do not hand it back to the pool
                self._discard()
                return
            with contextlib.suppress(DBAPIError):
                self.connection.close()
            self.connection = None
