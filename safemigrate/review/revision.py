"""One revision's review: its upgrade SQL (errors), its downgrade SQL (warnings), its file."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from pathlib import Path

from alembic.script import Script
from pglast import ast
from pglast.enums import AlterTableType

from safemigrate.review.history import Schema
from safemigrate.review.report import ERROR, WARNING, Finding, revision_message
from safemigrate.review.rerunnable import committed_early, concurrent_build, one_line
from safemigrate.review.rulebook import RULES
from safemigrate.review.rules import Context, check
from safemigrate.review.sql import Statement, given, statements, table_name

GUARD = (
    "guard online-only code (reading rows, get_bind()) with `if not op.get_context().as_sql:` so that "
    "`flask db upgrade --sql` renders the rest; see MIGRATIONS.md, Data migrations"
)
# What safemigrate/autogenerate/renderers.py writes in place of a change it leaves to a person.
_REVIEW_PLACEHOLDER = "pass  # REVIEW: written by hand"
IRREVERSIBLE = (
    'raise Irreversible("why") (from safemigrate.errors import Irreversible): flask db downgrade and the '
    "stairway report the revision as irreversible instead of failing"
)
_DATA_LOSS = {"ban-drop-column", "ban-drop-table", "ban-truncate"}
# Statements that need no undo: data changes, maintenance, validation, enum values PostgreSQL cannot drop.
_NO_UNDO = (
    ast.UpdateStmt,
    ast.DeleteStmt,
    ast.InsertStmt,
    ast.SelectStmt,
    ast.VacuumStmt,
    ast.ReindexStmt,
    ast.ClusterStmt,
    ast.RefreshMatViewStmt,
    ast.AlterEnumStmt,
    ast.LockStmt,
    ast.TruncateStmt,
    ast.CommentStmt,
    ast.VariableSetStmt,
)


def review_revision(
    script: Script,
    downgrade_empty: bool,
    upgrade: tuple[str, str | None],
    downgrade: tuple[str, str | None],
    schema: Schema,
    *,
    keep: bool = True,
    downgrade_never: str | None = None,
) -> list[Finding]:
    """Findings for `script`; `schema` is the history before it, and is advanced past it.
    `downgrade_never`: why downgrade() fails whatever happens ("Irreversible": on purpose), if it does."""
    up_sql, up_error = upgrade
    up = statements(up_sql)
    if not keep:
        for statement in up:
            if statement.node is not None:
                schema.apply(statement)
        return []
    findings = []
    if not revision_message(script):
        findings.append(
            _finding(
                "missing-message",
                ERROR,
                "the revision has no message",
                fix='give it one: flask db migrate -m "what changed"',
            )
        )
    if _REVIEW_PLACEHOLDER in Path(script.path).read_text():
        findings.append(
            _finding(
                "unwritten-review",
                ERROR,
                "the revision still holds autogenerate's `# REVIEW:` block and its `pass`: the change it "
                "describes (e.g. an enum value removed) is not written, so the revision does nothing",
                fix="write the change by hand as the block says, then delete the block",
            )
        )
    if up_error:
        findings.append(
            _finding(
                "offline-render-failed",
                ERROR,
                f"upgrade() raised while rendering its SQL offline ({up_error}); nothing in it was reviewed",
                fix=GUARD,
            )
        )
    ctx = Context(schema)
    for statement in up:
        check(statement, ctx)
    findings += ctx.findings
    if not up_error:
        findings += _rerun_findings(up)
    if downgrade_empty and not up_error and any(_needs_undo(s) for s in up):
        findings.append(
            _finding(
                "empty-downgrade",
                ERROR,
                "upgrade() changes the schema but downgrade() does nothing",
                fix="write the downgrade, or acknowledge that the revision is "
                "irreversible and why (# lint-ack: empty-downgrade: <why>)",
            )
        )
    findings += _downgrade_findings(
        downgrade, schema, created=set(ctx.created), added=_added_columns(up), never=downgrade_never
    )
    return findings


def _rerun_findings(up: list[Statement]) -> list[Finding]:
    """Steps committed before later work, and concurrent builds a failed attempt would trip up: after a
    failure, the revision cannot run again (safemigrate/review/rerunnable.py)."""
    return [
        _finding(
            "not-rerunnable",
            ERROR,
            "a failed CREATE INDEX CONCURRENTLY leaves an INVALID index of that name: running the revision "
            "again fails on it, or with IF NOT EXISTS keeps an index that is never used"
            if concurrent_build(step.node)
            else "this step is committed before later work (by a safe helper's or an autocommit block): if "
            "the revision fails after it, running it again fails here (the step stays applied, "
            "alembic_version does not move)",
            sql=one_line(step),
            fix="safe.create_index_concurrently (it drops an INVALID leftover first), or DROP INDEX "
            "CONCURRENTLY IF EXISTS of the same name just before the build"
            if concurrent_build(step.node)
            else "put the helper first and this step after it, write the step idempotently (IF [NOT] "
            "EXISTS, if_not_exists=True), use the safe helper that does it (it skips what is done), or "
            "split the revision in two",
        )
        for step in committed_early(up)
    ]


def _added_columns(up: list[Statement]) -> set[tuple[str, str]]:
    """(table, column) of every column the upgrade adds."""
    return {
        (table_name(statement.node.relation), cmd.def_.colname)
        for statement in up
        if isinstance(statement.node, ast.AlterTableStmt) and statement.node.relation is not None
        for cmd in given(statement.node.cmds)
        if cmd.subtype == AlterTableType.AT_AddColumn and cmd.def_ is not None
    }


def _undoes_an_addition(statement: Statement, added: AbstractSet[tuple[str, str]]) -> bool:
    """The downgrade drops only columns this revision's upgrade added: the plain inverse. The data
    they hold was written since the upgrade; warning on it would flag every added column, and hide
    the downgrades that destroy data from before the revision."""
    node = statement.node
    if not isinstance(node, ast.AlterTableStmt) or node.relation is None:
        return False
    table = table_name(node.relation)
    return all(
        cmd.subtype == AlterTableType.AT_DropColumn and (table, cmd.name) in added for cmd in given(node.cmds)
    )


def _downgrade_findings(
    downgrade: tuple[str, str | None],
    schema: Schema,
    *,
    created: AbstractSet[str] = frozenset(),
    added: AbstractSet[tuple[str, str]] = frozenset(),
    never: str | None = None,
) -> list[Finding]:
    """Findings of the downgrade; dropping what the upgrade created or added is not data loss (the
    tables in `created` count as new, the columns in `added` are skipped). `never`: why the downgrade
    fails whatever happens ("Irreversible": declared on purpose)."""
    sql, error = downgrade
    if never == "Irreversible" or (error or "").startswith("Irreversible:"):
        return []  # declared: flask db downgrade and the stairway report it as irreversible
    if never is None and (error or "").startswith("CompileError:"):
        never = f"downgrade() cannot be compiled to SQL for any database ({error})"
    if never is not None:
        return [
            _finding(
                "downgrade-cannot-run",
                ERROR,
                f"{never}: `flask db downgrade` through this revision fails every time",
                fix="write a downgrade that runs (name the constraint: `flask db check` or \\d in psql shows "
                "it), or declare the revision irreversible: " + IRREVERSIBLE,
            )
        ]
    if error:
        return [
            _finding(
                "offline-render-failed",
                WARNING,
                f"downgrade() raised while rendering its SQL offline ({error}); it was not reviewed",
                fix=GUARD,
            )
        ]
    ctx = Context(schema.fork(), created=set(created))
    for statement in statements(sql):
        if not _undoes_an_addition(statement, added):
            check(statement, ctx)
    findings = []
    for finding in ctx.findings:
        finding.level = WARNING
        if finding.rule in _DATA_LOSS:
            finding.rule, finding.fix = "destructive-downgrade", "back up before downgrading production"
            finding.message = "downgrading this revision destroys data: " + finding.message.split(", and")[0]
        else:
            finding.message = "downgrade: " + finding.message
        findings.append(finding)
    return findings


def _needs_undo(statement: Statement) -> bool:
    node = statement.node
    if node is None or isinstance(node, _NO_UNDO):
        return False
    if isinstance(node, ast.AlterTableStmt):
        return any(cmd.subtype != AlterTableType.AT_ValidateConstraint for cmd in given(node.cmds))
    return True


def _finding(rule: str, level: str, message: str, sql: str = "", fix: str = "") -> Finding:
    assert rule in RULES, rule
    return Finding(rule, level, message, sql=sql, fix=fix)
