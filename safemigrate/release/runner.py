"""The release-phase migration runner: what `python run_migration.py` does.

Stock `flask db upgrade` assumes one runner, an idle database and a happy path. This runner
is built for a Heroku-style release phase, where the old version keeps serving meanwhile:

- it waits for a database that is still booting (bounded by `wait`);
- it refuses a connection pooler (PgBouncer) before touching anything (lock.py);
- several runners at once are serialised by a session-level advisory lock, taken by polling
  (a blocked `pg_advisory_lock` can deadlock against CREATE INDEX CONCURRENTLY in the holder),
  released by PostgreSQL itself when a runner dies, and verified before every revision;
- it refuses a plan it cannot trust (several heads, a database newer than the code unless the ledger
  shows every revision it lacks keeps this release working: ledger/ancestry.py);
- each revision runs in its own transaction under a short `lock_timeout`, so live queries wait
  at most that long behind a blocked ALTER; a lock timeout is retried with backoff and jitter;
- a failure says exactly what stays committed (journal.py) and is one line
  (errors.py).

The scripts are parsed once and every revision goes through migrations/env.py on that one
ScriptDirectory (state.run_scripts): the cost stays linear in the length of the history.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError

from safemigrate.errors import error_summary
from safemigrate.ledger.ancestry import Ahead, ahead_of_code
from safemigrate.library_compat import normalized_down_revisions
from safemigrate.offline import offline_sql
from safemigrate.release.errors import (
    EXIT_OK,
    EXIT_PENDING,
    INSUFFICIENT_PRIVILEGE,
    LOCK_NOT_AVAILABLE,
    MigrationFailed,
    PlanRefused,
    PrivilegeMissing,
    ReleaseError,
    UsageError,
    classify_outside_revision,
    privilege_message,
    python_origin,
    sqlstate,
)
from safemigrate.release.journal import StatementJournal
from safemigrate.release.lock import MigrationLock, connect, refuse_transaction_pooler
from safemigrate.release.preflight import check_before_apply
from safemigrate.release.replicas import ReplicaLost, Replicas
from safemigrate.scratch import ScratchServer
from safemigrate.squash.guard import squash_refusal
from safemigrate.state import alembic_config, is_known_revision, run_scripts
from safemigrate.urls import safe_url

log = logging.getLogger("run_migration")


@dataclass(frozen=True)
class Settings:
    """Everything one release needs, built once by the command line (or a caller) and read here."""

    url: URL
    directory: Path
    target: str = "head"
    wait: float = 60.0
    lock_timeout_ms: int = 200
    statement_timeout_ms: int = 30 * 60 * 1000
    retry_for: float = 120.0
    # Preflight (preflight.py): apply despite changed revision files; refuse on drift.
    accept_changed: bool = False
    check_drift: bool = False
    # Development only: where --check-drift builds its expected schema when the role may not create
    # databases (a context manager factory yielding a server URL); production hands none.
    scratch_server: ScratchServer | None = None
    # Read replicas (hot standbys) whose readers the release must not stall (replicas.py), and how long
    # to wait after each revision for every one of them to replay it.
    replica_urls: tuple[URL, ...] = ()
    replica_wait: float = 60.0

    def __post_init__(self) -> None:
        # Refused here, not half-way: a folder without env.py would surface as an Alembic error after
        # connecting, and a negative timeout as a database error once the lock is taken.
        if not (Path(self.directory) / "env.py").is_file():
            raise UsageError(f"no migration scripts in {self.directory}")
        for name in ("wait", "retry_for", "lock_timeout_ms", "statement_timeout_ms", "replica_wait"):
            value = getattr(self, name)
            if value < 0:
                raise UsageError(f"{name} must not be negative: {value:g}")


class Mode(enum.Enum):
    APPLY = "apply"  # the release phase: lock, preflight, apply
    CHECK = "check"  # apply nothing; EXIT_PENDING when revisions are pending
    SQL = "sql"  # apply nothing; print the pending revisions' SQL


@dataclass(frozen=True)
class Plan:
    current: tuple[str, ...]
    target: str
    pending: tuple[Script, ...]
    # The database is ahead of this code, on revisions that all keep this release working (a newer
    # release's overlap, or a rollback to this release): nothing to do.
    ahead: Ahead | None = None

    def describe(self) -> str:
        if self.ahead is not None:
            return self.ahead.summary()
        current = ",".join(self.current) or "<empty database>"
        if not self.pending:
            return f"database at {current}: nothing to do"
        return f"database at {current}: {len(self.pending)} pending revision(s) up to {self.target}"


def release(
    settings: Settings, mode: Mode = Mode.APPLY, *, sleep: Callable[[float], None] = time.sleep
) -> int:
    """One release, start to end: the exit code (ReleaseError and DBAPIError propagate)."""
    runner = ReleaseRunner(settings, sleep)
    try:
        return runner.run(mode)
    finally:
        runner.close()


class ReleaseRunner:
    """Owns the whole sequence: connect, lock, configure, plan, preflight, apply, report."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sleep = sleep
        self.scripts = ScriptDirectory(str(settings.directory))
        self.engine = _engine(settings.url, "run_migration")
        # The lock's own session, named so that pg_stat_activity shows who holds the lock.
        # Autocommit: each check is one round trip, and the lock session is never idle in a transaction.
        self.lock_engine = _engine(settings.url, "run_migration:lock", isolation_level="AUTOCOMMIT")
        self.lock = MigrationLock(self.lock_engine, settings.wait, sleep)
        self.journal = StatementJournal(self.engine)
        self.replicas = Replicas(settings.url, tuple(settings.replica_urls), settings.wait, sleep)
        self.applied: list[Script] = []  # revisions this run committed
        self.current: Script | None = None  # the revision being applied

    # -- the sequence --------------------------------------------------------------------------
    def run(self, mode: Mode = Mode.APPLY, out: TextIO | None = None) -> int:
        """Run the release in `mode`; returns the exit code. `out` receives --sql's text (stdout)."""
        started = time.monotonic()
        log.info("database: %s", safe_url(self.settings.url))
        deadline = time.monotonic() + self.settings.wait
        if mode is not Mode.APPLY:
            with self.connect(deadline) as connection:
                plan = self.plan(connection)
            _log_plan(plan)
            if mode is Mode.SQL:
                (out or sys.stdout).write(self.render_sql(plan))
                return EXIT_OK
            return EXIT_PENDING if plan.pending else EXIT_OK

        with self.connect(deadline) as connection:
            # Before the lock: a replica that is a primary, or that cannot be reached, touches nothing.
            self.replicas.open(deadline)
            self.take_lock(connection, deadline)
            self.configure_session(connection)
            # Planned under the lock: a runner that waited finds the work already done.
            plan = self.plan(connection)
            _log_plan(plan)
            if self.settings.check_drift and plan.ahead is not None:
                log.info("drift check skipped: this code's revisions cannot build a database ahead of it")
            check_before_apply(
                connection,
                self.scripts,
                self.settings.url,
                accept_changed=self.settings.accept_changed,
                # On a database ahead of the code (a rollback), this code cannot build its schema.
                check_drift=self.settings.check_drift and plan.ahead is None,
                scratch_server=self.settings.scratch_server,
            )
            self.apply(connection, plan)
            final = self.plan(connection).current
        log.info("done in %.2fs; database at %s", time.monotonic() - started, ",".join(final) or "base")
        return EXIT_OK

    # -- sessions ------------------------------------------------------------------------------
    def connect(self, deadline: float) -> Connection:
        """Connect, retrying with backoff until `deadline` (the database may still be booting)."""
        return connect(self.engine, deadline, self.settings.wait, self.sleep)

    def take_lock(self, connection: Connection, deadline: float) -> None:
        """Refuse a transaction pooler (nothing touched yet), then wait for the migration lock.

        `connection` is the migration session; the lock has a session of its own."""
        refuse_transaction_pooler(self.lock.open(deadline), connection)
        self.lock.acquire(time.monotonic() + self.settings.wait)

    def configure_session(self, connection: Connection) -> None:
        try:
            self.set_timeouts(connection)
            # If this runner dies mid-statement, the server notices within seconds and rolls back.
            connection.exec_driver_sql("SET client_connection_check_interval = 2000")
            connection.commit()
        except DBAPIError as exc:
            raise self._outside(exc, "configuring the session") from None

    def set_timeouts(self, connection: Connection) -> None:
        """The runner's lock_timeout and statement_timeout, for the session from now on.

        Run again before every revision: a revision's own session-level `SET lock_timeout` (common
        in real histories) commits with it and would otherwise hold for every later revision of the
        run, queueing live queries behind a blocked ALTER and defeating --retry-for."""
        s = self.settings
        connection.exec_driver_sql(f"SET lock_timeout = {int(s.lock_timeout_ms)}")
        connection.exec_driver_sql(f"SET statement_timeout = {int(s.statement_timeout_ms)}")

    def _outside(self, exc: DBAPIError, doing: str) -> ReleaseError:
        return classify_outside_revision(exc, self.settings.url.username, doing)

    # -- planning ------------------------------------------------------------------------------
    def plan(self, connection: Connection) -> Plan:
        heads = self.scripts.get_heads()
        if len(heads) > 1:
            raise PlanRefused(
                f"the migration scripts have {len(heads)} heads ({', '.join(sorted(heads))}): "
                'merge them first with `flask db merge heads -m "merge heads"`'
            )
        try:
            current = tuple(MigrationContext.configure(connection).get_current_heads())
            connection.commit()
        except DBAPIError as exc:
            raise self._outside(exc, "reading alembic_version") from None
        refusal = squash_refusal(self.scripts, current)
        if refusal:
            raise PlanRefused(refusal)
        if any(not is_known_revision(self.scripts, revision) for revision in current):
            return self._plan_ahead(connection, current, tuple(heads))
        target = self._resolve_target()
        try:
            # implicit_base, as `flask db upgrade` walks it: with the database at one side of a merge,
            # the other side's branch is pending too (it descends from no current head).
            pending = tuple(
                reversed(list(self.scripts.iterate_revisions(target, current or "base", implicit_base=True)))
            )
        except (CommandError, RevisionError):
            # The target is behind the database: an upgrade has nothing to do.
            pending = ()
        return Plan(current=current, target=target, pending=pending)

    def _plan_ahead(self, connection: Connection, current: tuple[str, ...], heads: tuple[str, ...]) -> Plan:
        """The database has revisions this code lacks: run on it only when the ledger shows they
        follow this code's head and all keep this release working (a rollback, an overlap)."""
        try:
            ahead = ahead_of_code(connection, self.scripts, current)
            connection.commit()
        except DBAPIError as exc:
            raise self._outside(exc, "reading the ledger") from None
        assert ahead is not None
        refusal = ahead.refusal(heads)
        if refusal:
            raise PlanRefused(refusal)
        return Plan(current=current, target=self.settings.target, pending=(), ahead=ahead)

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
        """Apply the pending revisions, each in its own transaction, in one pass of migrations/env.py.

        One Alembic run walks the plan (no history walk, no env.py run per revision): the step
        generator verifies the lock before each revision, between two revisions' transactions. A
        lock timeout stops the run; the revision is retried (a new run from it) within the budget."""
        config = alembic_config(connection, directory=self.settings.directory)
        remaining = list(plan.pending)
        if remaining:
            self.lock.watch()
        budgets: dict[str, tuple[float, int]] = {}  # revision -> (retry budget end, attempts)
        while remaining:
            self.current = None
            if self.replicas:
                # The first revision's check runs here, with no transaction open: inside the Alembic run
                # the migration session would wait idle in a transaction (holding its read of
                # alembic_version) for as long as a standby query lasts. Later revisions are checked
                # between two revisions' transactions (_steps).
                with self._replica_loss():
                    self._wait_for_idle_replicas(remaining[0])
            try:
                run_scripts(
                    config,
                    self.scripts,
                    "upgrade",
                    remaining[-1].revision,
                    steps=self._steps(connection, remaining),
                )
                return
            except ReleaseError:
                raise
            except DBAPIError as exc:
                self._rollback(connection)
                script = self._failed_script(exc)
                ends, attempt = budgets.get(script.revision, (time.monotonic() + self.settings.retry_for, 0))
                budgets[script.revision] = (ends, attempt + 1)
                self.sleep(self._retry_delay(exc, script, ends, attempt + 1))
                remaining = remaining[remaining.index(script) :]
            except Exception as exc:
                self._rollback(connection)
                if self.current is None:
                    raise
                raise MigrationFailed(
                    self._failed(_label(self.current), python_origin(exc, self.current.path))
                ) from None
            finally:
                self.journal.stop()

    def _steps(
        self, connection: Connection, remaining: list[Script]
    ) -> Callable[[tuple[str, ...], MigrationContext], Iterator[MigrationStep]]:
        def steps(heads: tuple[str, ...], _context: MigrationContext) -> Iterator[MigrationStep]:
            # What the plan started from must still hold: everything below the next revision applied
            # (its parent, or with a merge each side), none of the remaining ones.
            applied = {s.revision for s in self.scripts.iterate_revisions(heads, "base")} if heads else set()
            below = set(normalized_down_revisions(remaining[0]))
            if not below <= applied or any(script.revision in applied for script in remaining):
                raise MigrationFailed(
                    f"the database moved to {','.join(heads) or 'base'} while this runner held the lock "
                    f"(expected {','.join(sorted(below)) or 'base'} applied and none of the pending "
                    "revisions); nothing applied; run again"
                )
            for script in remaining:
                self.lock.verify(f"revision {script.revision}")
                if self.replicas and script is not remaining[0]:
                    with self._replica_loss():
                        self._wait_for_idle_replicas(script)
                self.journal.start(connection, script.revision)
                self.current, started = script, time.monotonic()
                # Opens the revision's transaction (Alembic joins it): rolled back with it on failure.
                self.set_timeouts(connection)
                yield MigrationStep.upgrade_from_script(self.scripts.revision_map, script)
                # Resumed by Alembic once that revision's transaction has committed.
                log.info("applied %s in %.2fs", _label(script), time.monotonic() - started)
                self.current = None
                self.applied.append(script)
                if self.replicas:
                    with self._replica_loss():
                        self._wait_for_replay(script)
            self.current = None

        return steps

    def _wait_for_idle_replicas(self, script: Script) -> None:
        """Hold `script` back while a standby has a transaction whose locks would hold back the replay
        of its ACCESS EXCLUSIVE locks (readers there would queue behind the replay); retried with the
        lock timeout's backoff within --retry-for, then refused."""
        budget_ends, attempt = time.monotonic() + self.settings.retry_for, 0
        while blockers := self.replicas.blockers(self.settings.lock_timeout_ms):
            attempt += 1
            delay = _backoff(attempt)
            oldest = blockers[0].describe()
            if time.monotonic() + delay > budget_ends:
                raise MigrationFailed(
                    f"revision {_label(script)} not applied: {oldest} after {self.settings.retry_for:g}s of "
                    "retries; replaying its locks there would stall that replica's readers "
                    f"(end that query, or lower its max_standby_streaming_delay); {self._so_far()}"
                )
            log.warning(
                "revision %s: %s (%d such transaction(s), longer than lock_timeout %d ms); "
                "waiting so that its readers do not queue behind the replay (attempt %d); retrying in %.2fs",
                script.revision,
                oldest,
                len(blockers),
                self.settings.lock_timeout_ms,
                attempt,
                delay,
            )
            self.sleep(delay)

    def _wait_for_replay(self, script: Script) -> None:
        """Wait until every standby has replayed `script` (bounded by replica_wait), so that the next
        revision's locks do not pile onto a replay still in progress."""
        target = self.replicas.wal_position()
        waited, behind = self.replicas.wait_for_replay(target, self.settings.replica_wait)
        if behind:
            raise MigrationFailed(
                f"revision {_label(script)} is applied, but {', '.join(behind)} had not replayed it after "
                f"{self.settings.replica_wait:g}s (MIGRATION_REPLICA_WAIT); {self._so_far()}; "
                "run again once the replicas have caught up"
            )
        log.info("replicas caught up in %d ms (%s)", round(waited * 1000), script.revision)

    @contextlib.contextmanager
    def _replica_loss(self) -> Iterator[None]:
        """A standby that stops answering stops the release (exit 3), saying what stays committed."""
        try:
            yield
        except ReplicaLost as exc:
            raise ReplicaLost(f"{exc}; {self._so_far()}") from None

    def _so_far(self) -> str:
        if not self.applied:
            return "nothing was applied"
        return f"applied and committed so far: {', '.join(s.revision for s in self.applied)}"

    def _failed_script(self, exc: DBAPIError) -> Script:
        if self.current is None:  # before the first revision (reading alembic_version)
            raise self._outside(exc, "reading alembic_version") from None
        return self.current

    def _retry_delay(self, exc: DBAPIError, script: Script, budget_ends: float, attempt: int) -> float:
        """How long to wait before retrying `script` after `exc`; raises when it must not be retried."""
        label = _label(script)
        if sqlstate(exc) == INSUFFICIENT_PRIVILEGE:
            missing = privilege_message(exc, self.settings.url.username, "applying it")
            raise PrivilegeMissing(f"revision {label}: {missing}; {self.journal.outcome()}") from None
        if sqlstate(exc) != LOCK_NOT_AVAILABLE:
            raise MigrationFailed(self._failed(label, error_summary(exc))) from None
        delay = _backoff(attempt)
        if time.monotonic() + delay > budget_ends:
            unchanged = (
                "the database is unchanged by this revision"
                if not self.journal.committed
                else self.journal.outcome()
            )
            raise MigrationFailed(
                f"revision {label} could not take its locks within {self.settings.retry_for:g}s "
                f"({attempt} attempts of {self.settings.lock_timeout_ms} ms each): "
                f"a long transaction holds them; {unchanged}"
            ) from None
        log.warning(
            "revision %s: lock not available within %d ms (attempt %d); retrying in %.2fs",
            script.revision,
            self.settings.lock_timeout_ms,
            attempt,
            delay,
        )
        return delay

    def _failed(self, label: str, reason: str) -> str:
        outcome = self.journal.outcome()
        if outcome == "rolled back":
            return f"revision {label} failed and was rolled back: {reason}"
        return f"revision {label} failed: {reason}; {outcome}"

    @staticmethod
    def _rollback(connection: Connection) -> None:
        # When the session is gone, the server has rolled back what was not committed.
        with contextlib.suppress(DBAPIError):
            connection.rollback()

    def render_sql(self, plan: Plan) -> str:
        """The pending revisions' SQL, as `alembic upgrade --sql` renders it. Applies nothing."""
        if not plan.pending:
            return ""
        start = ",".join(plan.current)
        revision_range = f"{start}:{plan.target}" if start else plan.target
        return offline_sql(
            self.scripts, revision_range, url=self.settings.url.render_as_string(hide_password=False)
        )

    def close(self) -> None:
        self.replicas.close()
        self.lock.close()
        self.lock_engine.dispose()
        self.engine.dispose()


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter, capped at 5 s: runners retrying together drift apart."""
    return min(5.0, 0.25 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)  # noqa: S311


def _label(script: Script) -> str:
    return f"{script.revision} ({script.doc})"


def _engine(url: URL, application_name: str, **options: Any) -> sa.Engine:
    return sa.create_engine(
        url,
        poolclass=sa.pool.NullPool,
        connect_args={"application_name": application_name, "connect_timeout": 5},
        **options,
    )


def _log_plan(plan: Plan) -> None:
    log.info("%s", plan.describe())
    for script in plan.pending:
        log.info("  pending: %s %s", script.revision, script.doc)
