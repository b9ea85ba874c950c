"""Which revisions `flask db squash [A:]B` replaces, and why it may refuse.

A squash replaces the revisions after A (or from the first one) up to B by one revision that keeps
B's identifier, so databases at B or beyond never notice. It refuses, before anything is built or
written, when the plan cannot be trusted:
- the scripts have several heads (merge them first);
- B is not a revision, or A is not an ancestor of B;
- the range crosses a merge point whose other parent lies outside it, or a revision outside the
  range (other than through B) depends on one inside it: the squash would cut that link;
- a revision in the range carries a branch label, which the squash would drop;
- a revision in the range adds rows (INSERT, COPY, MERGE, bulk_insert): a squash carries the schema
  only, so rows it added would be missing from databases built from the squash. An UPDATE or DELETE
  (a backfill) is no reason: the squash only ever runs on an empty database, where nothing in the
  range added a row for it to touch (any revision that did is refused on its own).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pglast
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError

from safemigrate.errors import EXIT_REFUSED, SafeMigrateError
from safemigrate.library_compat import all_down_revisions

# Statements that add rows (pglast node names), at the top or nested (a CTE's INSERT). UPDATE and
# DELETE only touch rows that exist: on the empty database a squash replays there are none.
_ROW_ADDING = {"InsertStmt", "MergeStmt", "CopyStmt"}
# Calls that add rows whatever their arguments (safe.backfill_in_batches only updates).
_DATA_CALLS = {"bulk_insert": "inserts rows"}
_EXECUTE_CALLS = {"execute", "exec_driver_sql"}


class SquashRefused(SafeMigrateError):
    """The squash cannot be made as asked; the message is one line. Nothing was written."""

    exit_code = EXIT_REFUSED


@dataclass(frozen=True)
class SquashPlan:
    base: str | None  # A, or None when squashing from the first revision
    target: Script  # B: the squash keeps its identifier
    replaced: tuple[Script, ...]  # oldest first, B last

    @property
    def replaced_ids(self) -> tuple[str, ...]:
        """The identifiers that disappear from the history (B's stays)."""
        return tuple(s.revision for s in self.replaced if s.revision != self.target.revision)


def plan_squash(scripts: ScriptDirectory, revision_range: str) -> SquashPlan:
    heads = scripts.get_heads()
    if len(heads) > 1:
        raise SquashRefused(
            f"the scripts have {len(heads)} heads ({', '.join(sorted(heads))}): "
            'merge them first (flask db merge heads -m "merge heads")'
        )
    base_ref, _, target_ref = revision_range.rpartition(":")
    target = _resolve(scripts, target_ref, "B")
    base = _resolve(scripts, base_ref, "A") if base_ref and base_ref != "base" else None
    ancestors = _ancestors(scripts, target.revision)
    if base is not None and (base.revision not in ancestors or base.revision == target.revision):
        raise SquashRefused(f"{base.revision} is not an ancestor of {target.revision}: nothing to squash")
    excluded = _ancestors(scripts, base.revision) if base is not None else set()
    members = ancestors - excluded
    if len(members) < 2:
        raise SquashRefused(f"the range {revision_range} holds {len(members)} revision: nothing to squash")
    _check_links(scripts, members, base.revision if base else None, target.revision)
    replaced = tuple(s for s in _oldest_first(scripts) if s.revision in members)
    for script in replaced:
        own_labels = getattr(script.module, "branch_labels", None)  # not the ones Alembic propagates
        if own_labels:
            labels = ", ".join(sorted([own_labels] if isinstance(own_labels, str) else own_labels))
            raise SquashRefused(
                f"revision {script.revision} carries branch label(s) {labels}, "
                "which the squash would drop: remove them first or squash a range without them"
            )
    for script in replaced:
        reason = data_operation(script)
        if reason:
            raise SquashRefused(
                f"revision {script.revision} ({_message(script)}) {reason}: a squash carries the schema "
                "only, so those rows would differ in new databases; squash up to the revision before it"
            )
    return SquashPlan(base=base.revision if base else None, target=target, replaced=replaced)


def _resolve(scripts: ScriptDirectory, ref: str, role: str) -> Script:
    try:
        script = scripts.get_revision(ref)
    except CommandError as exc:
        raise SquashRefused(f"{role} = {ref!r} is not a revision of this history: {exc}") from None
    if script is None:
        raise SquashRefused(f"{role} = {ref!r} is not a revision of this history")
    return script


def _ancestors(scripts: ScriptDirectory, revision: str) -> set[str]:
    """`revision` and every revision it depends on (down revisions and depends_on)."""
    return {s.revision for s in scripts.revision_map.iterate_revisions(revision, "base")}


def _oldest_first(scripts: ScriptDirectory) -> list[Script]:
    return list(reversed(list(scripts.walk_revisions())))


def _check_links(scripts: ScriptDirectory, members: set[str], base: str | None, target: str) -> None:
    allowed_parents = members | ({base} if base else set())
    for script in scripts.walk_revisions():
        parents = set(all_down_revisions(script))
        if script.revision in members:
            outside = parents - allowed_parents
            if outside:
                kind = "merge point" if script.is_merge_point else "revision"
                raise SquashRefused(
                    f"the range crosses {kind} {script.revision}, whose parent(s) "
                    f"{', '.join(sorted(outside))} lie outside it: squash a range that holds all its branches"
                )
        else:
            cut = parents & (members - {target})
            if cut:
                raise SquashRefused(
                    f"revision {script.revision} outside the range depends on {', '.join(sorted(cut))} "
                    "inside it: squash a range that ends where every branch has rejoined"
                )


def _message(script: Script) -> str:
    return (script.doc or "").strip().splitlines()[0] if (script.doc or "").strip() else "no message"


# -- data migrations -----------------------------------------------------------------------------
def data_operation(script: Script) -> str | None:
    """Why `script` adds rows (first reason found), or None when replaying it on an empty database
    leaves every table empty.

    Read from the source: calls that add rows (op.bulk_insert, sa.insert), and SQL passed to
    op.execute / connection.execute that PostgreSQL parses as INSERT, MERGE or COPY, at its top or
    nested. SQL the source does not spell out (a variable) cannot be told apart and is refused too.
    UPDATE, DELETE, safe.backfill_in_batches and safe.add_not_null_column's backfill only touch rows
    that exist, and a database built by a squash has none.
    """
    tree = ast.parse(Path(script.path).read_text(), filename=script.path)
    downgrades = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "downgrade"]
    skipped = {id(n) for f in downgrades for n in ast.walk(f)}
    for node in ast.walk(tree):
        if id(node) in skipped or not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name in _DATA_CALLS:
            return f"calls {name}() on line {node.lineno}, which {_DATA_CALLS[name]}"
        if name in _EXECUTE_CALLS and node.args:
            reason = _sql_reason(node.args[0])
            if reason:
                return f"calls {name}() on line {node.lineno} with {reason}"
    return None


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _sql_reason(arg: ast.expr) -> str | None:
    if isinstance(arg, ast.Call) and _call_name(arg) in ("text", "DDL") and arg.args:
        arg = arg.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return _statement_reason(arg.value)
    if isinstance(arg, ast.JoinedStr):
        parts = [v.value for v in arg.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        head = "".join(parts).lstrip().split(None, 1)
        keyword = head[0].upper() if head else ""
        if keyword in ("INSERT", "MERGE", "COPY", "WITH"):
            return f"an f-string {keyword} statement"
        return None
    if isinstance(arg, ast.Call) and _call_name(arg) == "insert":
        return f"an sa.{_call_name(arg)}() statement"
    return "SQL it does not spell out (a variable): cannot tell whether it changes rows"


def _statement_reason(sql: str) -> str | None:
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return None  # not for us to judge: the review (flask db lint) reports unparsable SQL
    for raw in statements:
        for node in _nodes(raw.stmt):
            kind = type(node).__name__
            table = getattr(getattr(node, "relation", None), "relname", None)
            if kind in _ROW_ADDING and table != "alembic_version":
                return f"SQL that PostgreSQL parses as {kind.removesuffix('Stmt').upper()}"
    return None


def _nodes(node: object) -> Iterator[pglast.ast.Node]:
    """`node` and every node under it."""
    if isinstance(node, tuple | list):
        for item in node:
            yield from _nodes(item)
    elif isinstance(node, pglast.ast.Node):
        yield node
        for attribute in node:
            yield from _nodes(getattr(node, attribute))
