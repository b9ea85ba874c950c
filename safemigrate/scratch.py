"""Server-level chores (create, clone and drop databases) for the dev server and the tests."""

from __future__ import annotations

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import URL


def admin_connect(url: URL):
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
