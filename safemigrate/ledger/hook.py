"""The glue migrations/env.py uses so that every online run writes the ledger.

`prepare()` runs before Alembic starts (the ledger exists, earlier revisions are adopted, the
checksums of the revisions about to run are rendered in one offline pass), and returns the
`on_version_apply` callback that writes each revision's row in that revision's own transaction.
Each upgrade row carries the revision's down revisions and its verdict for the previous release
(safemigrate/review/compat.py), judged on the same rendered SQL as the checksum, with the column
types the live database has before the run.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from safemigrate.ledger import recorder as ledger
from safemigrate.ledger.checksum import RenderedRevision, checksum_of, render_upgrades
from safemigrate.review.compat import ColumnTypes, Verdict, unknown
from safemigrate.review.sql import TypeKey
from safemigrate.state import current_heads

log = logging.getLogger("alembic.env")


class Recorder:
    """`on_version_apply` callback: one ledger row per revision upgraded or downgraded."""

    def __init__(self, scripts: ScriptDirectory, rendered: dict[str, RenderedRevision]):
        self.scripts = scripts
        self.rendered = rendered
        self.last = time.monotonic()

    def __call__(
        self, *, ctx: MigrationContext, step: MigrationInfo, heads: set[str], run_args: dict[str, Any]
    ) -> None:
        now = time.monotonic()
        duration_ms, self.last = round((now - self.last) * 1000), now
        if step.is_stamp:
            return  # nothing ran; the next run adopts what a stamp marked as applied
        revision, connection = step.up_revision_id, ctx.connection
        # Only a stamp runs no revision, and the ledger is written online, on the migration's connection.
        assert revision is not None and connection is not None
        found = self.rendered.get(revision)
        checksum = found.checksum if found else checksum_of(self.scripts, revision)
        direction = "upgrade" if step.is_upgrade else "downgrade"
        verdict: Verdict | None = None
        if step.is_upgrade:
            # A revision rendered on its own (a downgrade's pass, an odd target) is not judged here.
            verdict = found.verdict if found else unknown("not judged in this run")
        ledger.record(
            connection,
            revision,
            checksum,
            direction,
            duration_ms=duration_ms,
            down_revisions=ledger.down_revisions(self.scripts.get_revision(revision)),
            verdict=verdict,
        )


def prepare(connection: Connection, scripts: ScriptDirectory, destination: str) -> Recorder:
    """Ledger ready, earlier revisions adopted, checksums rendered; the callback to hand Alembic.

    Leaves the connection as it found it (no transaction open unless the caller had one), so
    Alembic still runs one transaction per revision.
    """
    own = not connection.in_transaction()
    ledger.adopt(connection, scripts, log)
    current = current_heads(connection)
    if own and connection.in_transaction():
        connection.commit()
    types = live_column_types(connection)
    if own and connection.in_transaction():
        connection.commit()
    try:
        rendered = render_upgrades(scripts, destination, tuple(current) or None, types)
    except Exception:  # noqa: BLE001 (a downgrade or an odd target: rendered one by one later)
        rendered = {}
    return Recorder(scripts, rendered)


_COLUMN_TYPES = sa.text(
    """
    SELECT n.nspname || '.' || c.relname AS table_name, a.attname, t.typname, a.atttypmod,
           t.typcategory = 'A' AS is_array, e.typname AS element
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p')
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
    WHERE a.attnum > 0 AND NOT a.attisdropped
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    """
)


def live_column_types(connection: Connection) -> ColumnTypes:
    """(table, column) -> its type in the live database, as the review spells types (TypeKey)."""
    found: dict[tuple[str, str], TypeKey] = {}
    for row in connection.execute(_COLUMN_TYPES):
        name = row.element if row.is_array else row.typname
        found[(row.table_name, row.attname)] = TypeKey(name, _mods(name, row.atttypmod), bool(row.is_array))
    return lambda table, column: found.get((table, column))


def _mods(name: str, typmod: int) -> tuple[int, ...]:
    """The type's modifiers from atttypmod (-1: none), as `varchar(n)` / `numeric(p, s)` spell them."""
    if typmod < 0:
        return ()
    if name in ("varchar", "bpchar"):
        return (typmod - 4,)
    if name == "numeric":
        return ((typmod - 4) >> 16, (typmod - 4) & 0xFFFF)
    return (typmod,)
