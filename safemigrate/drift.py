"""`flask db drift`: the live schema against the one its revisions build.

The expected schema is built for real: a scratch database on the same server (CREATE DATABASE),
migrated to the live database's revision with the same scripts, then dropped. When the role may
not create databases, a development host may hand a throwaway server (`scratch_server`); without
one (production) the check refuses in one line. Both schemas are read with the same catalogue
queries (safemigrate/snapshot/catalogue.py) and compared by safemigrate/snapshot/diff.py.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg2 import errors as pg_errors
from psycopg2 import sql as pg_sql
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from safemigrate.errors import EXIT_USAGE, SafeMigrateError, error_summary
from safemigrate.scratch import admin_connect, create_database, drop_database
from safemigrate.snapshot.catalogue import snapshot
from safemigrate.snapshot.diff import Difference, compare
from safemigrate.state import alembic_config, run_scripts

log = logging.getLogger(__name__)
__all__ = ["Difference", "DriftError", "find_drift"]


class DriftError(SafeMigrateError):
    """The check could not run (one line for the operator)."""

    exit_code = EXIT_USAGE


ScratchServer = Callable[[], AbstractContextManager[URL]]


def find_drift(
    url: URL, scripts: ScriptDirectory, *, scratch_server: ScratchServer | None = None
) -> list[Difference]:
    """Differences between the live database at `url` and its revisions' schema.

    `scratch_server`, when given, yields the URL of a throwaway server's maintenance database, used
    when the role may not create databases on the live server (development only).
    """
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            heads = tuple(MigrationContext.configure(connection).get_current_heads())
            live = snapshot(connection)
    except SQLAlchemyError as exc:
        raise DriftError(f"cannot read the schema of {_where(url)}: {error_summary(exc)}") from None
    finally:
        engine.dispose()
    with scratch_database(url, scratch_server) as scratch_url:
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
def scratch_database(url: URL, scratch_server: ScratchServer | None = None):
    """A new empty database on the same server, or on `scratch_server`'s; dropped afterwards."""
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
        if scratch_server is None:
            raise DriftError(
                f"the role {url.username!r} may not CREATE DATABASE, so the expected schema cannot be built: "
                "grant it CREATEDB, or run the check with a role that has it (MIGRATION_DATABASE_URL)"
            ) from None
        log.info("no CREATE DATABASE privilege: the expected schema is built on a throwaway server")
        with _on_scratch_server(scratch_server, name) as scratch_url:
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
def _on_scratch_server(scratch_server: ScratchServer, name: str):
    try:
        with scratch_server() as server_url:
            create_database(server_url, name)
            yield server_url.set(database=name)
    except DriftError:
        raise
    except Exception as exc:  # noqa: BLE001 (whatever the host's server raises: one line)
        raise DriftError(f"the scratch server could not be used: {error_summary(exc)}") from None


def _where(url: URL) -> str:
    return f"database {url.database!r} on {url.host or 'localhost'}{f':{url.port}' if url.port else ''}"
