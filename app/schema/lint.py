"""Automated first review of migration revisions: `flask db lint [RANGE]`.

Each revision is linted on its own, from the SQL Alembic renders for it offline, with squawk
(rules chosen in .squawk.toml) plus checks squawk cannot make at the Alembic level: an empty
downgrade, a missing message, a downgrade that destroys data. An intended dangerous operation
is allowed by a reviewable line in the revision file itself:

    # lint-ack: ban-drop-column: nothing has read items.legacy since release 41

Run as a module (`python -m app.schema.lint FILE...`) it prints the findings for those revision
files and always exits 0: Alembic's post-write hook uses it after `flask db migrate`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from app.schema.state import MIGRATIONS_DIR, offline_sql
from config import PROJECT_ROOT

SQUAWK_CONFIG = PROJECT_ROOT / ".squawk.toml"
# Offline rendering never connects; the URL only chooses the dialect.
OFFLINE_URL = "postgresql+psycopg2://lint@localhost/lint"

ERROR, WARNING = "error", "warning"
ACK_LINE = re.compile(r"^\s*#\s*lint-ack:\s*(?P<rule>[\w-]+)\s*(?::(?P<reason>.*))?$", re.MULTILINE)

# Rules about locking or rewriting an existing table; they do not apply to a table the same
# revision creates (squawk already knows this for some rules, not for all).
EXISTING_TABLE_RULES = {
    "adding-required-field",
    "adding-not-nullable-field",
    "adding-field-with-default",
    "changing-column-type",
    "ban-drop-column",
    "renaming-column",
    "require-concurrent-index-creation",
    "constraint-missing-not-valid",
    "adding-foreign-key-constraint",
    "disallowed-unique-constraint",
    "adding-serial-primary-key-field",
}

# The safe alternative, said the Alembic way; squawk's own help is the fallback.
SAFE_ALTERNATIVES = {
    "ban-drop-column": "stop reading and writing the column in one release, drop it in a later one",
    "ban-drop-table": "stop using the table in one release, drop it in a later one (after a backup)",
    "adding-required-field": "safe.add_not_null_column(table, column, backfill=...): nullable, batched "
    "backfill, CHECK NOT VALID, VALIDATE, SET NOT NULL",
    "adding-not-nullable-field": "safe.add_not_null_column(...), or CHECK (col IS NOT NULL) NOT VALID, "
    "VALIDATE CONSTRAINT, then SET NOT NULL",
    "require-concurrent-index-creation": "safe.create_index_concurrently(name, table, columns) "
    "(from app.schema import safe)",
    "changing-column-type": "add a column of the new type, write both and backfill, switch reads, "
    "drop the old one",
    "renaming-column": "add the new column, write both and backfill, switch reads, drop the old one later",
    "constraint-missing-not-valid": "create the constraint with NOT VALID (postgresql_not_valid=True), "
    "then VALIDATE CONSTRAINT in a later revision",
    "adding-foreign-key-constraint": "op.create_foreign_key(..., postgresql_not_valid=True), "
    "then VALIDATE CONSTRAINT in a later revision",
    "disallowed-unique-constraint": "create a unique index CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX",
    "empty-downgrade": "write the downgrade, or acknowledge that the revision is irreversible and why",
    "missing-message": 'give the revision a message: flask db migrate -m "what changed"',
    "ack-without-reason": "write why it is safe after the rule: # lint-ack: <rule>: <reason>",
}


class LintError(Exception):
    """Lint cannot run (bad range, squawk missing); the message is one line."""


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


@dataclass
class _Rendered:
    upgrade_sql: str
    downgrade_sql: str


class MigrationLinter:
    def __init__(self, directory: Path | str = MIGRATIONS_DIR, squawk: str | None = None):
        self.directory = Path(directory)
        if not (self.directory / "env.py").is_file():
            raise LintError(f"no migration scripts in {self.directory}")
        self.scripts = ScriptDirectory(str(self.directory))
        self._squawk = squawk

    # -- choosing revisions --------------------------------------------------------------------
    def select(self, spec: str | None = None) -> list[Script]:
        """Revisions, oldest first: all; `REV`; `A:B` (after A up to B); or a revision file path."""
        try:
            if not spec:
                return list(reversed(list(self.scripts.walk_revisions())))
            if spec.endswith(".py"):
                return [self._script_for_file(Path(spec))]
            if ":" in spec:
                lower, upper = spec.split(":", 1)
                return list(reversed(list(self.scripts.iterate_revisions(upper or "heads", lower or "base"))))
            script = self.scripts.get_revision(spec)
        except (CommandError, RevisionError) as exc:
            raise LintError(f"unknown revision range {spec!r}: {exc}") from None
        if script is None:
            raise LintError(f"unknown revision {spec!r}")
        return [script]

    def _script_for_file(self, path: Path) -> Script:
        resolved = path.resolve()
        for script in self.scripts.walk_revisions():
            if Path(script.path).resolve() == resolved:
                return script
        raise LintError(f"{path} is not a revision in {self.directory}")

    # -- linting -------------------------------------------------------------------------------
    def lint(self, scripts: list[Script]) -> list[RevisionReport]:
        rendered = {s.revision: self._render(s) for s in scripts}
        squawk_findings = self._run_squawk({rev: r.upgrade_sql for rev, r in rendered.items()})
        reports = []
        for script in scripts:
            source = Path(script.path).read_text()
            findings = squawk_findings.get(script.revision, [])
            findings += self._alembic_findings(script, source, rendered[script.revision])
            reports.append(RevisionReport(script, _apply_acks(findings, source)))
        return reports

    def _render(self, script: Script) -> _Rendered:
        down = script.down_revision
        if isinstance(down, tuple):  # a merge revision: no SQL of its own to lint
            return _Rendered("", "")
        start = down or "base"
        upgrade_range = f"{down}:{script.revision}" if down else script.revision
        return _Rendered(
            upgrade_sql=_strip_version_table(self._offline(command.upgrade, upgrade_range)),
            downgrade_sql=_strip_version_table(
                self._offline(command.downgrade, f"{script.revision}:{start}")
            ),
        )

    def _offline(self, fn, revision_range: str) -> str:
        return offline_sql(fn, revision_range, url=OFFLINE_URL, directory=self.directory)

    def _run_squawk(self, sql_by_revision: dict[str, str]) -> dict[str, list[Finding]]:
        findings: dict[str, list[Finding]] = {rev: [] for rev in sql_by_revision}
        with tempfile.TemporaryDirectory(prefix="migration-lint-") as folder:
            paths = {}
            for rev, sql in sql_by_revision.items():
                if sql.strip():
                    paths[rev] = Path(folder) / f"{rev}.sql"
                    paths[rev].write_text(sql)
            if not paths:
                return findings
            args = [
                self._squawk or find_squawk(),
                "--reporter",
                "json",
                "-c",
                str(SQUAWK_CONFIG),
                *map(str, paths.values()),
            ]
            result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
            try:
                violations = json.loads(result.stdout or "[]")
            except json.JSONDecodeError:
                message = (result.stderr or result.stdout).strip().splitlines()
                raise LintError(f"squawk failed: {message[0] if message else result.returncode}") from None
        by_path = {str(p): rev for rev, p in paths.items()}
        for violation in violations:
            rev = by_path.get(violation["file"])
            if rev is None:
                continue
            sql = sql_by_revision[rev]
            statement = _lines(
                sql, violation.get("line", 0), violation.get("line_end", violation.get("line", 0))
            )
            rule = violation.get("rule_name", "squawk")
            if rule in EXISTING_TABLE_RULES and _target_table(statement) in _created_tables(sql):
                continue
            if rule == "adding-not-nullable-field" and _set_not_null_target(statement) in _validated_not_null(
                sql
            ):
                continue  # the safe pattern: a validated CHECK (col IS NOT NULL) makes SET NOT NULL instant
            if rule == "ban-drop-constraint" and _dropped_constraint(statement) in _added_constraints(sql):
                continue  # a constraint this revision creates itself (e.g. the NOT NULL helper's CHECK)
            findings[rev].append(
                Finding(
                    rule=rule,
                    level=ERROR,
                    message=violation.get("message", ""),
                    sql=statement,
                    fix=SAFE_ALTERNATIVES.get(rule) or violation.get("help") or "",
                )
            )
        return findings

    def _alembic_findings(self, script: Script, source: str, rendered: _Rendered) -> list[Finding]:
        findings = []
        message = (script.doc or "").strip()
        if not message or message == "empty message":
            findings.append(
                Finding(
                    "missing-message",
                    ERROR,
                    "the revision has no message",
                    fix=SAFE_ALTERNATIVES["missing-message"],
                )
            )
        bodies = _function_bodies(source)
        if bodies.get("upgrade") and not bodies.get("downgrade"):
            findings.append(
                Finding(
                    "empty-downgrade",
                    ERROR,
                    "upgrade() changes the schema but downgrade() does nothing",
                    fix=SAFE_ALTERNATIVES["empty-downgrade"],
                )
            )
        for statement in _destructive_statements(rendered.downgrade_sql):
            findings.append(
                Finding(
                    "destructive-downgrade", WARNING, "downgrading this revision destroys data", sql=statement
                )
            )
        return findings


def find_squawk() -> str:
    """$SQUAWK, else the venv's own copy (so `.venv/bin/flask db lint` works unactivated), else PATH."""
    configured = os.environ.get("SQUAWK")
    if configured:
        if not shutil.which(configured):
            raise LintError(f"squawk not found at SQUAWK={configured}")
        return configured
    beside = Path(sys.executable).parent / "squawk"
    found = str(beside) if beside.exists() else shutil.which("squawk")
    if not found:
        raise LintError("squawk is not installed: run `make install` (it comes with requirements-dev.txt)")
    return found


