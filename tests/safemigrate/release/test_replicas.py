"""The runner and the read replicas (hot standbys) it is told about: MIGRATION_REPLICA_URLS."""

from __future__ import annotations

import sqlalchemy as sa


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
