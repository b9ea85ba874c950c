"""The runner and the read replicas (hot standbys) it is told about: MIGRATION_REPLICA_URLS."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from safemigrate.release.lock import where
from tests.support.cli_helpers import assert_clean_failure
from tests.support.planting import copy_migrations, plant
from tests.support.release_helpers import runner, written


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
