"""How every helper runs a statement: online or offline (--sql), outside the revision's transaction."""

from __future__ import annotations

import contextlib
import contextvars
import logging

import sqlalchemy as sa
from alembic import op

# Progress of long steps; shown by run_migration.py and by `flask db upgrade` (migrations/alembic.ini).
log = logging.getLogger("safemigrate.safe")


def offline() -> bool:
    return op.get_context().as_sql


def execute(statement: str, **params) -> sa.CursorResult | None:
    """Run (online) or print (offline, --sql) one statement.

    With `params`, each `:name` in the statement is a bind parameter (sa.text). Without, the statement
    reaches PostgreSQL exactly as written: its colons (in quoted names, string literals, a condition
    the caller wrote) are escaped from sa.text(), which would read ':name' as a bind parameter.
    """
    return execute_text(sa.text(statement if params else escape_colons(statement)), params)


# Written before a statement a helper makes safe to run again by a catalogue lookup that the --sql
# output cannot show (skipped when its object exists, an INVALID leftover dropped first): the review
# (not-rerunnable) counts the statement as re-runnable.
GUARDED = "-- guarded:"


def note_guarded(what: str) -> None:
    """Offline (--sql, the review): a `-- guarded:` line before the next statement, which the helper
    makes safe to run again by a catalogue lookup the SQL cannot show. Online: nothing."""
    if offline():
        execute(f"{GUARDED} {what}")


def execute_text(text: sa.TextClause, params: dict) -> sa.CursorResult | None:
    """Run (online) or print (offline) a sa.text() whose bind parameters are `params`."""
    if offline():
        op.execute(text.bindparams(**params) if params else text)
        return None
    return op.get_bind().execute(text, params)


def escape_colons(sql: str) -> str:
    """`sql` for sa.text() with none of its colons read as a bind parameter (sa.text turns '\\:' back)."""
    return sql.replace(":", "\\:")


def query(statement: str, **params):
    """A catalog lookup, online only (offline there is no database: None)."""
    if offline():
        return None
    return op.get_bind().execute(sa.text(statement), params).scalar()


def quote(name: str) -> str:
    return op.get_context().dialect.identifier_preparer.quote(name)


def table_ref(table_name: str, schema: str | None = None) -> str:
    """A table's name for SQL, schema-qualified when the table is in another schema than the current."""
    return f"{quote(schema)}.{quote(table_name)}" if schema else quote(table_name)


def literal(value: str) -> str:
    """A string literal for `execute`: quotes doubled (`execute` keeps its colons)."""
    return "'" + value.replace("'", "''") + "'"


def column_list(columns) -> str:
    return ", ".join(quote(c) for c in columns)


def constraint_exists(table_name: str, name: str, schema: str | None = None) -> bool:
    """Online: whether `table_name` has a constraint `name`. Offline: False (print every step)."""
    return bool(
        query(
            "SELECT 1 FROM pg_constraint WHERE conname = :name AND conrelid = to_regclass(:table)",
            name=name,
            table=table_ref(table_name, schema),
        )
    )


_outside = contextvars.ContextVar("outside_transaction", default=False)


@contextlib.contextmanager
def outside_transaction():
    """Alembic's autocommit_block (commit the revision's work so far, then run each statement in its
    own transaction), entered once even when helpers nest."""
    if _outside.get():
        yield
        return
    token = _outside.set(True)
    try:
        with op.get_context().autocommit_block():
            yield
    finally:
        _outside.reset(token)