# -- helpers -----------------------------------------------------------------------------------
_STATEMENT_END = re.compile(r";\s*\n\s*\n")


def _statements(sql: str) -> list[str]:
    """Alembic's offline output ends every statement with ';' and a blank line. Comments go."""
    statements = []
    for chunk in _STATEMENT_END.split(sql):
        code = "\n".join(line for line in chunk.splitlines() if not line.lstrip().startswith("--")).strip()
        if code and code != ";":
            statements.append(code.rstrip(";") + ";")
    return statements


def _strip_version_table(sql: str) -> str:
    """Drop Alembic's own bookkeeping (alembic_version) so only the revision's SQL is linted."""
    kept = [s for s in _statements(sql) if "alembic_version" not in s]
    return "\n\n".join(kept) + "\n" if kept else ""


def _lines(sql: str, first: int, last: int) -> str:
    lines = sql.splitlines()
    return "\n".join(lines[first : last + 1]).strip()


_CREATE_TABLE = re.compile(r'CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:"?\w+"?\.)?"?(\w+)"?', re.I)
_TARGET_TABLE = re.compile(
    r'(?:ALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?|\bON\s+(?:ONLY\s+)?)(?:"?\w+"?\.)?"?(\w+)"?', re.I
)


def _created_tables(sql: str) -> set[str]:
    return {name.lower() for name in _CREATE_TABLE.findall(sql)}


