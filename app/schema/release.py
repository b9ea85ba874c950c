"""The release-phase migration runner: what `python run_migration.py` does.

Stock `flask db upgrade` assumes one runner, an idle database and a happy path. This runner
is built for a Heroku-style release phase, where the old version keeps serving meanwhile:

- it waits for a database that is still booting (bounded by `wait`);
- several runners at once are serialised by a session-level advisory lock, taken by polling
  (a blocked `pg_advisory_lock` can deadlock against CREATE INDEX CONCURRENTLY in the holder),
  and released by PostgreSQL itself when a runner dies;
- it refuses a plan it cannot trust (several heads, a database newer than the code);
- each revision runs in its own transaction under a short `lock_timeout`, so live queries wait
  at most that long behind a blocked ALTER; a lock timeout is retried with backoff and jitter.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from app.schema.squash.guard import squash_refusal
from app.schema.state import MIGRATIONS_DIR, alembic_config, is_known_revision, offline_sql
from config import error_summary

log = logging.getLogger("run_migration")

# One lock for every runner of this project's schema (advisory locks are per database).
ADVISORY_LOCK_KEY = int.from_bytes(hashlib.sha256(b"run_migration:schema").digest()[:8], "big", signed=True)
LOCK_NOT_AVAILABLE = "55P03"


# Exit codes of run_migration.py (documented in its --help, README.md and MIGRATIONS.md).
EXIT_OK = 0
EXIT_MIGRATION_FAILED = 1
EXIT_USAGE = 2
EXIT_CONNECT = 3
EXIT_LOCK = 4
EXIT_PENDING = 5
EXIT_REFUSED = 6


class ReleaseError(Exception):
    """A failure with an exit code and a one-line message for the operator."""

    exit_code = EXIT_MIGRATION_FAILED


class MigrationFailed(ReleaseError):
    exit_code = EXIT_MIGRATION_FAILED


class UsageError(ReleaseError):
    exit_code = EXIT_USAGE


class ConnectFailed(ReleaseError):
    exit_code = EXIT_CONNECT


class LockNotAcquired(ReleaseError):
    exit_code = EXIT_LOCK


class PlanRefused(ReleaseError):
    exit_code = EXIT_REFUSED


@dataclass(frozen=True)
class Settings:
    url: URL
    target: str = "head"
    wait: float = 60.0
    lock_timeout_ms: int = 200
    statement_timeout_ms: int = 30 * 60 * 1000
    retry_for: float = 120.0
    directory: Path = MIGRATIONS_DIR


@dataclass(frozen=True)
class Plan:
    current: tuple[str, ...]
    target: str
    pending: tuple[Script, ...]

    def describe(self) -> str:
        current = ",".join(self.current) or "<empty database>"
        if not self.pending:
            return f"database at {current}: nothing to do"
        return f"database at {current}: {len(self.pending)} pending revision(s) up to {self.target}"


class ReleaseRunner:
    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sleep = sleep
        self.scripts = ScriptDirectory(str(settings.directory))
        self.engine = sa.create_engine(
            settings.url,
            poolclass=sa.pool.NullPool,
            connect_args={"application_name": "run_migration", "connect_timeout": 5},
        )

    # -- connections ---------------------------------------------------------------------------
    def connect(self, deadline: float) -> Connection:
        """Connect, retrying with backoff until `deadline` (the database may still be booting)."""
        delay = 0.25
        while True:
            try:
                return self.engine.connect()
            except OperationalError as exc:
                reason = error_summary(exc)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ConnectFailed(
                        f"could not connect to {_where(self.settings.url)} "
                        f"within {self.settings.wait:g}s: {reason}"
                    ) from None
                log.info("database not reachable yet (%s); retrying", reason)
                self.sleep(min(delay, remaining))
                delay = min(delay * 2, 2.0)

    def acquire_lock(self, connection: Connection, deadline: float) -> None:
        """Poll pg_try_advisory_lock on a dedicated session until `deadline`."""
        announced = False
        while True:
            got = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar_one()
            connection.commit()
            if got:
                return
            if time.monotonic() >= deadline:
                raise LockNotAcquired(
                    f"another runner still holds the migration lock after {self.settings.wait:g}s"
                )
            if not announced:
                log.info("another runner is migrating; waiting for the migration lock")
                announced = True
            self.sleep(0.2 + random.random() * 0.3)  # noqa: S311 (jitter, not security)

    def configure_session(self, connection: Connection) -> None:
        s = self.settings
        connection.exec_driver_sql(f"SET lock_timeout = {int(s.lock_timeout_ms)}")
        connection.exec_driver_sql(f"SET statement_timeout = {int(s.statement_timeout_ms)}")
        # If this runner dies mid-statement, the server notices within seconds and rolls back.
        connection.exec_driver_sql("SET client_connection_check_interval = 2000")
        connection.commit()

    # -- planning ------------------------------------------------------------------------------
    def plan(self, connection: Connection) -> Plan:
        heads = self.scripts.get_heads()
        if len(heads) > 1:
            raise PlanRefused(
                f"the migration scripts have {len(heads)} heads ({', '.join(sorted(heads))}): "
                'merge them first with `flask db merge heads -m "merge heads"`'
            )
        current = tuple(MigrationContext.configure(connection).get_current_heads())
        connection.commit()
        refusal = squash_refusal(self.scripts, current)
        if refusal:
            raise PlanRefused(refusal)
        for revision in current:
            if not is_known_revision(self.scripts, revision):
                raise PlanRefused(
                    f"the database is at revision {revision}, which this code does not know: "
                    "the code is older than the database (deploy the newer code, or downgrade with it)"
                )
        target = self._resolve_target()
        try:
            pending = tuple(reversed(list(self.scripts.iterate_revisions(target, current or "base"))))
        except (CommandError, RevisionError):
            # The target is behind the database: an upgrade has nothing to do.
            pending = ()
        return Plan(current=current, target=target, pending=pending)

    def _resolve_target(self) -> str:
        try:
            script = self.scripts.get_revision(self.settings.target)
        except CommandError as exc:
            raise UsageError(f"unknown target revision {self.settings.target!r}: {exc}") from None
        if script is None:
            raise UsageError(f"unknown target revision {self.settings.target!r}")
        return script.revision

    # -- applying ------------------------------------------------------------------------------
    def apply(self, connection: Connection, plan: Plan) -> None:
        for script in plan.pending:
            self.apply_one(connection, script)

    def apply_one(self, connection: Connection, script: Script) -> None:
        """Apply one revision in its own transaction, retrying lock timeouts within the budget."""
        budget_ends = time.monotonic() + self.settings.retry_for
        attempt = 0
        label = f"{script.revision} ({script.doc})"
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                command.upgrade(self._alembic_config(connection), script.revision)
            except DBAPIError as exc:
                connection.rollback()
                if _sqlstate(exc) != LOCK_NOT_AVAILABLE:
                    raise MigrationFailed(
                        f"revision {label} failed and was rolled back: {error_summary(exc)}"
                    ) from None
                delay = min(5.0, 0.25 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)  # noqa: S311
                if time.monotonic() + delay > budget_ends:
                    raise MigrationFailed(
                        f"revision {label} could not take its locks within {self.settings.retry_for:g}s "
                        f"({attempt} attempts of {self.settings.lock_timeout_ms} ms each): "
                        "a long transaction holds them; the database is unchanged by this revision"
                    ) from None
                log.warning(
                    "revision %s: lock not available within %d ms (attempt %d); retrying in %.2fs",
                    script.revision,
                    self.settings.lock_timeout_ms,
                    attempt,
                    delay,
                )
                self.sleep(delay)
                continue
            except Exception as exc:  # noqa: BLE001 (a revision's own Python code can raise anything)
                connection.rollback()
                raise MigrationFailed(
                    f"revision {label} failed and was rolled back: {error_summary(exc)}"
                ) from None
            log.info("applied %s in %.2fs", label, time.monotonic() - started)
            return

    def _alembic_config(self, connection: Connection):
        return alembic_config(connection, directory=self.settings.directory)

    def render_sql(self, plan: Plan) -> str:
        """The pending revisions' SQL, as `alembic upgrade --sql` renders it. Applies nothing."""
        if not plan.pending:
            return ""
        start = ",".join(plan.current)
        revision_range = f"{start}:{plan.target}" if start else plan.target
        return offline_sql(
            command.upgrade,
            revision_range,
            url=self.settings.url.render_as_string(hide_password=False),
            directory=self.settings.directory,
        )

    def close(self) -> None:
        self.engine.dispose()


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "pgcode", None)


def _where(url: URL) -> str:
    host = url.host or url.query.get("host") or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"database {url.database!r} on {host}{port}"
