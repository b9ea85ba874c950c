"""`flask db drift`: the live schema against the one its revisions build.

The expected schema is built for real: a scratch database on the same server (CREATE DATABASE,
safemigrate/scratch.py), migrated to the live database's revision with the same scripts, then
dropped. When the role may not create databases, a development host may hand a throwaway server
(`scratch_server`); without one (production) the check refuses in one line. Both schemas are read
with the same catalogue queries (safemigrate/snapshot/catalogue.py) and compared by
safemigrate/snapshot/diff.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from safemigrate import scratch
from safemigrate.errors import EXIT_USAGE, SafeMigrateError, error_summary
from safemigrate.scratch import ScratchServer, ScratchUnavailable
from safemigrate.snapshot.catalogue import snapshot
from safemigrate.snapshot.diff import Difference, compare
from safemigrate.state import alembic_config, current_heads, run_scripts

log = logging.getLogger(__name__)
__all__ = ["Difference", "DriftError", "find_drift"]


class DriftError(SafeMigrateError):
    """The check could not run (one line for the operator)."""

    exit_code = EXIT_USAGE


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
            heads = current_heads(connection)
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
def scratch_database(url: URL, scratch_server: ScratchServer | None = None) -> Iterator[URL]:
    """A new empty database on the same server, or on `scratch_server`'s; dropped afterwards."""
    try:
        with scratch.scratch_database(
            url, "drift", scratch_server=_announced(scratch_server) if scratch_server else None
        ) as scratch_url:
            yield scratch_url
    except ScratchUnavailable as exc:
        raise DriftError(_unavailable(exc, url)) from None


def _unavailable(exc: ScratchUnavailable, url: URL) -> str:
    if exc.step == "connect":
        return f"cannot connect to {_where(url)}: {exc.detail}"
    if exc.step == "privilege":
        return (
            f"the role {url.username!r} may not CREATE DATABASE, so the expected schema cannot be built: "
            "grant it CREATEDB, or run the check with a role that has it (MIGRATION_DATABASE_URL)"
        )
    if exc.step == "scratch server":
        return f"the scratch server could not be used: {exc.detail}"
    return f"cannot create a scratch database: {exc.detail}"


def _announced(scratch_server: ScratchServer) -> ScratchServer:
    @contextmanager
    def server() -> Iterator[URL]:
        log.info("no CREATE DATABASE privilege: the expected schema is built on a throwaway server")
        with scratch_server() as server_url:
            yield server_url

    return server


def _where(url: URL) -> str:
    return f"database {url.database!r} on {url.host or 'localhost'}{f':{url.port}' if url.port else ''}"
