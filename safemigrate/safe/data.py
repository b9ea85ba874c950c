"""Data changes in short batches: row locks held briefly, restartable after a failure."""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

from safemigrate.safe.run import escape_colons, execute_text, log, offline, outside_transaction, quote


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
    the backfill restartable after a failure. `params` are the bind parameters (`:name`) of `set_clause`
    and `where`; without any, every colon in them is taken as written. Returns the number of rows updated.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    table, key_column = escape_colons(quote(table_name)), escape_colons(quote(key))
    if not params:  # no bind parameters of the caller's: every colon in its SQL is its own
        set_clause, where = escape_colons(set_clause), escape_colons(where)

    def batch_sql(after: bool) -> str:
        bound = f"{key_column} > :_after AND " if after else ""
        return (
            f"UPDATE {table} SET {set_clause} WHERE {key_column} IN "
            f"(SELECT {key_column} FROM {table} WHERE {bound}({where}) "
            f"ORDER BY {key_column} LIMIT {int(batch_size)}) "
            f"RETURNING {key_column}"
        )

    with outside_transaction():
        if offline():
            comment = f"-- repeated, walking {escape_colons(key)} upwards, until no row matches"
            execute_text(sa.text(f"{comment}\n{batch_sql(False)}"), params)
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
