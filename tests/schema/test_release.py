"""The release runner (run_migration.py) on real PostgreSQL: concurrency, lock contention,
crashes and bad input."""

from __future__ import annotations

import signal
import sys
import threading
import time

import pytest
import sqlalchemy as sa
from alembic import command

from app.schema.state import script_directory
from tests.cli_helpers import assert_clean_failure, flask, run, spawn
from tests.db_helpers import run_alembic
from tests.schema.planting import HEAD, copy_migrations, plant

REVISIONS = list(script_directory().walk_revisions())
# The guide's example revision adds a column to items: the one that needs an ACCESS EXCLUSIVE lock.
INTERNAL = next(s for s in REVISIONS if "internal_description" in (s.doc or ""))
FIRST = INTERNAL.down_revision


def runner(*args: str, database_url, **env):
    return run([sys.executable, "run_migration.py", *args], database_url=database_url, **env)


def version_rows(engine) -> list[str]:
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return []
        return list(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


def columns(engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


@pytest.fixture
def empty_engine(empty_database_url):
    engine = sa.create_engine(empty_database_url)
    yield engine
    engine.dispose()


# -- the happy paths ----------------------------------------------------------------------------


def test_applies_everything_on_an_empty_database_and_then_has_nothing_to_do(empty_database_url, empty_engine):
    first = runner(database_url=empty_database_url)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("applied ") == len(REVISIONS)
    assert version_rows(empty_engine) == [HEAD]

    again = runner(database_url=empty_database_url)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stderr
    assert "applied " not in again.stderr


def test_eight_runners_at_once_apply_each_revision_once(empty_database_url, empty_engine):
    processes = [
        spawn([sys.executable, "run_migration.py"], empty_database_url, capture=True) for _ in range(8)
    ]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in processes]
    for process in processes:
        process.stdout.close()
        process.stderr.close()

    assert [code for code, _ in results] == [0] * 8, results
    assert sum(log.count("applied ") for _, log in results) == len(REVISIONS), results
    assert version_rows(empty_engine) == [HEAD]


def test_postgres_scheme_url_works(empty_database_url, empty_engine):
    heroku_style = empty_database_url.set(drivername="postgres").render_as_string(hide_password=False)
    result = runner(database_url=heroku_style)
    assert result.returncode == 0, result.stderr
    assert version_rows(empty_engine) == [HEAD]


def test_target_stops_at_the_given_revision(empty_database_url, empty_engine):
    result = runner("--target", FIRST, database_url=empty_database_url)
    assert result.returncode == 0, result.stderr
    assert version_rows(empty_engine) == [FIRST]


def test_check_reports_pending_and_at_head(empty_database_url, empty_engine):
    pending = runner("--check", database_url=empty_database_url)
    assert pending.returncode == 5
    assert f"{len(REVISIONS)} pending" in pending.stderr
    assert version_rows(empty_engine) == []

    run_alembic(empty_engine, command.upgrade, "head")
    assert runner("--check", database_url=empty_database_url).returncode == 0


def test_sql_prints_the_pending_sql_and_applies_nothing(engine, database_url):
    run_alembic(engine, command.downgrade, FIRST)
    result = runner("--sql", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "ALTER TABLE items ADD COLUMN internal_description TEXT" in result.stdout
    assert f"UPDATE alembic_version SET version_num='{HEAD}'" in result.stdout
    assert version_rows(engine) == [FIRST]


# -- lock contention ----------------------------------------------------------------------------


class Readers:
    """Reads `items` in a loop from its own connection, recording each query's latency."""

    def __init__(self, engine):
        self.engine = engine
        self.latencies: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        with self.engine.connect() as connection:
            while not self.stop.is_set():
                started = time.monotonic()
                connection.execute(sa.text("SELECT count(*) FROM items")).scalar_one()
                connection.commit()
                self.latencies.append(time.monotonic() - started)
                time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)


def hold_items_lock(engine, seconds: float) -> threading.Thread:
    """A session idle in a transaction that has read `items` (ACCESS SHARE) for `seconds`."""
    ready = threading.Event()

    def blocker():
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT count(*) FROM items")).scalar_one()
            ready.set()
            time.sleep(seconds)
            connection.rollback()

    thread = threading.Thread(target=blocker, daemon=True)
    thread.start()
    ready.wait(timeout=10)
    return thread


BLOCKER_SECONDS = 3.0


def test_lock_timeout_keeps_readers_moving_where_stock_upgrade_stalls_them(engine, database_url):
    run_alembic(engine, command.downgrade, FIRST)

    # The runner: the ALTER gives up after 200 ms and retries, so readers never queue for long.
    with Readers(engine) as readers:
        blocker = hold_items_lock(engine, BLOCKER_SECONDS)
        result = runner("--lock-timeout", "200", database_url=database_url)
        blocker.join()
    runner_worst = max(readers.latencies)

    assert result.returncode == 0, result.stderr
    assert "lock not available within 200 ms" in result.stderr
    assert version_rows(engine) == [HEAD]

    # Stock `flask db upgrade`: the ALTER waits in the lock queue and every reader waits behind it.
    run_alembic(engine, command.downgrade, FIRST)
    with Readers(engine) as readers:
        blocker = hold_items_lock(engine, BLOCKER_SECONDS)
        time.sleep(0.2)
        stock = flask("db", "upgrade", database_url=database_url)
        blocker.join()
    stock_worst = max(readers.latencies)

    assert stock.returncode == 0, stock.stderr
    comparison = (
        f"worst reader latency: runner {runner_worst * 1000:.0f} ms, "
        f"stock flask db upgrade {stock_worst * 1000:.0f} ms (blocker held {BLOCKER_SECONDS:.0f} s)"
    )
    print(comparison)
    assert runner_worst < 0.2 + 0.5, comparison
    assert stock_worst > BLOCKER_SECONDS * 0.5, comparison


def test_gives_up_when_the_lock_never_frees_within_retry_for(engine, database_url):
    run_alembic(engine, command.downgrade, FIRST)
    blocker = hold_items_lock(engine, 4.0)
    result = runner("--lock-timeout", "100", "--retry-for", "1", database_url=database_url)
    blocker.join()
    assert_clean_failure(result, "could not take its locks within 1s")
    assert result.returncode == 1
    assert version_rows(engine) == [FIRST]


# -- crashes and failures -----------------------------------------------------------------------


def test_sigkill_mid_revision_leaves_nothing_half_applied(engine, database_url, tmp_path):
    directory = copy_migrations(tmp_path)
    slow = plant(
        directory,
        "a1b2c3d4slow",
        upgrade="""
            op.add_column("items", sa.Column("slow_col", sa.Integer()))
            seconds = float(os.environ.get("SLOW_SECONDS", "0"))
            op.execute(sa.text("SELECT pg_sleep(:s)").bindparams(s=seconds))
        """,
        downgrade='op.drop_column("items", "slow_col")',
        preamble="import os\n",
    )
    process = spawn(
        [sys.executable, "run_migration.py", "--directory", str(directory)], database_url, SLOW_SECONDS="60"
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                sleeping = connection.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")
                ).scalar_one()
            if sleeping:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the slow revision never started")
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)

    assert version_rows(engine) == [HEAD]
    assert "slow_col" not in columns(engine, "items")

    result = runner("--directory", str(directory), database_url=database_url, SLOW_SECONDS="0")
    assert result.returncode == 0, result.stderr
    assert version_rows(engine) == [slow]
    assert "slow_col" in columns(engine, "items")


