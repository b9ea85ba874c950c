"""The ledger: one row per revision applied, undone, adopted or repaired in this database.

Alembic keeps only the current revision. The ledger (`migration_ledger`) keeps, per event, the
revision, the checksum of what it did (ledger/checksum.py), the direction, when, how long,
the application version (SOURCE_VERSION or APP_VERSION) and who (database role, client host).

The table is created by this code, idempotently, like Alembic creates `alembic_version`, not by
a revision: it must exist before the first revision runs and survive a downgrade to base, and it
is excluded from autogenerate (migrations/env.py), so `flask db check` never sees it. Rows are
only ever added: the latest row of a revision says where it stands.

Directions: upgrade / downgrade (written by migrations/env.py in the revision's own transaction),
adopt (a revision applied before the ledger existed, or stamped: its checksum is today's file),
repair (`flask db repair`: today's file accepted, old checksum and reason kept), forget (`flask db
repair` on a revision whose file is gone).

Each applied row also says what the revision means for older code (safemigrate/review/compat.py):
`down_revisions` (so code that lacks the file can still walk from the database's revision back to its
own head) and `keeps_previous` with `compat_reason` (whether the code before it runs on the schema
after it). Older code reads them to run on a database that is ahead of it (ledger/ancestry.py).
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection

from safemigrate.ledger.checksum import render_upgrades, source_checksum
from safemigrate.review.compat import Verdict
from safemigrate.state import read_applied

TABLE = "migration_ledger"
APPLIED = ("upgrade", "adopt", "repair")

_DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    revision text NOT NULL,
    checksum text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('upgrade', 'downgrade', 'adopt', 'repair', 'forget')),
    applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    duration_ms integer,
    app_version text,
    db_role text NOT NULL DEFAULT current_user,
    client_host text,
    client_addr text DEFAULT inet_client_addr()::text,
    previous_checksum text,
    reason text,
    down_revisions text,
    keeps_previous boolean,
    compat_reason text
)
"""
# Ledgers created before the compatibility columns get them (nullable: "not recorded").
_UPGRADE_DDL = f"""
ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS down_revisions text,
    ADD COLUMN IF NOT EXISTS keeps_previous boolean, ADD COLUMN IF NOT EXISTS compat_reason text
"""
_INSERT = sa.text(
    f"INSERT INTO {TABLE} (revision, checksum, direction, duration_ms, app_version, client_host, "
    "previous_checksum, reason, down_revisions, keeps_previous, compat_reason) VALUES (:revision, "
    ":checksum, :direction, :duration_ms, :app_version, :client_host, :previous_checksum, :reason, "
    ":down_revisions, :keeps_previous, :compat_reason)"
)


@dataclass(frozen=True)
class Entry:
    revision: str
    checksum: str
    direction: str
    applied_at: datetime
    duration_ms: int | None
    app_version: str | None
    db_role: str
    client_host: str | None
    previous_checksum: str | None
    reason: str | None

    @property
    def applied(self) -> bool:
        return self.direction in APPLIED


