"""The glue migrations/env.py uses so that every online run writes the ledger.

`prepare()` runs before Alembic starts (the ledger exists, earlier revisions are adopted, the
checksums of the revisions about to run are rendered in one offline pass), and returns the
`on_version_apply` callback that writes each revision's row in that revision's own transaction.
"""

from __future__ import annotations

import logging
import time

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from safemigrate.ledger import recorder as ledger
from safemigrate.ledger.checksum import checksum_of, render_checksums

log = logging.getLogger("alembic.env")


class Recorder:
    """`on_version_apply` callback: one ledger row per revision upgraded or downgraded."""

    def __init__(self, scripts: ScriptDirectory, checksums: dict[str, str]):
        self.scripts = scripts
        self.checksums = checksums
        self.last = time.monotonic()

    def __call__(self, *, ctx, step, heads, run_args) -> None:
        now = time.monotonic()
        duration_ms, self.last = round((now - self.last) * 1000), now
        if step.is_stamp:
            return  # nothing ran; the next run adopts what a stamp marked as applied
        revision = step.up_revision_id
        checksum = self.checksums.get(revision)
        if checksum is None:
            checksum = self.checksums[revision] = checksum_of(self.scripts, revision)
        direction = "upgrade" if step.is_upgrade else "downgrade"
        ledger.record(ctx.connection, revision, checksum, direction, duration_ms=duration_ms)


def prepare(connection: Connection, scripts: ScriptDirectory, destination) -> Recorder:
    """Ledger ready, earlier revisions adopted, checksums rendered; the callback to hand Alembic.

    Leaves the connection as it found it (no transaction open unless the caller had one), so
    Alembic still runs one transaction per revision.
    """
    own = not connection.in_transaction()
    ledger.adopt(connection, scripts, log)
    current = MigrationContext.configure(connection).get_current_heads()
    if own and connection.in_transaction():
        connection.commit()
    try:
        checksums = render_checksums(scripts, destination, starting_rev=tuple(current) or None)
    except Exception:  # noqa: BLE001 (a downgrade or an odd target: rendered one by one later)
        checksums = {}
    return Recorder(scripts, checksums)
