"""`flask db validate` / `repair`: the ledger against today's revision files.

Three findings, one line each:
- changed: a revision applied here whose file now does something else (both checksums, the file);
- gone: a revision applied here whose file no longer exists;
- skipped: a revision the files have that is not applied although a later one is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from safemigrate.ledger import recorder as ledger
from safemigrate.ledger.ancestry import ahead_of_code
from safemigrate.ledger.checksum import render_checksums
from safemigrate.library_compat import all_down_revisions
from safemigrate.state import current_heads, replaced_by_squash


@dataclass(frozen=True)
class Finding:
    kind: str  # changed | gone | skipped
    revision: str
    message: str
    recorded: str | None = None
    current: str | None = None


def _short(checksum: str | None) -> str:
    return (checksum or "?")[:16]


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def validate(connection: Connection, scripts: ScriptDirectory) -> list[Finding]:
    """Findings for this database; an absent ledger has none (the next run adopts it)."""
    if not ledger.exists(connection):
        return []
    known = ledger.latest(connection)
    applied = {revision: entry for revision, entry in known.items() if entry.applied}
    files = {script.revision: script for script in scripts.walk_revisions()}
    checksums = render_checksums(scripts) if applied else {}
    # A squash rewrites its own file and replaces older ones: that is the squash, not an edit.
    squashed = replaced_by_squash(scripts)
    # Revisions a newer release applied on top of this code's head are ahead, not gone.
    current = current_heads(connection)
    ahead = ahead_of_code(connection, scripts, current)
    newer = (
        set(ahead.revisions)
        if ahead is not None and ahead.descends_from(tuple(scripts.get_heads()))
        else set()
    )
    findings: list[Finding] = []
    for revision, entry in sorted(applied.items(), key=lambda item: item[1].applied_at):
        script = files.get(revision)
        if revision in squashed or revision in newer:
            continue
        if script is None:
            findings.append(
                Finding("gone", revision, f"gone: revision {revision} is applied here but its file is gone")
            )
        elif checksums.get(revision) != entry.checksum:
            findings.append(
                Finding(
                    "changed",
                    revision,
                    f"changed: {_relative(script.path)} (revision {revision}) changed after it was applied "
                    f"here: applied {_short(entry.checksum)}, file now {_short(checksums.get(revision))}",
                    recorded=entry.checksum,
                    current=checksums.get(revision),
                )
            )
    below = _ancestors(files, [r for r in applied if r in files])
    for revision in sorted(below - set(applied)):
        findings.append(
            Finding(
                "skipped",
                revision,
                f"skipped: {_relative(files[revision].path)} (revision {revision}) is not applied here "
                "although a later revision is",
            )
        )
    return findings


def _ancestors(files: dict, revisions: list[str]) -> set[str]:
    """Every revision strictly below `revisions` in the files' graph."""
    seen: set[str] = set()
    stack = [down for r in revisions for down in all_down_revisions(files[r])]
    while stack:
        revision = stack.pop()
        if revision in seen or revision not in files:
            continue
        seen.add(revision)
        stack.extend(all_down_revisions(files[revision]))
    return seen


def repair(connection: Connection, findings: list[Finding], reason: str) -> list[Finding]:
    """Accept today's files for every changed revision (a `repair` row keeps the old checksum and
    the reason), and `forget` gone ones the same way. Deletes nothing; commits."""
    repaired = []
    for finding in findings:
        if finding.kind == "changed":
            assert finding.current is not None  # a changed revision's file is there: its checksum
            ledger.record(
                connection,
                finding.revision,
                finding.current,
                "repair",
                previous_checksum=finding.recorded,
                reason=reason,
            )
            repaired.append(finding)
        elif finding.kind == "gone":
            previous = ledger.latest(connection)[finding.revision].checksum
            ledger.record(
                connection, finding.revision, previous, "forget", previous_checksum=previous, reason=reason
            )
            repaired.append(finding)
    connection.commit()
    return repaired
