"""The embedded development server: idempotent start, a real database, a clean stop."""

import shutil
import tempfile
from pathlib import Path

import psycopg2
import pytest

from devdb.embedded import EmbeddedPostgres
from safemigrate.scratch import admin_connect


@pytest.fixture
def pgdata():
    """A data folder outside pytest's tmp_path: as root the server runs as its own system user, and
    every pytest start (another session's, too) resets /tmp/pytest-of-root to 0700, locking it out."""
    folder = Path(tempfile.mkdtemp(prefix="pgtest-lifecycle-"))
    yield folder / "pgdata"
    shutil.rmtree(folder, ignore_errors=True)


def test_start_is_idempotent_and_stop_stops(pgdata):
    server = EmbeddedPostgres(pgdata)
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
