"""Indexes built and dropped CONCURRENTLY: reads and writes go on meanwhile."""

from __future__ import annotations

from alembic import op

from safemigrate.safe.run import execute, log, note_guarded, outside_transaction, query, table_ref


def drop_invalid_index(index_name: str, schema: str | None = None) -> bool:
    """Drop `index_name` (in `schema`, else the one the search path finds) if it is an INVALID
    leftover of a failed CREATE INDEX CONCURRENTLY.

    Call inside `outside_transaction()`. Returns whether something was dropped.
    """
    invalid = query(
        "SELECT NOT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(:name)",
        name=table_ref(index_name, schema),
    )
    if invalid:
        log.warning("dropping INVALID index %s left by an earlier failed attempt", index_name)
        execute(f"DROP INDEX CONCURRENTLY IF EXISTS {table_ref(index_name, schema)}")
        return True
    return False


def create_index_concurrently(index_name: str, table_name: str, columns: list, **kw) -> None:
    """CREATE INDEX CONCURRENTLY: writes keep flowing while the index builds.

    An INVALID index of the same name (from an earlier attempt that failed or was killed) is
    dropped first; a valid one is kept (IF NOT EXISTS), so a re-run is harmless.
    """
    with outside_transaction():
        drop_invalid_index(index_name, kw.get("schema"))
        note_guarded(f"an INVALID {index_name} left by a failed attempt is dropped first")
        op.create_index(
            index_name, table_name, columns, postgresql_concurrently=True, if_not_exists=True, **kw
        )


def drop_index_concurrently(index_name: str, table_name: str, *, schema: str | None = None) -> None:
    """DROP INDEX CONCURRENTLY IF EXISTS: no lock that blocks reads or writes."""
    with outside_transaction():
        op.drop_index(
            index_name, table_name=table_name, schema=schema, postgresql_concurrently=True, if_exists=True
        )
