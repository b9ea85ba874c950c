"""Test fixtures on real PostgreSQL.

The session starts its own embedded server in a temporary folder, or uses the server that
DATABASE_URL points at (it must be allowed to create databases). Every test that needs a
database gets a fresh one: empty, or cloned in milliseconds from a template migrated to head.

Parallel workers (pytest-xdist, `make test` runs `pytest -n auto`): each worker is its own
process with its own session, so it starts its own embedded server in its own temporary folder;
on a shared DATABASE_URL server its database and template names carry the worker's id.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from psycopg2 import sql
from sqlalchemy.engine import URL

from app import create_app
from app.extensions import db as flask_db
from config import normalise_database_url
from devdb.embedded import EmbeddedDatabaseError, EmbeddedPostgres
from safemigrate.scratch import admin_connect, create_database, drop_database
from tests.support.db_helpers import config_for, run_alembic
from tests.support.redis_server import RedisServer, ensure_redis
from tests.support.standby import Standby, new_folder

# `make test` lets pytest cache bytecode (its assertion rewrite of plugin modules is costly), but from
# here on nothing writes any: tests edit revision files and models within the same second, often
# keeping their size, and a .pyc written for the old text would be loaded for the new one.
# Commands the tests start get PYTHONDONTWRITEBYTECODE=1 (tests/support/cli_helpers.py) for the same reason.
sys.dont_write_bytecode = True

# "gw0", "gw1", ... under pytest-xdist; "main" in a serial run.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
TEMPLATE_DB = f"test_template_head_{WORKER}"
_db_counter = itertools.count()
# A throwaway server need not survive a power cut: skipping the disk flushes makes every
# CREATE DATABASE and commit cheaper without changing what any statement does.
THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
# Nor need it live on disk. On this machine's ext4, creating a database's ~650 files costs ~150 ms of
# kernel time per CREATE DATABASE (one per test); in RAM (tmpfs) it is ~15 ms, and the server starts
# in half the time. Used when the machine has a tmpfs with room; otherwise the usual temp folder.
RAM_FOLDER, RAM_FOLDER_MIN_FREE = Path("/dev/shm"), 2 * 1024**3  # noqa: S108 (mkdtemp in it)


@pytest.fixture(scope="session")
def server_url():
    """URL of a maintenance database on the test server."""
    given = os.environ.get("DATABASE_URL")
    if given:
        yield normalise_database_url(given)
        return
    _remove_abandoned_servers()
    folder = Path(tempfile.mkdtemp(prefix="pgtest-", dir=_ram_folder()))
    claim = _claim(folder)
    server = EmbeddedPostgres(folder / "pgdata")
    url = server.start(database="postgres")
    _apply_throwaway_settings(url)
    try:
        yield url
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
        os.close(claim)


def _ram_folder() -> Path | None:
    try:
        stats = os.statvfs(RAM_FOLDER)
    except OSError:
        return None
    roomy = stats.f_bavail * stats.f_frsize >= RAM_FOLDER_MIN_FREE
    return RAM_FOLDER if roomy and os.access(RAM_FOLDER, os.W_OK) else None


def _claim(folder: Path) -> int:
    """Hold a lock on `folder` for the session: the kernel releases it when the worker dies however it
    dies, so the next run can tell an abandoned folder from one in use, even from another container."""
    claim = os.open(folder / "claim.new", os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(claim, fcntl.LOCK_EX)
    os.rename(folder / "claim.new", folder / "claim")  # seen by others only once locked
    return claim


def _remove_abandoned_servers() -> None:
    """A worker killed outright (SIGKILL) leaves its server running and its folder behind, in RAM until
    a reboot. The next run stops that server and removes the folder."""
    for folder in RAM_FOLDER.glob("pgtest-*") if RAM_FOLDER.is_dir() else ():
        try:
            claim = os.open(folder / "claim", os.O_RDWR)
        except OSError:
            continue  # being set up (claimed before anything else), or gone
        try:
            fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # in use
        finally:
            os.close(claim)
        try:
            EmbeddedPostgres(folder / "pgdata").stop()
        except EmbeddedDatabaseError:
            continue  # a server that will not stop is left as it is
        shutil.rmtree(folder, ignore_errors=True)


def _apply_throwaway_settings(url: URL) -> None:
    connection = admin_connect(url)
    try:
        with connection.cursor() as cursor:
            for name, value in THROWAWAY_SETTINGS.items():
                cursor.execute(
                    sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
                )
            cursor.execute("SELECT pg_reload_conf()")
    finally:
        connection.close()


@pytest.fixture
def make_database(server_url):
    """Factory: a new database (optionally cloned from a template), dropped after the test."""
    created: list[str] = []

    def make(template: str | None = None) -> URL:
        name = f"test_{WORKER}_{os.getpid()}_{next(_db_counter)}"
        create_database(server_url, name, template=template)
        created.append(name)
        return server_url.set(database=name)

    yield make
    for name in created:
        drop_database(server_url, name)


def upgrade(url: URL, revision: str = "head", **config) -> None:
    """Migrate the database at `url` (Alembic config attributes in `config`, e.g. directory=...)."""
    engine = sa.create_engine(url)
    try:
        run_alembic(engine, command.upgrade, revision, **config)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def head_template(server_url) -> str:
    """A database migrated to head once per session, cloned by `database_url`."""
    drop_database(server_url, TEMPLATE_DB)
    create_database(server_url, TEMPLATE_DB)
    upgrade(server_url.set(database=TEMPLATE_DB))
    yield TEMPLATE_DB
    drop_database(server_url, TEMPLATE_DB)


@pytest.fixture
def empty_database_url(make_database) -> URL:
    return make_database()


@pytest.fixture
def database_url(make_database, head_template) -> URL:
    """A fresh database at head."""
    return make_database(template=head_template)


@pytest.fixture
def app(database_url):
    app = create_app(config_for(database_url))
    yield app
    with app.app_context():
        flask_db.engine.dispose()


@pytest.fixture
def engine(database_url):
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def _start_standby(server_url: URL) -> tuple[Standby, int]:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("standby tests need the embedded test server (DATABASE_URL is set)")
    folder = new_folder(_ram_folder())
    claim = _claim(folder)
    return Standby(server_url, folder).start(), claim


@pytest.fixture(scope="session")
def standby(server_url):
    """A hot standby of the worker's server, streaming from it (tests/support/standby.py)."""
    server, claim = _start_standby(server_url)
    yield server
    server.remove()
    os.close(claim)


