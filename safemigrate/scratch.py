"""Server-level chores: create, clone and drop databases, and the scratch databases the toolkit
builds schemas in (`flask db drift`, `flask db squash`); also used by the dev server and the tests."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import psycopg2
from psycopg2 import errors as pg_errors
from psycopg2 import sql
from sqlalchemy.engine import URL

from safemigrate.errors import SafeMigrateError, error_summary

# A host's throwaway server (development only): a callable returning a context manager that yields
# the URL of that server's maintenance database.
ScratchServer = Callable[[], AbstractContextManager[URL]]


def admin_connect(url: URL) -> psycopg2.extensions.connection:
    """An autocommit psycopg2 connection: CREATE/DROP DATABASE cannot run in a transaction."""
    conn = psycopg2.connect(**url.translate_connect_args(username="user", database="dbname"), **url.query)
    conn.autocommit = True
    return conn


def create_database(server_url: URL, name: str, template: str | None = None) -> bool:
    """Create database `name` (a clone of `template` when given) unless it exists.

    `server_url` is any database on the server. Returns False when the database already existed.
    """
    conn = admin_connect(server_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone():
                return False
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                # FILE_COPY clones a small database much faster than the default WAL_LOG.
                statement += sql.SQL(" TEMPLATE {} STRATEGY FILE_COPY").format(sql.Identifier(template))
            cur.execute(statement)
            return True
    finally:
        conn.close()


def drop_database(server_url: URL, name: str) -> None:
    conn = admin_connect(server_url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        conn.close()


class ScratchUnavailable(SafeMigrateError):
    """No scratch database could be made. `step` says what failed, for the caller's own one line:
    "connect" (to the server), "privilege" (the role may not CREATE DATABASE and no scratch server
    was given), "create" (any other refusal), "scratch server" (the host's throwaway server);
    `detail` is the first line of the server's error, without a password."""

    def __init__(self, step: str, detail: str):
        super().__init__(f"cannot create a scratch database on the server: {detail}")
        self.step, self.detail = step, detail


@contextmanager
def scratch_database(
    server_url: URL, purpose: str, *, scratch_server: ScratchServer | None = None, template: str | None = None
) -> Iterator[URL]:
    """A new empty database on the server of `server_url`, yielded as its URL and dropped afterwards.

    Its name says `purpose` and ends in a random token (pids repeat across containers sharing a
    server). When the role may not create databases and
    `scratch_server` is given, the database is made on that server instead (development only).
    `template` clones that database of the same server instead of starting empty.
    Raises ScratchUnavailable before yielding when there is none to be had.
    """
    name = f"{purpose}_scratch_{secrets.token_hex(6)}"
    try:
        conn = admin_connect(server_url)
    except Exception as exc:  # noqa: BLE001 (psycopg2 connection errors)
        raise ScratchUnavailable("connect", error_summary(exc)) from None
    try:
        with conn.cursor() as cur:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                statement += sql.SQL(" TEMPLATE {} STRATEGY FILE_COPY").format(sql.Identifier(template))
            cur.execute(statement)
    except pg_errors.InsufficientPrivilege as exc:
        conn.close()
        if scratch_server is None:
            raise ScratchUnavailable("privilege", error_summary(exc)) from None
        with _on_scratch_server(scratch_server, name) as scratch_url:
            yield scratch_url
        return
    except Exception as exc:  # noqa: BLE001 (one line whatever the driver says)
        conn.close()
        raise ScratchUnavailable("create", error_summary(exc)) from None
    conn.close()
    try:
        yield server_url.set(database=name)
    finally:
        drop_database(server_url, name)


@contextmanager
def _on_scratch_server(scratch_server: ScratchServer, name: str) -> Iterator[URL]:
    # Whatever the host's server raises, including while the block runs on it, becomes one line;
    # the toolkit's own errors pass as they are. The database is dropped even though a throwaway
    # server goes with it: a host may hand a server that outlives the block.
    try:
        with scratch_server() as server_url:
            create_database(server_url, name)
            try:
                yield server_url.set(database=name)
            finally:
                drop_database(server_url, name)
    except SafeMigrateError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ScratchUnavailable("scratch server", error_summary(exc)) from None
