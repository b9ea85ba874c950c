"""The runner and the read replicas (hot standbys) it is told about: MIGRATION_REPLICA_URLS."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from safemigrate.errors import error_summary
from safemigrate.release.lock import where
from tests.support.cli_helpers import assert_clean_failure
from tests.support.planting import copy_migrations, plant
from tests.support.release_helpers import columns, finish, read_until, runner, spawn_runner, wait_for, written


def test_the_standby_fixture_streams_from_the_workers_server(standby, database_url):
    """The ground the other tests stand on: a real standby in recovery, replaying the primary's writes."""
    primary = sa.create_engine(database_url)
    with primary.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE streamed (id int)")
        connection.exec_driver_sql("INSERT INTO streamed VALUES (7)")
    primary.dispose()
    replica = sa.create_engine(standby.wait_for(database_url.database))
    with replica.connect() as connection:
        assert connection.exec_driver_sql("SELECT pg_is_in_recovery()").scalar_one() is True
        assert connection.exec_driver_sql("SELECT id FROM streamed").scalars().all() == [7]
    replica.dispose()


# -- configuration: bad replica URLs are refused before anything is touched ---------------------------


@pytest.fixture
def migrations(tmp_path):
    """The project's scripts plus one pending revision that adds a nullable column to items: an
    instant ACCESS EXCLUSIVE lock on the primary, replayed on every standby."""
    directory = copy_migrations(tmp_path)
    plant(directory, "a1d0c0ffee01", "op.add_column('items', sa.Column('replica_col', sa.Integer()))")
    return directory


@pytest.fixture
def behind_engine(database_url, migrations):
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    ("setting", "line"),
    [
        (
            {"MIGRATION_REPLICA_URLS": "mysql://reader:s3cret@replica/app"},
            "run_migration ERROR configuration error: MIGRATION_REPLICA_URLS must be a PostgreSQL URL "
            "(postgres://, postgresql://), not mysql://",
        ),
        (
            {"MIGRATION_REPLICA_URLS": "postgres://reader:s3cret@replica/app,postgres://reader:s3cret@:x/"},
            "run_migration ERROR configuration error: MIGRATION_REPLICA_URLS (entry 2) is not a valid "
            "database URL",
        ),
    ],
)
def test_a_malformed_replica_url_is_one_line_and_exit_2_with_nothing_written(
    setting, line, behind_engine, database_url, migrations
):
    before = written(behind_engine)
    result = runner("--directory", str(migrations), database_url=database_url, **setting)
    assert_clean_failure(result, code=2, line=line, secret="s3cret")
    assert written(behind_engine) == before


def test_a_primary_given_as_a_replica_is_one_line_and_exit_2_with_nothing_written(
    behind_engine, database_url, migrations
):
    before = written(behind_engine)
    result = runner(
        "--directory", str(migrations), "--replica-url", _url(database_url), database_url=database_url
    )
    assert_clean_failure(
        result,
        code=2,
        line="run_migration ERROR MIGRATION_REPLICA_URLS names a primary, not a standby: "
        f"{where(database_url)} is not in recovery (pg_is_in_recovery() is false); "
        "give only read replicas (nothing was changed)",
    )
    assert written(behind_engine) == before


def test_an_unreachable_replica_is_one_line_and_exit_3_with_nothing_written(
    behind_engine, database_url, migrations, tmp_path
):
    nowhere = database_url.set(query={"host": str(tmp_path), "port": "5432"})
    before = written(behind_engine)
    result = runner(
        "--directory",
        str(migrations),
        "--wait",
        "0",
        "--replica-url",
        _url(nowhere),
        database_url=database_url,
    )
    assert_clean_failure(
        result,
        f"run_migration ERROR could not connect to replica {where(nowhere)} within 0s: connection to server "
        f'on socket "{tmp_path}/.s.PGSQL.5432" failed: No such file or directory',
        code=3,
    )
    assert written(behind_engine) == before


def _url(url) -> str:
    return url.render_as_string(hide_password=False)


# -- with a real standby -----------------------------------------------------------------------------

# The analytics query on the standby (20 s in the measurement; shorter here), and how long a
# standby reader accepts to wait for a lock: between the runner's 200 ms lock_timeout and the stall.
ANALYTICS_SECONDS = 8
READER_LOCK_TIMEOUT_MS = 3000


