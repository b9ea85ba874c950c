"""NOT NULL on a live table: through a validated CHECK, so SET NOT NULL needs no scan under lock."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safemigrate.errors import SafeMigrateError
from safemigrate.library_compat import copy_column
from safemigrate.safe.data import backfill_in_batches
from safemigrate.safe.run import (
    constraint_exists,
    escape_colons,
    execute,
    note_guarded,
    outside_transaction,
    query,
    quote,
    table_ref,
)


def set_not_null(table_name: str, column_name: str, *, schema: str | None = None) -> None:
    """SET NOT NULL on an existing column without a long ACCESS EXCLUSIVE lock.

    ADD CONSTRAINT ck_<table>_<col>_not_null CHECK (col IS NOT NULL) NOT VALID (instant), VALIDATE
    CONSTRAINT (scans with reads and writes going on), ALTER COLUMN SET NOT NULL (PostgreSQL 12+
    trusts the valid CHECK and skips the scan), DROP CONSTRAINT. Each step is its own transaction and
    skipped when already done, so a failed run can be repeated.
    """
    table, col = table_ref(table_name, schema), quote(column_name)
    name = f"ck_{table_name}_{column_name}_not_null"
    check = quote(name)
    with outside_transaction():
        already = query(
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = to_regclass(:table) AND attname = :col",
            table=table,
            col=column_name,
        )
        if not already:
            if not constraint_exists(table_name, name, schema):
                _refuse_nulls(table, col, f"{table_name}.{column_name}")
                note_guarded(f"skipped when constraint {name} exists")
                execute(f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({col} IS NOT NULL) NOT VALID")
            execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}")
            execute(f"ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL")
        execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}")


class NullsLeft(SafeMigrateError):
    """A column to be made NOT NULL still holds NULLs: nothing was constrained."""


def _refuse_nulls(table: str, col: str, shown: str) -> None:
    """A NOT VALID CHECK is enforced on new rows the moment it commits: added while NULLs are left, it
    would fail the running release's writes of NULL and then fail at VALIDATE anyway. Stop first, in
    one line (the lookup stops at the first NULL; it scans the table only when there is none)."""
    if query(f"SELECT EXISTS (SELECT FROM {table} WHERE {col} IS NULL)"):
        raise NullsLeft(
            f"{shown} still holds NULLs, so no constraint was added: backfill them first "
            f"(safe.backfill_in_batches, or flask db migrate --backfill {shown}=VALUE), then run again"
        )


def add_not_null_column(
    table_name: str,
    column: sa.Column,
    *,
    backfill: str,
    batch_size: int = 1000,
    **params,
) -> None:
    """Add a NOT NULL column to a big table without a long lock.

    1. ADD COLUMN, nullable (metadata only; a constant server_default is fine too);
    2. backfill NULLs in batches with the SQL expression `backfill`;
    3. then `set_not_null`: CHECK NOT VALID, VALIDATE, SET NOT NULL, drop the CHECK.
    Every step is idempotent, so a failed run can be repeated.
    """
    name = column.name
    # With `params`, `backfill` holds the bind parameters and the column's quoted name must hold none.
    column_sql = escape_colons(quote(name)) if params else quote(name)
    nullable = copy_column(column)
    nullable.nullable = True
    with outside_transaction():
        op.add_column(table_name, nullable, if_not_exists=True)
        backfill_in_batches(
            table_name,
            f"{column_sql} = {backfill}",
            f"{column_sql} IS NULL",
            batch_size=batch_size,
            **params,
        )
        set_not_null(table_name, name)
