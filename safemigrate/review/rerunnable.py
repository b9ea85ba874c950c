"""Can a revision run again after failing half-way? A check on the SQL a revision renders offline.

A revision normally runs in one transaction: a failure rolls all of it back and the fixed revision
runs again from scratch. A zero-downtime helper (safemigrate/safe/) leaves that transaction:
Alembic's autocommit_block COMMITs what the revision did so far, runs the helper's statements one
by one, and BEGINs again. If the revision then fails, the plain steps before the helper stay
committed while alembic_version does not move, so running the revision again repeats them
(`column ... already exists`): the revision can never succeed without manual repair.

`committed_early(statements)` finds those steps in the offline SQL of ONE revision (`COMMIT;` before the
helper's block, `BEGIN;` after it): statements of a transaction that is committed while more work
follows, and that would fail or do harm when run twice. IF [NOT] EXISTS, CREATE OR REPLACE,
INSERT ... ON CONFLICT, VALIDATE CONSTRAINT, SET/DROP NOT NULL and similar are fine. Statements of
an autocommit block (between COMMIT and BEGIN) commit one by one, so they are judged the same way when
more work follows them; a CREATE INDEX CONCURRENTLY that fails leaves an INVALID index behind, so it
needs a DROP INDEX CONCURRENTLY IF EXISTS of its name before it wherever it is. A helper's statement
that a catalogue lookup the SQL cannot show makes safe to run again is marked `-- guarded:`
(safemigrate/safe/run.py) and passes.
The review (`flask db lint`) calls it and refuses such a revision; MIGRATIONS.md says how to fix
one (move the plain steps after the helper, make them idempotent, or split the revision).
"""

from __future__ import annotations

import re
from typing import TypeGuard

from pglast import ast, parse_sql
from pglast.enums.parsenodes import AlterTableType, ObjectType
from pglast.parser import ParseError

from safemigrate.review.sql import Statement, given, statements
from safemigrate.safe.run import GUARDED

# ALTER TABLE actions that succeed, and change nothing, when run a second time.
_IDEMPOTENT_ALTERS = {
    AlterTableType.AT_ValidateConstraint,
    AlterTableType.AT_SetNotNull,
    AlterTableType.AT_DropNotNull,
    AlterTableType.AT_ColumnDefault,
    AlterTableType.AT_SetStatistics,
    AlterTableType.AT_SetStorage,
    AlterTableType.AT_SetRelOptions,
    AlterTableType.AT_ResetRelOptions,
    AlterTableType.AT_ReplicaIdentity,
    AlterTableType.AT_EnableRowSecurity,
    AlterTableType.AT_DisableRowSecurity,
}
# ... and those that are idempotent with IF [NOT] EXISTS (missing_ok).
_IDEMPOTENT_WITH_IF = {
    AlterTableType.AT_AddColumn,
    AlterTableType.AT_DropColumn,
    AlterTableType.AT_DropConstraint,
}
_ALWAYS_IDEMPOTENT = (
    ast.UpdateStmt,  # a backfill's condition stops matching rows once they are done
    ast.DeleteStmt,
    ast.CommentStmt,
    ast.GrantStmt,
    ast.VariableSetStmt,
    ast.SelectStmt,
    ast.VacuumStmt,  # VACUUM and ANALYZE
    ast.ReindexStmt,
    ast.RefreshMatViewStmt,
    ast.ClusterStmt,
    ast.CheckPointStmt,
)