@pytest.fixture
def make_standby(server_url):
    """Factory: another standby, for a test that stops it; removed after the test."""
    started: list[tuple[Standby, int]] = []

    def make() -> Standby:
        started.append(_start_standby(server_url))
        return started[-1][0]

    yield make
    for server, claim in started:
        server.remove()
        os.close(claim)


@pytest.fixture(scope="session")
def redis_binary():
    binary, reason = ensure_redis()
    if not binary:
        pytest.skip(f"Redis tests skipped: {reason}")
    return binary


@pytest.fixture(scope="session")
def redis_session(redis_binary):
    """The worker's own redis-server on 127.0.0.1 (throttling counted across processes)."""
    server = RedisServer(redis_binary).start()
    yield server
    server.remove()


@pytest.fixture
def redis_server(redis_session):
    """The worker's Redis, emptied: no counter of an earlier test is left."""
    redis_session.flush()
    return redis_session


def pytest_terminal_summary(terminalreporter):
    """`make test` passes its start time: print the whole run's wall time (lint, server start, tests)."""
    started = os.environ.get("MAKE_TEST_STARTED")
    if started:
        elapsed = time.time() - float(started)
        workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT") or terminalreporter.config.getoption(
            "numprocesses", None
        )
        terminalreporter.write_line(f"make test wall time: {elapsed:.0f} s (workers: {workers or 1})")


# The longest tests (5-15 s each: real processes, waits) are handed out first, so the short ones fill
# in around them on the other workers instead of one long test finishing alone at the end.
LONGEST_FIRST = (
    "tests/test_bench.py::test_quick_benchmark_runs_and_reports",
    "tests/test_two_way_release.py",
    "tests/test_docs.py::test_the_guides_example_workflow",
    "tests/test_docs.py::test_the_suite_passes_on_a_project_that_followed_the_complete_example",
    "tests/api/test_openapi.py::test_fuzz_authenticated",
    "tests/test_bench_history_release.py",
    "tests/test_bench_history_review.py",
    "tests/test_docs.py::test_reset_migrations_keeps_the_old_files_and_data",
    "tests/safemigrate/release/test_locks.py",
    "tests/safemigrate/autogenerate/test_live_writes.py",
    "tests/safemigrate/squash/test_cli.py",
    "tests/test_shared_throttling.py::test_two_workers_share_one_registration_budget",
)


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        for position, prefix in enumerate(LONGEST_FIRST):
            if item.nodeid.startswith(prefix):
                return position
        return len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: everything else keeps its order
