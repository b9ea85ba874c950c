"""Helpers shared by the release runner's tests (tests/safemigrate/release/)."""

from __future__ import annotations

import sys
import threading
import time

import pytest
import sqlalchemy as sa

from config import MIGRATIONS_DIR
from safemigrate.state import script_directory
from tests.support.cli_helpers import run, spawn

RUNNER = [sys.executable, "run_migration.py"]


def runner(*args: str, database_url, **env):
    return run([*RUNNER, *args], database_url=database_url, **env)


def spawn_runner(*args: str, database_url, capture: bool = True, **env):
    return spawn([*RUNNER, *args], database_url, capture=capture, **env)


def finish(process, timeout: float = 120) -> tuple[int, str]:
    """Wait for a spawned runner; its exit code and stderr."""
    code = process.wait(timeout=timeout)
    stderr = process.stderr.read() if process.stderr else ""
    for stream in (process.stdout, process.stderr):
        if stream:
            stream.close()
    return code, stderr


def version_rows(engine) -> list[str]:
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return []
        return list(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


def written(engine) -> tuple:
    """Everything a release could write: the tables and their columns, alembic_version, the ledger."""
    with engine.connect() as connection:
        columns = connection.execute(
            sa.text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY 1, 2"
            )
        ).all()
        tables = {table for table, _ in columns}
        versions = (
            connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            if "alembic_version" in tables
            else None
        )
        ledger = (
            connection.execute(
                sa.text("SELECT id, revision, direction, checksum FROM migration_ledger ORDER BY id")
            ).all()
            if "migration_ledger" in tables
            else None
        )
    return columns, versions, ledger


def columns(engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def wait_for(engine, sql: str, timeout: float = 60, **params) -> None:
    """Poll until `sql` returns a true value (e.g. a count of sessions doing something)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.execute(sa.text(sql), params).scalar():
                return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for: {sql}")


def hold_items_lock(
    engine, seconds: float, after_query_like: str | None = None, release: threading.Event | None = None
) -> threading.Thread:
    """A session idle in a transaction that has read `items` (ACCESS SHARE).

    It holds the lock for `seconds`; with `after_query_like`, for `seconds` after another session
    was first seen running such a query (so a slow process start does not eat the blocking time).
    Setting `release` lets it go early (the test has seen what it waited for).
    """
    ready = threading.Event()
    release = release or threading.Event()

    def blocker():
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT count(*) FROM items")).scalar_one()
            ready.set()
            if after_query_like:
                wait_for(
                    engine,
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE :q AND pid <> pg_backend_pid() "
                    "AND datname = current_database()",
                    q=after_query_like,
                )
            release.wait(seconds)
            connection.rollback()

    thread = threading.Thread(target=blocker, daemon=True)
    thread.start()
    ready.wait(timeout=10)
    return thread


REVISIONS = list(script_directory(MIGRATIONS_DIR).walk_revisions())
# The guide's example revision adds a column to items: the one that needs an ACCESS EXCLUSIVE lock.
INTERNAL = next(s for s in REVISIONS if "internal_description" in (s.doc or ""))
FIRST = INTERNAL.down_revision


@pytest.fixture
def empty_engine(empty_database_url):
    engine = sa.create_engine(empty_database_url)
    yield engine
    engine.dispose()


def read_until(process, text: str) -> str:
    """Read a spawned runner's stderr until a line contains `text` (or the stream ends)."""
    seen = []
    for line in process.stderr:
        seen.append(line)
        if text in line:
            break
    return "".join(seen)