def _idempotent(node) -> bool:
    if isinstance(node, _ALWAYS_IDEMPOTENT):
        return True
    if isinstance(node, ast.AlterTableStmt):
        return all(
            cmd.subtype in _IDEMPOTENT_ALTERS
            or (cmd.subtype in _IDEMPOTENT_WITH_IF and cmd.missing_ok)
            # a type change without USING; USING n * 100 would apply twice
            or (cmd.subtype == AlterTableType.AT_AlterColumnType and cmd.def_.raw_default is None)
            for cmd in node.cmds or ()
        )
    if isinstance(node, ast.DropStmt):
        return bool(node.missing_ok)
    if isinstance(node, ast.InsertStmt):
        return node.onConflictClause is not None
    if isinstance(node, ast.CreateFunctionStmt | ast.ViewStmt):
        return bool(node.replace)
    if isinstance(node, ast.DoStmt):
        return _guarded_create_type(node)
    if isinstance(node, ast.AlterEnumStmt):
        return bool(node.skipIfNewValExists)  # ADD VALUE IF NOT EXISTS
    return bool(getattr(node, "if_not_exists", False))


_CREATE_TYPE_BLOCK = re.compile(
    r"\s*BEGIN\s+(?P<statement>CREATE\s+TYPE\s.*?);\s*EXCEPTION\s+WHEN\s+duplicate_object\s+THEN\s+NULL;"
    r"\s*END;?\s*",
    re.IGNORECASE | re.DOTALL,
)


def _guarded_create_type(node: ast.DoStmt) -> bool:
    """Exactly the block safe.create_enum writes: one CREATE TYPE, a duplicate ignored."""
    bodies = [
        given(a.arg.sval)
        for a in node.args or ()
        if isinstance(a, ast.DefElem) and a.defname == "as" and isinstance(a.arg, ast.String)
    ]
    match = _CREATE_TYPE_BLOCK.fullmatch(bodies[0]) if len(bodies) == 1 else None
    if match is None:
        return False
    try:
        statements = parse_sql(match["statement"])
    except ParseError:
        return False
    return len(statements) == 1 and isinstance(statements[0].stmt, ast.CreateEnumStmt)


def committed_early(steps: list[Statement]) -> list[Statement]:
    """Steps committed while more work follows (in a transaction block committed early, or one by one
    in an autocommit block), that would fail (or apply twice) when the revision runs again; and
    concurrent index builds that a failed earlier attempt would trip up. Empty when the revision is safe."""
    work = [s for s in steps if s.node is not None and not isinstance(s.node, ast.SelectStmt)]
    if not work:
        return []
    last = work[-1]  # blocks are contiguous: a step is committed early unless the last one shares its block
    early = []
    for position, step in enumerate(work):
        if any(line.startswith(GUARDED) for line in step.comments):
            continue
        if concurrent_build(step.node):
            if not _invalid_leftover_dropped_before(step.node, work[:position]):
                early.append(step)
            continue
        if _idempotent(step.node):
            continue
        if step.in_transaction:
            committed = not (last.in_transaction and last.block == step.block)
        else:
            committed = step is not last
        if committed:
            early.append(step)
    return early


def concurrent_build(node: ast.Node | None) -> TypeGuard[ast.IndexStmt]:
    """CREATE INDEX CONCURRENTLY. When it fails it leaves an INVALID index of its name behind: the next
    run then fails on it, or with IF NOT EXISTS skips it and keeps an index that is never used."""
    return isinstance(node, ast.IndexStmt) and bool(node.concurrent)


def _invalid_leftover_dropped_before(build: ast.IndexStmt, earlier: list[Statement]) -> bool:
    return any(
        isinstance(s.node, ast.DropStmt)
        and s.node.missing_ok
        and s.node.removeType == ObjectType.OBJECT_INDEX
        and any(names[-1].sval == build.idxname for names in given(s.node.objects))
        for s in earlier
    )


def not_rerunnable(sql: str, *, in_transaction: bool = False) -> list[str]:
    """committed_early() on one revision's offline SQL, each step as one line.
    `in_transaction`: the SQL starts inside the revision's transaction (its BEGIN is not in it)."""
    return [one_line(s) for s in committed_early(statements(sql, in_transaction=in_transaction))]


def one_line(step: Statement) -> str:
    return " ".join(step.sql.rstrip(";").split())
