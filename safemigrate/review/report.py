"""Findings, acknowledgements in the revision file, and how a revision's review is printed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from alembic.script import Script

ERROR, WARNING = "error", "warning"
ACK_LINE = re.compile(r"^\s*#\s*lint-ack:\s*(?P<rule>[\w-]+)\s*(?::(?P<reason>.*))?$", re.MULTILINE)


@dataclass
class Finding:
    rule: str
    level: str
    message: str
    sql: str = ""
    fix: str = ""
    ack_reason: str | None = None

    @property
    def blocking(self) -> bool:
        return self.level == ERROR and self.ack_reason is None


@dataclass
class RevisionReport:
    script: Script
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]

    @property
    def verdict(self) -> str:
        if self.errors:
            return f"{len(self.errors)} error(s)"
        if self.warnings:
            return f"ok, {len(self.warnings)} warning(s)"
        return "ok"


def revision_message(script: Script) -> str:
    """The message given to `flask db migrate -m`: the docstring's first paragraph. Alembic's own
    `Script.doc` falls through to "Revision ID: ..." when the message is empty."""
    doc = (script.module.__doc__ or "").strip()
    first = doc.split("\n\n", 1)[0].strip()
    if first.startswith("Revision ID:") or first == "empty message":
        return ""
    return first


def apply_acks(findings: list[Finding], source: str) -> list[Finding]:
    """Mark the findings the revision file acknowledges (`# lint-ack: rule: reason`)."""
    acks: dict[str, str] = {}
    extra = []
    for match in ACK_LINE.finditer(source):
        rule, reason = match.group("rule"), (match.group("reason") or "").strip()
        if not reason:
            extra.append(
                Finding(
                    "ack-without-reason",
                    ERROR,
                    f"the acknowledgement of {rule} gives no reason",
                    sql=match.group(0).strip(),
                    fix="write why it is safe after the rule: # lint-ack: <rule>: <reason>",
                )
            )
            continue
        acks[rule] = reason
    for finding in findings:
        if finding.rule in acks and finding.level == ERROR:  # warnings never block: nothing to acknowledge
            finding.ack_reason = acks[finding.rule]
    used = {f.rule for f in findings if f.level == ERROR}
    for rule in acks.keys() - used:
        extra.append(Finding("unused-ack", WARNING, f"{rule} is acknowledged but nothing triggers it"))
    return findings + extra


def format_report(report: RevisionReport) -> str:
    script = report.script
    lines = [f"{script.revision}  {revision_message(script) or '<no message>'}  [{report.verdict}]"]
    for finding in report.findings:
        if finding.ack_reason is not None:
            lines.append(f"  acknowledged {finding.rule}: {finding.ack_reason}")
            continue
        lines.append(f"  {finding.level.upper()} {finding.rule}: {finding.message}")
        if finding.sql:
            sql = finding.sql if len(finding.sql) <= 300 else finding.sql[:297] + "..."
            lines.extend(f"      | {line}" for line in sql.splitlines())
        if finding.fix:
            lines.append(f"      safer: {finding.fix}")
        if finding.level == ERROR and finding.rule != "ack-without-reason":
            lines.append(
                f"      intended? add to the revision file:  # lint-ack: {finding.rule}: <why it is safe>"
            )
    return "\n".join(lines)