class StandbyTraffic:
    """An analytics transaction reading items on the standby, and a reader probing items meanwhile."""

    def __init__(self, url):
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
        self.analytics_outcome: str | None = None
        self.reader_waits: list[float] = []  # seconds each `SELECT 1 FROM items LIMIT 1` took
        self.reader_errors: list[str] = []
        self.stop = threading.Event()
        running = threading.Event()
        self.analytics = threading.Thread(target=self._analytics, args=(running,), daemon=True)
        self.analytics.start()
        running.wait(timeout=10)
        # The case is a query already running when the release starts; the runner cannot know
        # how long a query that has just begun will last (see safemigrate/release/replicas.py).
        wait_for(
            self.engine,
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' "
            "AND clock_timestamp() - xact_start > interval '500 ms'",
        )
        self.reader = threading.Thread(target=self._reader, daemon=True)

    def _analytics(self, running: threading.Event) -> None:
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT count(*) FROM items").scalar_one()
                running.set()
                connection.exec_driver_sql(
                    f"SELECT pg_sleep({ANALYTICS_SECONDS}), (SELECT count(*) FROM items)"
                )
            self.analytics_outcome = "finished"
        except DBAPIError as exc:
            running.set()
            self.analytics_outcome = error_summary(exc)

    def _reader(self) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql(f"SET lock_timeout = {READER_LOCK_TIMEOUT_MS}")
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    connection.exec_driver_sql("SELECT 1 FROM items LIMIT 1").all()
                except DBAPIError as exc:
                    self.reader_errors.append(error_summary(exc))
                self.reader_waits.append(time.monotonic() - started)
                time.sleep(0.05)

    def finish(self) -> None:
        """Wait for the analytics query, then probe once more (a replay queued behind it shows now)."""
        self.analytics.join(timeout=ANALYTICS_SECONDS + 30)
        time.sleep(0.2)
        self.stop.set()
        if self.reader.is_alive():
            self.reader.join(timeout=READER_LOCK_TIMEOUT_MS / 1000 + 10)
        self.engine.dispose()


def test_the_runner_holds_a_revision_back_while_a_standby_query_would_stall_its_readers(
    standby, database_url, engine, migrations
):
    replica = standby.wait_for(database_url.database)
    traffic = StandbyTraffic(replica)
    process = spawn_runner(
        "--directory", str(migrations), "--replica-url", _url(replica), database_url=database_url
    )  # fmt: skip
    traffic.reader.start()
    code, stderr = finish(process)
    traffic.finish()

    assert code == 0, stderr
    assert "replica_col" in columns(engine, "items")
    # The runner waited for the analytics query instead of queueing the standby's readers behind it...
    assert "waiting so that its readers do not queue behind the replay" in stderr
    assert "replicas caught up in" in stderr
    assert traffic.analytics_outcome == "finished"
    # ...so no reader on the standby waited for a lock as long as READER_LOCK_TIMEOUT_MS.
    assert traffic.reader_errors == []
    assert traffic.reader_waits, "the reader never ran"
    longest = max(traffic.reader_waits) * 1000
    print(f"standby reader: {len(traffic.reader_waits)} queries, longest {longest:.0f} ms")


def test_a_replica_that_goes_away_mid_release_is_one_line_and_exit_3(
    make_standby, database_url, engine, migrations
):
    lost = make_standby()
    replica = lost.wait_for(database_url.database)
    traffic = StandbyTraffic(replica)  # holds the revision back: the runner keeps probing the standby
    process = spawn_runner(
        "--directory", str(migrations), "--replica-url", _url(replica), database_url=database_url
    )  # fmt: skip
    seen = read_until(process, "waiting so that its readers do not queue behind the replay")
    assert "waiting so that its readers" in seen, seen
    # While it waits, the migration session holds nothing on the primary (no transaction left open).
    with engine.connect() as connection:
        states = connection.exec_driver_sql(
            "SELECT state FROM pg_stat_activity WHERE application_name = 'run_migration'"
        ).scalars()
        assert list(states) == ["idle"]
    lost.stop("immediate")
    code, stderr = finish(process)
    traffic.stop.set()

    result = subprocess.CompletedProcess(process.args, code, "", seen + stderr)
    assert_clean_failure(
        result,
        f"run_migration ERROR replica {where(replica)} stopped answering while looking for long queries: ",
        "; nothing was applied",
        code=3,
    )
    assert "replica_col" not in columns(engine, "items")


def test_a_standby_query_that_outlasts_retry_for_refuses_the_revision_in_one_line(
    standby, database_url, behind_engine, migrations
):
    replica = standby.wait_for(database_url.database)
    traffic = StandbyTraffic(replica)
    before = written(behind_engine)
    result = runner(
        "--directory", str(migrations), "--retry-for", "1", "--replica-url", _url(replica),
        database_url=database_url,
    )  # fmt: skip
    with traffic.engine.connect() as connection:  # the analytics query is not this test's to wait for
        connection.exec_driver_sql(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%%'"
        )
    traffic.finish()

    assert_clean_failure(
        result,
        f"run_migration ERROR revision a1d0c0ffee01 (planted) not applied: replica {where(replica)}: pid ",
        " (active) has held table locks for ",
        "s after 1s of retries; replaying its locks there would stall that replica's readers "
        "(end that query, or lower its max_standby_streaming_delay); nothing was applied",
        code=1,
    )
    assert written(behind_engine) == before
