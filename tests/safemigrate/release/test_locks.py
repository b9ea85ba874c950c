"""The release runner's locks on real PostgreSQL: the lock_timeout of its statements (live traffic
keeps moving), its migration lock (lost while applying, or while waiting for it)."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from alembic import command

from safemigrate.release.lock import ADVISORY_LOCK_KEY
from tests.support.cli_helpers import assert_clean_failure, flask
from tests.support.db_helpers import run_alembic
from tests.support.planting import HEAD, copy_migrations, plant
from tests.support.release_helpers import (
    FIRST,
    columns,
    finish,
    hold_items_lock,
    read_until,
    runner,
    spawn_runner,
    version_rows,
    wait_for,
)

ALTER_ITEMS = "ALTER TABLE items%"

# -- lock_timeout: live traffic keeps moving ----------------------------------------------------


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


BLOCKER_SECONDS = 2.0


def test_lock_timeout_keeps_readers_moving_where_stock_upgrade_stalls_them(engine, database_url):
    run_alembic(engine, command.downgrade, FIRST)

    # The runner: the ALTER gives up after 200 ms and retries, so readers never queue for long.
    with Readers(engine) as readers:
        blocker = hold_items_lock(engine, BLOCKER_SECONDS, after_query_like=ALTER_ITEMS)
        result = runner("--lock-timeout", "200", database_url=database_url)
        blocker.join()
    runner_worst = max(readers.latencies)

    assert result.returncode == 0, result.stderr
    assert "lock not available within 200 ms" in result.stderr
    assert version_rows(engine) == [HEAD]

    # Stock `flask db upgrade`: the ALTER waits in the lock queue and every reader waits behind it.
    run_alembic(engine, command.downgrade, FIRST)
    with Readers(engine) as readers:
        blocker = hold_items_lock(engine, BLOCKER_SECONDS, after_query_like=ALTER_ITEMS)
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
    release = threading.Event()
    blocker = hold_items_lock(engine, 30.0, after_query_like=ALTER_ITEMS, release=release)
    result = runner("--lock-timeout", "100", "--retry-for", "1", database_url=database_url)
    release.set()  # held until the runner gave up
    blocker.join()
    assert_clean_failure(result, "could not take its locks within 1s", code=1)
    assert version_rows(engine) == [FIRST]


# -- the migration lock ---------------------------------------------------------------------------

LOCK_HOLDER = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
POLLING = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND application_name = 'run_migration:lock'"
)


def test_a_lost_lock_stops_the_release_before_the_next_revision(engine, database_url, tmp_path):
    directory = copy_migrations(tmp_path)
    slow = plant(
        directory,
        "d1slow",
        upgrade="""
            op.add_column("items", sa.Column("slow_col", sa.Integer()))
            op.execute("SELECT pg_sleep(2)")
        """,
    )
    plant(
        directory,
        "d2next",
        down_revision=slow,
        upgrade='op.add_column("items", sa.Column("next_col", sa.Integer()))',
    )
    process = spawn_runner("--directory", str(directory), database_url=database_url)
    wait_for(
        engine,
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE query = 'SELECT pg_sleep(2)' AND datname = current_database()",
    )
    # An operator (or a network blip) ends the session that holds the lock, mid-revision.
    with engine.begin() as connection:
        holders = connection.execute(sa.text(LOCK_HOLDER)).scalars().all()
        assert len(holders) == 1, holders
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": holders[0]})
    code, stderr = finish(process)

    assert code == 4, stderr
    assert "Traceback" not in stderr, stderr
    assert "lost the migration lock before revision d2next" in stderr, stderr
    # The revision in progress committed on its own session; the next one never started.
    assert version_rows(engine) == [slow]
    assert "next_col" not in columns(engine, "items")

    again = runner("--directory", str(directory), database_url=database_url)
    assert again.returncode == 0, again.stderr
    assert "next_col" in columns(engine, "items")


def test_lost_connection_while_waiting_for_the_lock_reconnects_within_wait(engine, database_url):
    run_alembic(engine, command.downgrade, FIRST)
    with engine.connect() as holder:
        holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        holder.commit()
        process = spawn_runner("--wait", "60", database_url=database_url)
        before = read_until(process, "waiting for the migration lock")
        with engine.begin() as connection:
            first = connection.execute(sa.text(POLLING)).scalars().all()
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first[0]})
        # The runner reconnects and polls again on a new session.
        wait_for(engine, f"SELECT count(*) FROM ({POLLING}) p WHERE pid <> :old", old=first[0])
        holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
        holder.commit()
        code, stderr = finish(process)
    stderr = before + stderr
    assert code == 0, stderr
    assert "lost the connection while waiting for the migration lock" in stderr, stderr
    assert version_rows(engine) == [HEAD]


def test_lost_connection_while_waiting_for_the_lock_is_exit_3_after_wait(engine, database_url, server_url):
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = database_url.database
    try:
        with engine.connect() as holder:
            holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
            holder.commit()
            process = spawn_runner("--wait", "3", database_url=database_url)
            read_until(process, "waiting for the migration lock")
            with admin.connect() as connection:
                # The database stops accepting connections, and the runner's session is gone.
                connection.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND application_name LIKE 'run_migration%'"
                    ),
                    {"db": name},
                )
            code, stderr = finish(process)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    assert code == 3, stderr
    assert "Traceback" not in stderr
    assert len([line for line in stderr.splitlines() if " ERROR " in line]) == 1, stderr
    assert "could not connect to database" in stderr, stderr
