"""The release runner's sequence, in-process: which steps each mode takes, in what order, under which
lock, and what it leaves behind, on real PostgreSQL. The command line around it, in its own process:
test_release.py, test_failures.py, test_locks.py."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from config import MIGRATIONS_DIR
from safemigrate.release import runner as runner_module
from safemigrate.release.errors import LockNotAcquired, PlanRefused, UsageError
from safemigrate.release.lock import ADVISORY_LOCK_KEY
from safemigrate.release.runner import Mode, ReleaseRunner, Settings, release
from tests.conftest import upgrade
from tests.support.db_helpers import run_alembic
from tests.support.planting import HEAD, copy_migrations, plant
from tests.support.release_helpers import FIRST, REVISIONS, empty_engine, written

__all__ = ["empty_engine"]  # a fixture

# The migration lock as any session sees it in pg_locks (a bigint key: high and low halves).
_LOCK_HELD = sa.text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
    "AND classid = :classid AND objid = :objid "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
).bindparams(classid=(ADVISORY_LOCK_KEY >> 32) & 0xFFFFFFFF, objid=ADVISORY_LOCK_KEY & 0xFFFFFFFF)


def lock_held(engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(_LOCK_HELD).scalar_one())


def runner_sessions(engine) -> int:
    """Sessions the runner opened (it names them) that are still connected."""
    with engine.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'run_migration%' "
                "AND datname = current_database()"
            )
        ).scalar_one()


class RecordingRunner(ReleaseRunner):
    """The real runner, noting each step of its sequence; a plan also notes whether the migration
    lock was held then, as another session sees it in pg_locks."""

    def __init__(self, settings: Settings, observer: sa.Engine):
        super().__init__(settings)
        self.observer = observer
        self.steps: list[str] = []

    def connect(self, deadline):
        self.steps.append("connect")
        return super().connect(deadline)

    def take_lock(self, connection, deadline):
        self.steps.append("take_lock")
        return super().take_lock(connection, deadline)

    def configure_session(self, connection):
        self.steps.append("configure_session")
        return super().configure_session(connection)

    def plan(self, connection):
        self.steps.append("plan (locked)" if lock_held(self.observer) else "plan (unlocked)")
        return super().plan(connection)

    def apply(self, connection, plan):
        self.steps.append("apply")
        return super().apply(connection, plan)

    def render_sql(self, plan):
        self.steps.append("render_sql")
        return super().render_sql(plan)


@pytest.fixture
def run_recorded(monkeypatch):
    """Run a RecordingRunner to the end (closed however it ends); preflight, a function the runner
    calls, is recorded by a wrapper around the real one. Returns (exit code or raised error, steps)."""

    def run(settings: Settings, mode: Mode, observer: sa.Engine, out=None):
        runner = RecordingRunner(settings, observer)
        real = runner_module.check_before_apply

        def preflight(*args, **kwargs):
            runner.steps.append("preflight")
            return real(*args, **kwargs)

        monkeypatch.setattr(runner_module, "check_before_apply", preflight)
        try:
            outcome = runner.run(mode, out=out)
        except Exception as exc:  # noqa: BLE001 (the test asserts on what was raised)
            outcome = exc
        finally:
            runner.close()
        return outcome, runner.steps

    return run


def settings_for(url, directory: Path = MIGRATIONS_DIR, **options) -> Settings:
    return Settings(url=url, directory=directory, **{"wait": 5.0, **options})


@pytest.fixture
def held_lock(engine):
    """Another runner's session holding the migration lock."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()
        yield
        connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()


# -- the order of the steps ---------------------------------------------------------------------


def test_apply_locks_then_plans_under_the_lock_then_preflights_then_applies(
    empty_database_url, empty_engine, run_recorded
):
    outcome, steps = run_recorded(settings_for(empty_database_url), Mode.APPLY, empty_engine)

    assert outcome == 0
    assert steps == [
        "connect",
        "take_lock",
        "configure_session",
        "plan (locked)",
        "preflight",
        "apply",
        "plan (locked)",
    ]
    assert written(empty_engine)[1] == [HEAD]
    assert not lock_held(empty_engine)
    assert runner_sessions(empty_engine) == 0


@pytest.mark.parametrize(
    ("mode", "expected_steps", "expected_code"),
    [
        (Mode.CHECK, ["connect", "plan (unlocked)"], 5),
        (Mode.SQL, ["connect", "plan (unlocked)", "render_sql"], 0),
    ],
)
def test_check_and_sql_only_connect_and_plan_and_write_nothing(
    mode, expected_steps, expected_code, empty_database_url, empty_engine, run_recorded
):
    out = io.StringIO()
    outcome, steps = run_recorded(settings_for(empty_database_url), mode, empty_engine, out=out)

    assert outcome == expected_code
    assert steps == expected_steps
    # Not even alembic_version or the ledger table: an empty database stays empty.
    assert written(empty_engine) == ([], None, None)
    assert runner_sessions(empty_engine) == 0
    if mode is Mode.SQL:
        assert "CREATE TABLE alembic_version" in out.getvalue()
        assert out.getvalue().rstrip().endswith("COMMIT;")
    else:
        assert out.getvalue() == ""


