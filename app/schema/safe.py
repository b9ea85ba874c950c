"""Zero-downtime building blocks for revision authors. Import them in a migration file:

    from app.schema import safe

    def upgrade():
        safe.create_index_concurrently("ix_items_owner_id_created_at", "items", ["owner_id", "created_at"])

Each helper commits what Alembic has done so far and works outside a transaction (Alembic's
`autocommit_block`), one short statement at a time, so no long-lived lock is ever held. Each is
idempotent, so a revision that failed half-way (a lock timeout, a killed runner) can simply be run
again. `flask db lint` recognises the SQL they produce as safe.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time

import sqlalchemy as sa
from alembic import op

# Progress of long steps; shown by run_migration.py and by `flask db upgrade` (migrations/alembic.ini).
log = logging.getLogger("app.schema.safe")


def _offline() -> bool:
    return op.get_context().as_sql


def _execute(statement: str, **params) -> sa.CursorResult | None:
    """Run (online) or print (offline, --sql) one statement."""
    text = sa.text(statement)
    if _offline():
        op.execute(text.bindparams(**params) if params else text)
        return None
    return op.get_bind().execute(text, params)


def _quote(name: str) -> str:
    return op.get_context().dialect.identifier_preparer.quote(name)


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


# -- indexes -----------------------------------------------------------------------------------
def drop_invalid_index(index_name: str) -> bool:
    """Drop `index_name` if it is an INVALID leftover of a failed CREATE INDEX CONCURRENTLY.

    Call inside `outside_transaction()`. Returns whether something was dropped.
    """
    if _offline():
        return False
    invalid = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :name AND pg_catalog.pg_table_is_visible(c.oid)"
            ),
            {"name": index_name},
        )
        .scalar()
    )
    if invalid:
        log.warning("dropping INVALID index %s left by an earlier failed attempt", index_name)
        op.get_bind().execute(sa.text(f"DROP INDEX CONCURRENTLY IF EXISTS {_quote(index_name)}"))
        return True
    return False


def create_index_concurrently(index_name: str, table_name: str, columns: list, **kw) -> None:
    """CREATE INDEX CONCURRENTLY: writes keep flowing while the index builds.

    An INVALID index of the same name (from an earlier attempt that failed or was killed) is
    dropped first; a valid one is kept (IF NOT EXISTS), so a re-run is harmless.
    """
    with outside_transaction():
        drop_invalid_index(index_name)
        op.create_index(
            index_name, table_name, columns, postgresql_concurrently=True, if_not_exists=True, **kw
        )


def drop_index_concurrently(index_name: str, table_name: str) -> None:
    """DROP INDEX CONCURRENTLY IF EXISTS: no lock that blocks reads or writes."""
    with outside_transaction():
        op.drop_index(index_name, table_name=table_name, postgresql_concurrently=True, if_exists=True)


# -- data --------------------------------------------------------------------------------------
def backfill_in_batches(
    table_name: str,
    set_clause: str,
    where: str,
    *,
    batch_size: int = 1000,
    key: str = "id",
    pause: float = 0.0,
    **params,
) -> int:
    """UPDATE `table_name` SET `set_clause` for the rows matching `where`, `batch_size` rows at a time.

    Each batch is its own short transaction (the helper steps out of the revision's transaction for
    that), so row locks are held briefly and live writes to the same rows wait at most one batch.
    Batches walk `key` upwards, each starting where the last ended: linear, however big the table.
    `where` should stop matching a row once it is updated (e.g. `col IS NULL`): that is what makes
    the backfill restartable after a failure. Returns the number of rows updated.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    table, key_column = _quote(table_name), _quote(key)

    def batch_sql(after: bool) -> str:
        bound = f"{key_column} > :_after AND " if after else ""
        return (
            f"UPDATE {table} SET {set_clause} WHERE {key_column} IN "
            f"(SELECT {key_column} FROM {table} WHERE {bound}({where}) "
            f"ORDER BY {key_column} LIMIT {int(batch_size)}) "
            f"RETURNING {key_column}"
        )

    with outside_transaction():
        if _offline():
            _execute(
                f"-- repeated, walking {key} upwards, until no row matches\n{batch_sql(False)}", **params
            )
            return 0
        total, batches, last, started = 0, 0, None, time.monotonic()
        while True:
            bound = {} if last is None else {"_after": last}
            keys = (
                op.get_bind()
                .execute(sa.text(batch_sql(last is not None)), {**params, **bound})
                .scalars()
                .all()
            )
            if not keys:
                break
            total, batches, last = total + len(keys), batches + 1, max(keys)
            if batches % 100 == 0:
                log.info("backfill %s: %d rows so far (%.1fs)", table_name, total, time.monotonic() - started)
            if pause:
                time.sleep(pause)
    log.info(
        "backfill %s: %d rows in %d batches (%.1fs)", table_name, total, batches, time.monotonic() - started
    )
    return total


# -- columns -----------------------------------------------------------------------------------
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
    3. ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID (instant);
    4. VALIDATE CONSTRAINT (scans, but lets reads and writes through);
    5. SET NOT NULL (PostgreSQL 12+ trusts the valid CHECK and skips the scan);
    6. drop the CHECK, now redundant.
    Every step is idempotent, so a failed run can be repeated.
    """
    name = column.name
    table, col = _quote(table_name), _quote(name)
    check = _quote(f"ck_{table_name}_{name}_not_null")
    nullable = column._copy()
    nullable.nullable = True
    with outside_transaction():
        op.add_column(table_name, nullable, if_not_exists=True)
        backfill_in_batches(
            table_name, f"{col} = {backfill}", f"{col} IS NULL", batch_size=batch_size, **params
        )
        _execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}")
        _execute(f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({col} IS NOT NULL) NOT VALID")
        _execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}")
        _execute(f"ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL")
        _execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}")
