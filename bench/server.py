"""The database server a benchmark runs on: DATABASE_URL's, or a throwaway embedded PostgreSQL."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL

from config import normalise_database_url


@contextmanager
def database_server() -> Iterator[URL]:
    """A maintenance-database URL: DATABASE_URL's server (it must be allowed to create databases),
    else an embedded server in a temporary folder, stopped and removed afterwards."""
    given = os.environ.get("DATABASE_URL")
    if given:
        yield normalise_database_url(given).set(database="postgres")
        return
    from devdb.embedded import EmbeddedPostgres

    folder = Path(tempfile.mkdtemp(prefix="bench-server-"))
    server = EmbeddedPostgres(folder / "pgdata")
    try:
        yield server.start(database="postgres")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