def _target_table(statement: str) -> str | None:
    match = _TARGET_TABLE.search(statement)
    return match.group(1).lower() if match else None


_NOT_NULL_CHECK = re.compile(
    r'ALTER\s+TABLE\s+"?(\w+)"?\s+ADD\s+CONSTRAINT\s+"?(\w+)"?\s+CHECK\s*\(\s*"?(\w+)"?\s+IS\s+NOT\s+NULL\s*\)'
    r"\s+NOT\s+VALID",
    re.I,
)
_VALIDATE = re.compile(r'ALTER\s+TABLE\s+"?(\w+)"?\s+VALIDATE\s+CONSTRAINT\s+"?(\w+)"?', re.I)
_SET_NOT_NULL = re.compile(r'ALTER\s+TABLE\s+"?(\w+)"?\s+ALTER\s+COLUMN\s+"?(\w+)"?\s+SET\s+NOT\s+NULL', re.I)


def _validated_not_null(sql: str) -> set[tuple[str, str]]:
    """(table, column) pairs with a CHECK (col IS NOT NULL) added NOT VALID and then validated."""
    checks = {(t.lower(), c.lower()): col.lower() for t, c, col in _NOT_NULL_CHECK.findall(sql)}
    validated = {(t.lower(), c.lower()) for t, c in _VALIDATE.findall(sql)}
    return {(table, column) for (table, check), column in checks.items() if (table, check) in validated}


