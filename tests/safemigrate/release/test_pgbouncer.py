"""The release runner and the web app behind a real PgBouncer in transaction pooling mode.

The runner refuses a transaction pooler before touching anything (no lock, no setting, no write),
with one line naming MIGRATION_DATABASE_URL, however many runners start at once; given a direct
MIGRATION_DATABASE_URL it migrates while the app's DATABASE_URL stays pooled. The app itself works
through the pooler."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db as flask_db
from safemigrate.release.errors import PoolerRefused
from safemigrate.release.lock import POOLER_REFUSAL, refuse_transaction_pooler
from tests.support.cli_helpers import assert_clean_failure
from tests.support.db_helpers import config_for
from tests.support.pgbouncer import SYSTEM_USER, PgBouncer, ensure_pgbouncer, system_user_exists
from tests.support.planting import HEAD
from tests.support.release_helpers import finish, runner, spawn_runner, version_rows


@pytest.fixture(scope="session")
def pgbouncer_binary():
    binary, reason = ensure_pgbouncer()
    if not binary:
        pytest.skip(f"PgBouncer tests skipped: {reason}")
    return binary


@pytest.fixture
def pgbouncer(pgbouncer_binary, server_url):
    if os.geteuid() == 0 and not system_user_exists():
        pytest.skip(f"PgBouncer tests skipped: pgbouncer refuses root and there is no {SYSTEM_USER} user")
    bouncer = PgBouncer(pgbouncer_binary, server_url).start()
    yield bouncer
    bouncer.stop()


def url_text(url) -> str:
    return url.render_as_string(hide_password=False)


def advisory_locks(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        ).scalar_one()


def settings_seen_through(pooled_url, clients: int = 4) -> set[tuple[str, str]]:
    """lock_timeout and statement_timeout as several clients of the pool see them."""
    engine = sa.create_engine(pooled_url, poolclass=sa.pool.NullPool)
    seen = set()
    try:
        connections = [engine.connect() for _ in range(clients)]
        for connection in connections:
            seen.add(
                (
                    connection.exec_driver_sql("SHOW lock_timeout").scalar_one(),
                    connection.exec_driver_sql("SHOW statement_timeout").scalar_one(),
                )
            )
            connection.commit()
        for connection in connections:
            connection.close()
    finally:
        engine.dispose()
    return seen


def test_concurrent_runners_through_the_pooler_all_refuse_and_touch_nothing(pgbouncer, empty_database_url):
    pooled = pgbouncer.url(empty_database_url.database)
    direct = sa.create_engine(empty_database_url)
    try:
        processes = [spawn_runner(database_url=pooled) for _ in range(4)]
        results = [finish(process) for process in processes]

        # Deterministic: every runner refuses, with one line that says what to do.
        for code, stderr in results:
            assert code == 2, stderr
            errors = [line for line in stderr.splitlines() if " ERROR " in line]
            assert len(errors) == 1, stderr
            assert "transaction-pooling connection pooler" in errors[0]
            assert "MIGRATION_DATABASE_URL" in errors[0]
            assert "Traceback" not in stderr
        # Nothing touched: no table, no lock left on any pooled server connection, no setting.
        assert version_rows(direct) == []
        assert advisory_locks(direct) == 0
        assert settings_seen_through(pooled) == {("0", "0")}
        # And a direct runner afterwards finds no stranded lock.
        after = runner("--wait", "5", database_url=empty_database_url)
        assert after.returncode == 0, after.stderr
        assert version_rows(direct) == [HEAD]
    finally:
        direct.dispose()


def test_a_pooler_that_hands_each_client_the_same_server_connection_every_time_is_refused(
    pgbouncer_binary, server_url, empty_database_url
):
    """What made the concurrent test flaky, made deterministic: a transaction pooler may hand each of
    the runner's two clients a server connection of its own for as long as the probe lasts (here:
    round robin over two warm server connections; there: other runners' transactions in between).
    Comparing backend pids across transactions cannot tell that from PostgreSQL; the refusal must not
    depend on what the pool happens to do."""
    if os.geteuid() == 0 and not system_user_exists():
        pytest.skip(f"PgBouncer tests skipped: pgbouncer refuses root and there is no {SYSTEM_USER} user")
    bouncer = PgBouncer(pgbouncer_binary, server_url, pool_size=2, server_round_robin="1").start()
    engine = sa.create_engine(bouncer.url(empty_database_url.database), poolclass=sa.pool.NullPool)
    try:
        # Two server connections in the pool, both idle.
        warm = [engine.connect() for _ in range(2)]
        pids = {connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() for connection in warm}
        for connection in warm:
            connection.close()
        assert len(pids) == 2
        with (
            engine.connect().execution_options(isolation_level="AUTOCOMMIT") as first,
            engine.connect() as second,
        ):
            # The pool keeps each client on one server connection: the pids never mix...
            seen = {(backend_pid(first), backend_pid(second)) for _ in range(5)}
            assert len(seen) == 1 and len(set(next(iter(seen)))) == 2
            # ...and the runner refuses all the same.
            with pytest.raises(PoolerRefused, match="MIGRATION_DATABASE_URL"):
                refuse_transaction_pooler(first, second)
    finally:
        engine.dispose()
        bouncer.stop()


def test_a_direct_connection_is_accepted(empty_database_url):
    engine = sa.create_engine(empty_database_url, poolclass=sa.pool.NullPool)
    try:
        with (
            engine.connect().execution_options(isolation_level="AUTOCOMMIT") as first,
            engine.connect() as second,
        ):
            refuse_transaction_pooler(first, second)
    finally:
        engine.dispose()


def backend_pid(connection) -> int:
    pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    connection.commit()
    return pid


def test_migration_database_url_migrates_while_the_app_url_stays_pooled(pgbouncer, empty_database_url):
    pooled = pgbouncer.url(empty_database_url.database)
    code, stderr = finish(
        spawn_runner(database_url=pooled, MIGRATION_DATABASE_URL=url_text(empty_database_url))
    )
    assert code == 0, stderr
    direct = sa.create_engine(empty_database_url)
    try:
        assert version_rows(direct) == [HEAD]
        assert advisory_locks(direct) == 0
    finally:
        direct.dispose()
    # The runner's session settings stayed on its own direct session.
    assert settings_seen_through(pooled) == {("0", "0")}
    # Read-only modes need no lock and no setting: they work through the pooler.
    check = runner("--check", database_url=pooled)
    assert check.returncode == 0, check.stderr


def test_the_web_app_works_through_the_pooler(pgbouncer, database_url):
    app = create_app(config_for(pgbouncer.url(database_url.database)))
    try:
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        created = client.post(
            "/api/v1/users", json={"email": "pool@example.com", "password": "pooled pass 123"}
        )
        assert created.status_code == 201, created.get_json()
        token = client.post(
            "/api/v1/auth/token", json={"email": "pool@example.com", "password": "pooled pass 123"}
        ).get_json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        # More requests than server connections in the pool: each transaction takes whichever is free.
        for number in range(6):
            made = client.post("/api/v1/items", json={"title": f"item {number}"}, headers=headers)
            assert made.status_code == 201, made.get_json()
        listed = client.get("/api/v1/items?limit=100", headers=headers).get_json()
        assert sorted(item["title"] for item in listed["items"]) == [f"item {n}" for n in range(6)]
        assert client.get("/readyz").status_code == 200
    finally:
        with app.app_context():
            flask_db.engine.dispose()


def test_refusal_message_is_clean_for_a_single_runner(pgbouncer, database_url):
    result = runner(database_url=pgbouncer.url(database_url.database))
    assert_clean_failure(result, line=f"run_migration ERROR {POOLER_REFUSAL}", code=2)
