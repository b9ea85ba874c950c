"""`flask db drift`: the live schema against the one its revisions build.

The expected schema is built for real: a scratch database on the same server (CREATE DATABASE),
or on a throwaway embedded server when the role may not create databases, migrated to the live
database's revision with the same scripts, then dropped. Both are read with the same catalogue
queries (app/schema/drift_catalog.py) and compared by app/schema/drift_diff.py.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg2 import errors as pg_errors
from psycopg2 import sql as pg_sql
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from app.database_admin import admin_connect, drop_database
from app.schema.drift_catalog import snapshot
from app.schema.drift_diff import Difference, compare
from app.schema.state import alembic_config, run_scripts
from config import error_summary

log = logging.getLogger(__name__)
__all__ = ["Difference", "DriftError", "find_drift"]


class DriftError(Exception):
    """The check could not run (one line for the operator)."""


def find_drift(url: URL, scripts: ScriptDirectory) -> list[Difference]:
    """Differences between the live database at `url` and its revisions' schema."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            heads = tuple(MigrationContext.configure(connection).get_current_heads())
            live = snapshot(connection)
    except SQLAlchemyError as exc:
        raise DriftError(f"cannot read the schema of {_where(url)}: {error_summary(exc)}") from None
    finally:
        engine.dispose()
    with scratch_database(url) as scratch_url:
        expected = _build(scratch_url, scripts, heads)
    return compare(live, expected)


def _build(url: URL, scripts: ScriptDirectory, heads: tuple[str, ...]) -> dict:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            for head in heads:
                run_scripts(alembic_config(connection, directory=Path(scripts.dir)), scripts, "upgrade", head)
            return snapshot(connection)
    except SQLAlchemyError as exc:
        raise DriftError(f"the revisions do not build in a scratch database: {error_summary(exc)}") from None
    finally:
        engine.dispose()


@contextmanager
def scratch_database(url: URL):
    """A new empty database on the same server, or on an embedded one; dropped afterwards."""
    name = f"drift_scratch_{secrets.token_hex(6)}"
    try:
        conn = admin_connect(url)
    except Exception as exc:  # noqa: BLE001 (psycopg2 connection errors)
        raise DriftError(f"cannot connect to {_where(url)}: {error_summary(exc)}") from None
    try:
        with conn.cursor() as cur:
            cur.execute(pg_sql.SQL("CREATE DATABASE {}").format(pg_sql.Identifier(name)))
    except pg_errors.InsufficientPrivilege:
        conn.close()
        log.info("no CREATE DATABASE privilege: the expected schema is built on a throwaway embedded server")
        with embedded_scratch(name) as scratch_url:
            yield scratch_url
        return
    except Exception as exc:  # noqa: BLE001
        conn.close()
        raise DriftError(f"cannot create a scratch database: {error_summary(exc)}") from None
    conn.close()
    try:
        yield url.set(database=name)
    finally:
        drop_database(url, name)


@contextmanager
def embedded_scratch(name: str):
    from app.database_admin import create_database
    from app.embedded_db import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="drift-") as folder:
        server = EmbeddedPostgres(Path(folder) / "pgdata")
        server.start(database="postgres")
        try:
            create_database(server.url("postgres"), name)
            yield server.url(name)
        finally:
            server.stop()


def _where(url: URL) -> str:
    return f"database {url.database!r} on {url.host or 'localhost'}{f':{url.port}' if url.port else ''}"
