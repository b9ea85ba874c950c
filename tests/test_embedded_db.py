"""The embedded development server: idempotent start, a real database, a clean stop."""

import psycopg2
import pytest

from app.database_admin import admin_connect
from app.embedded_db import EmbeddedPostgres


def test_start_is_idempotent_and_stop_stops(tmp_path):
    server = EmbeddedPostgres(tmp_path / "pgdata")
    assert not server.is_running()
    try:
        url = server.start()
        assert server.is_running()
        assert server.start() == url  # a second start finds it running
        assert url.database == "app"
        connection = admin_connect(url)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_database(), current_setting('listen_addresses')")
                assert cursor.fetchone() == ("app", "")  # a unix socket only: no port to clash with
        finally:
            connection.close()
    finally:
        assert server.stop() is True
    assert not server.is_running()
    assert server.stop() is False
    with pytest.raises(psycopg2.OperationalError):
        admin_connect(url)