def not_the_ledger(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic `include_name` filter: autogenerate ignores the ledger (this module owns it)."""
    return not (type_ == "table" and name == TABLE)


def app_version() -> str | None:
    return os.environ.get("SOURCE_VERSION") or os.environ.get("APP_VERSION") or None


def exists(connection: Connection) -> bool:
    return connection.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": TABLE}).scalar_one()


def ensure(connection: Connection) -> bool:
    """Create the ledger unless it exists; commits when the caller had no transaction open.

    Returns whether it was created.
    """
    own = not connection.in_transaction()
    if exists(connection):
        if not _has_compat_columns(connection):
            connection.exec_driver_sql(_UPGRADE_DDL)
        if own:
            connection.commit()
        return False
    connection.exec_driver_sql(_DDL)
    if own:
        connection.commit()
    return True


def _has_compat_columns(connection: Connection) -> bool:
    return bool(
        connection.execute(
            sa.text(
                "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attname = 'keeps_previous' "
                "AND NOT attisdropped"
            ),
            {"t": TABLE},
        ).first()
    )


def record(
    connection: Connection,
    revision: str,
    checksum: str,
    direction: str,
    *,
    duration_ms: int | None = None,
    previous_checksum: str | None = None,
    reason: str | None = None,
    down_revisions: tuple[str, ...] | None = None,
    verdict: Verdict | None = None,
) -> None:
    """Add one row, in the connection's current transaction."""
    connection.execute(
        _INSERT,
        {
            "revision": revision,
            "checksum": checksum,
            "direction": direction,
            "duration_ms": duration_ms,
            "app_version": app_version(),
            "client_host": socket.gethostname(),
            "previous_checksum": previous_checksum,
            "reason": reason,
            "down_revisions": None if down_revisions is None else ",".join(down_revisions),
            "keeps_previous": None if verdict is None else verdict.keeps_previous,
            "compat_reason": None if verdict is None else verdict.reason,
        },
    )


def _latest_per_revision(connection: Connection, where: str = "") -> dict[str, Entry]:
    rows = connection.execute(
        sa.text(
            f"SELECT DISTINCT ON (revision) revision, checksum, direction, applied_at, duration_ms, "
            f"app_version, db_role, client_host, previous_checksum, reason FROM {TABLE} "
            f"{where} ORDER BY revision, id DESC"
        )
    )
    return {row.revision: Entry(*row) for row in rows}


def latest(connection: Connection) -> dict[str, Entry]:
    """The latest row of each revision the ledger knows."""
    return _latest_per_revision(connection)


def last_applied(connection: Connection) -> dict[str, Entry]:
    """The latest upgrade row of each revision (when and by which version it really ran)."""
    return _latest_per_revision(connection, "WHERE direction IN ('upgrade', 'adopt')")


def applied_when(connection: Connection) -> dict[str, str]:
    """{revision: "  applied <when> by version <v>"} from the ledger, for `flask db status`."""
    if not exists(connection):
        return {}
    found = {}
    for revision, e in last_applied(connection).items():
        verb = "adopted" if e.direction == "adopt" else "applied"
        found[revision] = f"  {verb} {e.applied_at:%Y-%m-%d %H:%M} by version {e.app_version or '?'}"
    return found


def entries(connection: Connection, limit: int | None = None) -> list[Entry]:
    """Every row, newest first."""
    query = (
        f"SELECT revision, checksum, direction, applied_at, duration_ms, app_version, db_role, "
        f"client_host, previous_checksum, reason FROM {TABLE} ORDER BY id DESC"
    )
    if limit:
        query += f" LIMIT {int(limit)}"
    return [Entry(*row) for row in connection.execute(sa.text(query))]


def unrecorded(connection: Connection, scripts: ScriptDirectory) -> list[str]:
    """Revisions Alembic says are applied that the ledger does not hold as applied."""
    try:
        applied = read_applied(connection, scripts)
    except Exception:  # noqa: BLE001 (a revision unknown to these files: nothing to adopt from them)
        return []
    known = latest(connection) if exists(connection) else {}
    return sorted(r for r in applied if not (r in known and known[r].applied))


def adopt(connection: Connection, scripts: ScriptDirectory, log: logging.Logger | None = None) -> list[str]:
    """Record, as `adopt`, the applied revisions the ledger lacks (today's files as their checksum),
    saying so on `log` when there were any.

    Creates the ledger if needed; commits when the caller had no transaction open.
    """
    ensure(connection)
    own = not connection.in_transaction()
    missing = unrecorded(connection, scripts)
    if missing:
        current = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
        rendered = render_upgrades(scripts, tuple(current))
        for revision in missing:
            script = scripts.get_revision(revision)
            found = rendered.get(revision)
            checksum = found.checksum if found else source_checksum(script.path)
            verdict = found.verdict if found else None
            record(
                connection,
                revision,
                checksum,
                "adopt",
                down_revisions=down_revisions(script),
                verdict=verdict,
            )
        if log is not None:
            log.info(
                "ledger: adopted %d revision(s) applied before the ledger recorded them "
                "(their checksums are taken from today's files)",
                len(missing),
            )
    if own:
        connection.commit()
    return missing


def down_revisions(script: Script) -> tuple[str, ...]:
    """The revisions a script follows (several for a merge; none for a root)."""
    down = script.down_revision
    if down is None:
        return ()
    return (down,) if isinstance(down, str) else tuple(down)