_ADD_CONSTRAINT = re.compile(r'ADD\s+CONSTRAINT\s+"?(\w+)"?', re.I)
_DROP_CONSTRAINT = re.compile(r'DROP\s+CONSTRAINT\s+(?:IF\s+EXISTS\s+)?"?(\w+)"?', re.I)


def _added_constraints(sql: str) -> set[str]:
    return {name.lower() for name in _ADD_CONSTRAINT.findall(sql)}


def _dropped_constraint(statement: str) -> str | None:
    match = _DROP_CONSTRAINT.search(statement)
    return match.group(1).lower() if match else None


def _set_not_null_target(statement: str) -> tuple[str, str] | None:
    match = _SET_NOT_NULL.search(statement)
    return (match.group(1).lower(), match.group(2).lower()) if match else None


_DESTRUCTIVE = re.compile(r"\b(DROP\s+TABLE|DROP\s+COLUMN)\b", re.I)


def _destructive_statements(sql: str) -> list[str]:
    return [s for s in _statements(sql) if _DESTRUCTIVE.search(s)]


def _function_bodies(source: str) -> dict[str, bool]:
    """For upgrade() and downgrade(): does the body do anything (beyond pass, docstrings, ...)?"""
    bodies = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name in ("upgrade", "downgrade"):
            bodies[node.name] = any(not _is_noop(statement) for statement in node.body)
    return bodies


def _is_noop(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Pass) or (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    )


def _apply_acks(findings: list[Finding], source: str) -> list[Finding]:
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
                    fix=SAFE_ALTERNATIVES["ack-without-reason"],
                )
            )
            continue
        acks[rule] = reason
    for finding in findings:
        if finding.rule in acks:
            finding.ack_reason = acks[finding.rule]
    used = {f.rule for f in findings}
    for rule in acks.keys() - used:
        extra.append(Finding("unused-ack", WARNING, f"{rule} is acknowledged but nothing triggers it"))
    return findings + extra


# -- output ------------------------------------------------------------------------------------
def format_report(report: RevisionReport) -> str:
    script = report.script
    lines = [f"{script.revision}  {(script.doc or '').strip() or '<no message>'}  [{report.verdict}]"]
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


def main(argv: list[str] | None = None) -> int:
    """Post-write hook: print the findings for the given revision files; never fail the write."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        linter = MigrationLinter()
        scripts = [linter.select(path) for path in argv]
        reports = linter.lint([s for group in scripts for s in group])
    except LintError as exc:
        print(f"flask db lint: {exc}", file=sys.stderr)
        return 0
    for report in reports:
        print(format_report(report), file=sys.stderr)
    if any(r.errors for r in reports):
        print(
            "Review the findings above before `flask db upgrade` (flask db lint rechecks).", file=sys.stderr
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
