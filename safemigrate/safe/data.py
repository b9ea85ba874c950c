"""Data changes in short batches: row locks held briefly, restartable after a failure."""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

from safemigrate.safe.run import escape_colons, execute_text, log, offline, outside_transaction, quote

# How long one batch should hold its row locks: a concurrent write to a row in the batch waits at most
# about this long, well under the runner's 200 ms lock_timeout, and per-statement costs (a round trip,
# a commit) are a few percent of it.
BATCH_SECONDS = 0.1
# A batch grows at most this much over the last (a faster stretch of the table may not last); it
# shrinks at once to what the last batch's speed says fits BATCH_SECONDS.
MAX_GROWTH = 2.0


def next_batch_size(size: int, seconds: float, target: float) -> int:
    """The keys the next batch should walk: this batch's speed (`size` keys in `seconds`) times
    `target`, at most MAX_GROWTH times `size`, at least 1."""
    if seconds <= 0:
        return max(1, int(size * MAX_GROWTH))
    return max(1, min(int(size * MAX_GROWTH), int(size * target / seconds)))


def backfill_in_batches(
    table_name: str,
    set_clause: str,
    where: str,
    *,
    batch_size: int = 1000,
    key: str = "id",
    pause: float = 0.0,
    batch_seconds: float | None = BATCH_SECONDS,
    **params,
) -> int:
    """UPDATE `table_name` SET `set_clause` for the rows matching `where`, in batches that each take
    about `batch_seconds` (0.1 s).

    Each batch is its own short transaction (the helper steps out of the revision's transaction for
    that), so row locks are held briefly and live writes to the same rows wait at most one batch.
    Batches walk `key` (which must be indexed: the primary key) upwards, each a range of keys starting
    where the last ended: linear, however big the table. The first batch walks `batch_size` keys; each
    next one is sized from the last one's speed to take `batch_seconds` (at most twice as many keys as
    the last), so the backfill runs as fast as the table and the machine allow and slows down when they
    do. `batch_seconds=None` keeps every batch at `batch_size` keys. Rows inserted beyond the last key
    once the walk has passed it are not visited: the app writes the column for new rows.
    `where` should stop matching a row once it is updated (e.g. `col IS NULL`): that is what makes
    the backfill restartable after a failure. `params` are the bind parameters (`:name`) of `set_clause`
    and `where`; without any, every colon in them is taken as written. Returns the number of rows updated.

    Offline (--sql) it prints one batch of `batch_size` rows, to be repeated until it updates none.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if batch_seconds is not None and not batch_seconds > 0:
        raise ValueError("batch_seconds must be a positive number of seconds, or None")
    table, key_column = escape_colons(quote(table_name)), escape_colons(quote(key))
    if not params:  # no bind parameters of the caller's: every colon in its SQL is its own
        set_clause, where = escape_colons(set_clause), escape_colons(where)

    with outside_transaction():
        if offline():
            # A statement a person can repeat by hand: it picks its own rows, needing no key to carry.
            comment = f"-- repeated, walking {escape_colons(key)} upwards, until no row matches"
            repeatable = (
                f"UPDATE {table} SET {set_clause} WHERE {key_column} IN "
                f"(SELECT {key_column} FROM {table} WHERE ({where}) "
                f"ORDER BY {key_column} LIMIT {int(batch_size)}) "
                f"RETURNING {key_column}"
            )
            execute_text(sa.text(f"{comment}\n{repeatable}"), params)
            return 0
        connection = op.get_bind()

        def run(statement: str, bounds: dict):
            return connection.execute(sa.text(statement), {**params, **bounds})

        total, batches, after, size, started = 0, 0, None, batch_size, time.monotonic()
        longest = 0.0  # the longest a batch held its row locks: what a live write may have waited
        while True:
            lower = "" if after is None else f"{key_column} > :_after AND "
            bounds: dict[str, object] = {} if after is None else {"_after": after}
            # The batch's last key: found on the key's index alone, no row locked.
            upto = run(
                f"SELECT {key_column} FROM {table} WHERE {lower}TRUE "
                f"ORDER BY {key_column} OFFSET {int(size) - 1} LIMIT 1",
                bounds,
            ).scalar()
            upper = "" if upto is None else f"{key_column} <= :_upto AND "
            batch_started = time.monotonic()
            updated = run(
                f"UPDATE {table} SET {set_clause} WHERE {lower}{upper}({where})",
                {**bounds, **({} if upto is None else {"_upto": upto})},
            ).rowcount
            took = time.monotonic() - batch_started
            total, batches, longest = total + updated, batches + 1, max(longest, took)
            if upto is None:  # fewer than `size` keys were left: that batch was the last
                break
            after = upto
            if batch_seconds is not None:
                size = next_batch_size(size, took, batch_seconds)
            if batches % 100 == 0:
                log.info(
                    "backfill %s: %d rows so far, batches of %d keys (%.1fs)",
                    table_name,
                    total,
                    size,
                    time.monotonic() - started,
                )
            if pause:
                time.sleep(pause)
    log.info(
        "backfill %s: %d rows in %d batches (%.1fs, longest batch %d ms)",
        table_name,
        total,
        batches,
        time.monotonic() - started,
        round(longest * 1000),
    )
    return total
