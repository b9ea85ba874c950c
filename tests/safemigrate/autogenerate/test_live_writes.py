"""A generated index + unique + foreign key revision, applied by the release runner while the app
writes and a transaction sits idle on the table: no write waits longer than about lock_timeout.

Without lock_timeout and the safe forms, every write would queue behind the ALTER for as long as
the idle transaction lives (BLOCKER_SECONDS), then for the index builds' scans.
"""

from __future__ import annotations

import sys
import threading
import time

import pytest
import sqlalchemy as sa

from tests.safemigrate.autogenerate.corpus import SAFE_EDITS
from tests.safemigrate.autogenerate.scratch import Scratch, edited_models, load_metadata
from tests.support.cli_helpers import run

AT_ONCE = next(e for e in SAFE_EDITS if e.id == "index_unique_and_fk_at_once")
LOCK_TIMEOUT_MS = 200
BLOCKER_SECONDS = 2.0
ROWS = 100_000


@pytest.fixture
def scratch(tmp_path):
    return Scratch(tmp_path / "scratch")


def writer(engine, stop: threading.Event, latencies: list[float]) -> None:
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        n = 0
        while not stop.is_set():
            n += 1
            started = time.monotonic()
            connection.execute(
                sa.text("UPDATE items SET description = :d WHERE id = :id"),
                {"d": f"w{n}", "id": 1 + n % ROWS},
            )
            connection.execute(
                sa.text("INSERT INTO items (title, owner_id) VALUES (:t, 1)"),
                {"t": f"live {n} {time.time()}"},
            )
            latencies.append(time.monotonic() - started)
            time.sleep(0.01)


def wait_for_a_blocked_alter(engine, limit: float = 60) -> None:
    """Until the runner's first ALTER queues behind the idle transaction (it starts slowly here)."""
    deadline = time.monotonic() + limit
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'items'::regclass")
            ).scalar()
            connection.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the runner never queued behind the idle transaction")


def test_runner_applies_generated_constraints_without_blocking_writers(
    scratch, engine, database_url, tmp_path
):
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x')"))
        connection.execute(
            sa.text(
                "INSERT INTO items (title, description, owner_id) "
                "SELECT 'item ' || n, 'd', 1 FROM generate_series(1, :rows) n"
            ),
            {"rows": ROWS},
        )
    metadata = load_metadata(edited_models(*AT_ONCE.patches), tmp_path)
    assert scratch.autogenerate(engine, metadata, "at once", autogenerate_answers={}) is not None

    stop, latencies = threading.Event(), []
    thread = threading.Thread(target=writer, args=(engine, stop, latencies))
    blocker = engine.connect()
    transaction = blocker.begin()
    blocker.execute(sa.text("UPDATE items SET description = 'held' WHERE id = :id"), {"id": ROWS})
    thread.start()
    try:
        time.sleep(0.3)
        runner = threading.Thread(
            target=lambda: results.append(
                run(
                    [
                        sys.executable,
                        "run_migration.py",
                        "--directory",
                        str(scratch.directory),
                        "--lock-timeout",
                        str(LOCK_TIMEOUT_MS),
                    ],
                    database_url=database_url,
                )
            )
        )
        results: list = []
        runner.start()
        wait_for_a_blocked_alter(engine)
        time.sleep(BLOCKER_SECONDS)  # the runner gives up and retries meanwhile; writers go on
        transaction.rollback()
        runner.join(timeout=120)
    finally:
        stop.set()
        thread.join()
        blocker.close()

    [result] = results
    assert result.returncode == 0, result.stderr
    assert "lock not available" in result.stderr, result.stderr
    assert scratch.check(engine, metadata) is None
    # lock_timeout, plus room for a loaded 2-core machine; far below BLOCKER_SECONDS.
    assert max(latencies) < LOCK_TIMEOUT_MS / 1000 + 0.8, sorted(latencies)[-5:]
