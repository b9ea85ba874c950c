"""What the release runner checks before applying anything: the ledger, and optionally drift.

Kept apart from runner.py so the runner calls one function: `check_before_apply`.
"""

from __future__ import annotations

import logging

from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection

from safemigrate.ledger import recorder as ledger
from safemigrate.ledger.validate import validate
from safemigrate.release.errors import PlanRefused
from safemigrate.scratch import ScratchServer

log = logging.getLogger("run_migration")


def check_before_apply(
    connection: Connection,
    scripts: ScriptDirectory,
    url: URL,
    *,
    accept_changed: bool = False,
    check_drift: bool = False,
    scratch_server: ScratchServer | None = None,
) -> None:
    """Adopt earlier revisions into the ledger, then refuse (exit 6) on a changed, gone or skipped
    revision unless `accept_changed`, and on a drifted schema when `check_drift`."""
    ledger.adopt(connection, scripts, log)
    findings = validate(connection, scripts)
    connection.commit()
    for finding in findings:
        log.warning("%s", finding.message)
    if findings and not accept_changed:
        raise PlanRefused(
            f"{findings[0].message}; {len(findings)} finding(s) in all: restore the files, run "
            '`flask db repair --reason "..."`, or accept with --accept-changed [MIGRATION_ACCEPT_CHANGED]'
        )
    if findings:
        log.warning("accepted by the operator (--accept-changed): applying anyway")
    if check_drift:
        from safemigrate.drift import DriftError, find_drift

        try:
            differences = find_drift(url, scripts, scratch_server=scratch_server)
        except DriftError as exc:
            raise PlanRefused(f"drift check could not run: {exc}") from None
        for difference in differences:
            log.warning("drift: %s", difference.line)
        if differences:
            raise PlanRefused(
                f"the live schema differs from what its revisions build ({len(differences)} "
                "difference(s), listed above; `flask db drift` prints the SQL to fix them)"
            )