@pytest.mark.parametrize("mode", [Mode.CHECK, Mode.SQL])
def test_check_and_sql_take_no_lock_even_while_another_runner_holds_it(mode, engine, database_url, held_lock):
    run_alembic(engine, command.downgrade, FIRST)
    before = written(engine)

    code = release(settings_for(database_url, wait=0), mode)

    assert code == (5 if mode is Mode.CHECK else 0)
    assert written(engine) == before


def test_apply_waits_for_the_lock_before_touching_anything(engine, database_url, held_lock, run_recorded):
    run_alembic(engine, command.downgrade, FIRST)
    before = written(engine)

    outcome, steps = run_recorded(settings_for(database_url, wait=0), Mode.APPLY, engine)

    assert isinstance(outcome, LockNotAcquired)
    assert str(outcome) == "another runner still holds the migration lock after 0s"
    assert outcome.exit_code == 4
    assert steps == ["connect", "take_lock"]
    assert written(engine) == before
    assert runner_sessions(engine) == 0


# -- preflight refuses: nothing applied ---------------------------------------------------------


def test_apply_refuses_before_applying_when_preflight_refuses(make_database, tmp_path, run_recorded):
    directory = copy_migrations(tmp_path)
    plant(directory, "chk000000001", 'op.execute("CREATE TABLE audit (a integer)")')
    url = make_database()
    upgrade(url, directory=directory)
    edited = next((directory / "versions").glob("*chk000000001*"))
    edited.write_text(edited.read_text().replace("(a integer)", "(a bigint)"))
    plant(
        directory,
        "chk000000002",
        'op.execute("CREATE TABLE audit_two (a integer)")',
        down_revision="chk000000001",
    )
    observer = sa.create_engine(url)
    try:
        before = written(observer)
        outcome, steps = run_recorded(settings_for(url, directory), Mode.APPLY, observer)

        assert isinstance(outcome, PlanRefused)
        assert outcome.exit_code == 6
        assert str(outcome).startswith(
            f"changed: {edited} (revision chk000000001) changed after it was applied here: applied "
        )
        assert str(outcome).endswith(
            '; 1 finding(s) in all: restore the files, run `flask db repair --reason "..."`, '
            "or accept with --accept-changed [MIGRATION_ACCEPT_CHANGED]"
        )
        assert steps == ["connect", "take_lock", "configure_session", "plan (locked)", "preflight"]
        assert written(observer) == before  # audit_two not created, alembic_version and ledger as they were
        assert before[1] == ["chk000000001"]
        assert not lock_held(observer)
        assert runner_sessions(observer) == 0
    finally:
        observer.dispose()


# -- release(): the exit codes ------------------------------------------------------------------


def test_release_exit_codes_pending_applied_and_at_head(empty_database_url, empty_engine):
    settings = settings_for(empty_database_url)

    assert release(settings, Mode.CHECK) == 5  # pending
    assert written(empty_engine) == ([], None, None)

    assert release(settings, Mode.APPLY) == 0  # applied
    applied = written(empty_engine)
    assert applied[1] == [HEAD]
    assert [row.revision for row in applied[2]] == [s.revision for s in reversed(REVISIONS)]

    assert release(settings, Mode.CHECK) == 0  # at head
    assert release(settings, Mode.APPLY) == 0  # at head: nothing to do, nothing written
    assert written(empty_engine) == applied


def test_release_stops_at_the_target(empty_database_url, empty_engine):
    assert release(settings_for(empty_database_url, target=FIRST), Mode.APPLY) == 0
    assert written(empty_engine)[1] == [FIRST]
    assert release(settings_for(empty_database_url, target=FIRST), Mode.CHECK) == 0
    assert release(settings_for(empty_database_url), Mode.CHECK) == 5  # the rest is still pending


@pytest.mark.parametrize("mode", list(Mode))
def test_an_unknown_target_is_raised_as_a_usage_error_and_writes_nothing(
    mode, empty_database_url, empty_engine
):
    with pytest.raises(UsageError) as raised:
        release(settings_for(empty_database_url, target="nosuchrev"), mode)

    assert raised.value.exit_code == 2
    assert str(raised.value).startswith("unknown target revision 'nosuchrev'")
    assert written(empty_engine) == ([], None, None)
    assert runner_sessions(empty_engine) == 0


# -- Settings -----------------------------------------------------------------------------------


def test_settings_refuse_a_folder_without_migration_scripts(empty_database_url, tmp_path):
    with pytest.raises(UsageError) as raised:
        Settings(url=empty_database_url, directory=tmp_path)

    assert str(raised.value) == f"no migration scripts in {tmp_path}"
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("wait", -1.0, "wait must not be negative: -1"),
        ("retry_for", -0.5, "retry_for must not be negative: -0.5"),
        ("lock_timeout_ms", -5, "lock_timeout_ms must not be negative: -5"),
        ("statement_timeout_ms", -1, "statement_timeout_ms must not be negative: -1"),
    ],
)
def test_settings_refuse_negative_durations(option, value, message, empty_database_url):
    with pytest.raises(UsageError) as raised:
        Settings(url=empty_database_url, directory=MIGRATIONS_DIR, **{option: value})

    assert str(raised.value) == message
    assert raised.value.exit_code == 2