def test_failing_revision_leaves_the_database_at_the_previous_one(engine, database_url, tmp_path):
    directory = copy_migrations(tmp_path)
    good = plant(directory, "b1good", upgrade='op.add_column("items", sa.Column("good_col", sa.Integer()))')
    plant(
        directory,
        "b2bad",
        down_revision=good,
        message="divides by zero",
        upgrade="""
            op.add_column("items", sa.Column("bad_col", sa.Integer()))
            op.execute("SELECT 1/0")
        """,
    )
    result = runner("--directory", str(directory), database_url=database_url)
    assert_clean_failure(
        result, "revision b2bad (divides by zero) failed and was rolled back", "division by zero"
    )
    assert result.returncode == 1
    assert version_rows(engine) == [good]
    assert {"good_col"} <= columns(engine, "items")
    assert "bad_col" not in columns(engine, "items")


def test_two_heads_are_refused_with_a_hint(engine, database_url, tmp_path):
    directory = copy_migrations(tmp_path)
    plant(directory, "c1left", upgrade='op.add_column("items", sa.Column("left_col", sa.Integer()))')
    plant(directory, "c2right", upgrade='op.add_column("items", sa.Column("right_col", sa.Integer()))')
    result = runner("--directory", str(directory), database_url=database_url)
    assert_clean_failure(result, "2 heads", "flask db merge heads")
    assert result.returncode == 6
    assert version_rows(engine) == [HEAD]
    assert not {"left_col", "right_col"} & columns(engine, "items")


def test_database_newer_than_the_code_is_refused(engine, database_url):
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f00dfeed1234'"))
    result = runner(database_url=database_url)
    assert_clean_failure(result, "f00dfeed1234", "code is older than the database")
    assert result.returncode == 6


# -- bad input ----------------------------------------------------------------------------------


def test_unreachable_database_fails_after_wait_without_the_password():
    started = time.monotonic()
    result = runner("--wait", "3", database_url="postgresql://app:hunter2@127.0.0.1:9/app")
    elapsed = time.monotonic() - started
    assert_clean_failure(
        result, "could not connect to database 'app' on 127.0.0.1:9 within 3s", secret="hunter2"
    )
    assert result.returncode == 3
    assert 3 <= elapsed < 15, f"gave up after {elapsed:.1f}s"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_URL": "postgresql://app:hunter2@db:port/app"},
            "DATABASE_URL is not a valid database URL",
        ),
        ({"DATABASE_URL": "mysql://app:hunter2@db/app"}, "must be a PostgreSQL URL"),
        (
            {"DATABASE_URL": "postgres://x@h/app", "MIGRATION_DATABASE_URL": "nope://app:hunter2@"},
            "MIGRATION_DATABASE_URL",
        ),
    ],
)
def test_malformed_urls_fail_cleanly(env, message):
    result = run([sys.executable, "run_migration.py"], **env)
    assert_clean_failure(result, message, secret="hunter2")
    assert result.returncode == 2


@pytest.mark.parametrize(
    "args",
    [["--wait", "soon"], ["--lock-timeout", "-5"], ["--check", "--sql"], ["--bogus"]],
)
def test_bad_options_are_usage_errors(args, database_url):
    result = runner(*args, database_url=database_url)
    assert_clean_failure(result, "run_migration: error:")
    assert result.returncode == 2


def test_unknown_target_is_a_usage_error(database_url):
    result = runner("--target", "nosuchrev", database_url=database_url)
    assert_clean_failure(result, "unknown target revision 'nosuchrev'")
    assert result.returncode == 2


def test_migration_database_url_overrides_database_url(empty_database_url, empty_engine):
    result = runner(
        database_url="postgresql://app:hunter2@127.0.0.1:9/unused",
        MIGRATION_DATABASE_URL=empty_database_url.render_as_string(hide_password=False),
    )
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stderr
    assert version_rows(empty_engine) == [HEAD]
