"""The project's rules: what one statement does to a table in use, judged from its parse tree and
from what the history built before it. Each finding says the PostgreSQL fact and the fix for that
exact statement. ALTER TABLE's subcommands are in alter_table.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from safemigrate.review import enum_values
from safemigrate.review.alter_table import alter_table
from safemigrate.review.context import EXPAND_CONTRACT, SAFE, Context
from safemigrate.review.sql import Statement, bounded, display, given, option_names, qualified, table_name

_BLOCKING_LOCK_MODES = {5: "SHARE", 6: "SHARE ROW EXCLUSIVE", 7: "EXCLUSIVE", 8: "ACCESS EXCLUSIVE"}
__all__ = ["Context", "check"]


def check(statement: Statement, ctx: Context) -> None:
    """Add the findings for `statement` to ctx, then record what it did (ctx.schema, ctx.created)."""
    node = statement.node
    if node is None:
        ctx.report(
            "sql-syntax-error",
            statement,
            f"PostgreSQL refuses this statement: {statement.error}",
            "fix the SQL (op.execute) and run `flask db upgrade --sql` to see what is rendered",
        )
        return
    if not statement.in_transaction:
        ctx.added_here.clear()  # each statement outside a transaction block commits on its own
        ctx.enum_values_added.clear()
        ctx.enum_types_created.clear()
    enum_values.used(statement, ctx)
    _duplicate_names(node, statement, ctx)
    handler = _HANDLERS.get(type(node))
    if handler is not None:
        handler(node, statement, ctx)
    if isinstance(node, ast.CreateStmt | ast.CreateTableAsStmt):
        target = node.relation if isinstance(node, ast.CreateStmt) else given(node.into).rel
        ctx.created.add(table_name(target))
    ctx.schema.apply(statement)


# -- names ---------------------------------------------------------------------------------------
_INDEX_BACKED = (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION)


def _duplicate_names(node, statement: Statement, ctx: Context) -> None:
    """A name given twice fails the revision: indexes and the constraints an index backs (primary
    key, unique, exclude) share one namespace per schema with tables; any constraint's name is
    unique on its table. A naming convention built from the first column only gives
    UniqueConstraint("a", "b") and ("a", "c") the same name."""
    if isinstance(node, ast.CreateStmt):
        table = table_name(node.relation)
        constraints = [e for e in node.tableElts or () if isinstance(e, ast.Constraint)]
        for column in node.tableElts or ():
            if isinstance(column, ast.ColumnDef):
                constraints += [c for c in column.constraints or () if isinstance(c, ast.Constraint)]
    elif isinstance(node, ast.AlterTableStmt) and node.objtype == ObjectType.OBJECT_TABLE:
        table = table_name(node.relation)
        # DROP CONSTRAINT x, ADD CONSTRAINT x in one statement is a replacement.
        dropped = {c.name for c in given(node.cmds) if c.subtype == AlterTableType.AT_DropConstraint}
        constraints = [
            c.def_
            for c in given(node.cmds)
            if isinstance(c.def_, ast.Constraint) and c.def_.conname not in dropped
        ]
        constraints += [
            k for c in given(node.cmds) if isinstance(c.def_, ast.ColumnDef) for k in c.def_.constraints or ()
        ]
    elif isinstance(node, ast.IndexStmt) and node.idxname and not node.if_not_exists:
        _name_taken(table_name(node.relation), node.idxname, statement, ctx)
        return
    else:
        return
    seen: set[str] = set()
    for constraint in constraints:
        name = constraint.conname
        if not name:
            continue
        if name in seen:
            _report_duplicate(
                name, f"another constraint of {display(table)} in this statement", statement, ctx
            )
        elif constraint.contype in _INDEX_BACKED and constraint.indexname != name:  # USING INDEX: its own
            _name_taken(table, name, statement, ctx)
        seen.add(name)


def _name_taken(table: str, name: str, statement: Statement, ctx: Context) -> None:
    schema = table.split(".")[0]
    key = f"{schema}.{name}"
    if key in ctx.schema.coverage.by_name:
        on = display(ctx.schema.coverage.by_name[key][0])
        _report_duplicate(name, f"an index or constraint on {on}", statement, ctx)
    elif key in ctx.schema.tables:
        _report_duplicate(name, "a table", statement, ctx)


def _report_duplicate(name: str, taken_by: str, statement: Statement, ctx: Context) -> None:
    ctx.report(
        "duplicate-name",
        statement,
        f"the name {name} is already taken by {taken_by}: the revision fails (relation or constraint "
        "already exists)",
        "give it a name of its own; the project's naming convention spells out every column "
        "(column_0_N_name), so a model change renders distinct names",
    )


# -- other statements --------------------------------------------------------------------------
def _index(node: ast.IndexStmt, statement: Statement, ctx: Context) -> None:
    table = table_name(node.relation)
    if node.concurrent and statement.in_transaction:
        _in_transaction("CREATE INDEX CONCURRENTLY", statement, ctx)
    elif not node.concurrent and ctx.existing(table):
        name, cols = display(table), ", ".join(p.name or "<expression>" for p in given(node.indexParams))
        unique = ", unique=True" if node.unique else ""
        ctx.report(
            "require-concurrent-index-creation",
            statement,
            f"CREATE INDEX blocks every write to {name} while the index builds",
            f'safe.create_index_concurrently("{node.idxname}", "{name}", [{cols}]{unique}) ({SAFE})',
        )


def _drop(node: ast.DropStmt, statement: Statement, ctx: Context) -> None:
    if node.removeType == ObjectType.OBJECT_INDEX and node.concurrent and statement.in_transaction:
        _in_transaction("DROP INDEX CONCURRENTLY", statement, ctx)
    if node.removeType != ObjectType.OBJECT_TABLE:
        return
    for names in given(node.objects):
        table = qualified(names)
        if ctx.existing(table):
            ctx.report(
                "ban-drop-table",
                statement,
                f"dropping {display(table)} loses its data, and the running release may still use it",
                "stop using the table in one release; drop it in a later "
                "one, after a backup (# lint-ack: ban-drop-table: <why>)",
            )


def _rename(node: ast.RenameStmt, statement: Statement, ctx: Context) -> None:
    if node.relation is None or not ctx.existing(table_name(node.relation)):
        return
    name = display(table_name(node.relation))
    if node.renameType == ObjectType.OBJECT_COLUMN:
        ctx.report(
            "renaming-column",
            statement,
            f"renaming {name}.{node.subname} to {node.newname} breaks "
            "the running release, which still uses the old name",
            EXPAND_CONTRACT.format(what=f"column {node.newname}"),
        )
    elif node.renameType == ObjectType.OBJECT_TABLE:
        ctx.report(
            "renaming-table",
            statement,
            f"renaming {name} to {node.newname} breaks the running release, which still uses the old name",
            f"create a view {name} over the renamed "
            "table for the running release, or expand/contract (a new table, write both, switch)",
        )


def _truncate(node: ast.TruncateStmt, statement: Statement, ctx: Context) -> None:
    for relation in given(node.relations):
        if ctx.existing(table_name(relation)):
            ctx.report(
                "ban-truncate",
                statement,
                f"TRUNCATE {display(table_name(relation))} deletes every row under an ACCESS EXCLUSIVE lock",
                "delete what must go in batches "
                "(autocommit_block, DELETE ... WHERE key IN (SELECT ... LIMIT n)), or acknowledge "
                "it (# lint-ack: ban-truncate: <why the data may go>)",
            )
            return


def _data_change(node, statement: Statement, ctx: Context) -> None:
    table = table_name(node.relation)
    if not ctx.existing(table) or (
        node.whereClause is not None and bounded(node.whereClause, ctx.schema.unique_keys(table))
    ):
        return
    verb = "UPDATE" if isinstance(node, ast.UpdateStmt) else "DELETE"
    where = "in the migration's transaction" if statement.in_transaction else "in one statement"
    fix = (
        f'safe.backfill_in_batches("{display(table)}", "<set clause>", "<where>") ({SAFE}): short '
        "transactions of 1000 rows"
        if verb == "UPDATE"
        else "delete in batches outside the transaction: with op.get_context().autocommit_block(): repeat "
        "DELETE ... WHERE id IN (SELECT id ... LIMIT 1000) until no row goes"
    )
    ctx.report(
        "unbatched-data-change",
        statement,
        f"{verb} on {display(table)} {where} holds the lock of every "
        "row it touches until the end, blocking the release's writes to them",
        fix,
    )


def _lock(node: ast.LockStmt, statement: Statement, ctx: Context) -> None:
    mode = _BLOCKING_LOCK_MODES.get(given(node.mode))
    tables = [table_name(r) for r in given(node.relations) if ctx.existing(table_name(r))]
    if mode and tables:
        ctx.report(
            "lock-table",
            statement,
            f"LOCK TABLE {', '.join(map(display, tables))} IN {mode} MODE "
            "blocks writes until the revision commits",
            "remove it: each statement takes the lock "
            "it needs, and the release runner bounds the wait with lock_timeout",
        )


def _vacuum(node: ast.VacuumStmt, statement: Statement, ctx: Context) -> None:
    tables = [table_name(r.relation) for r in node.rels or () if r.relation is not None]
    if "full" in option_names(node.options) and any(ctx.existing(t) for t in tables or ["?.all"]):
        which = ", ".join(map(display, tables)) or "every table"
        ctx.report(
            "vacuum-full",
            statement,
            f"VACUUM FULL rewrites {which} under an ACCESS EXCLUSIVE lock",
            "leave it out of migrations; reclaim space online with pg_repack or pg_squeeze, "
            "or in a maintenance window",
        )
    elif node.is_vacuumcmd and statement.in_transaction:
        _in_transaction("VACUUM", statement, ctx)


def _cluster(node: ast.ClusterStmt, statement: Statement, ctx: Context) -> None:
    if node.relation is None or ctx.existing(table_name(node.relation)):
        ctx.report(
            "cluster",
            statement,
            "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock",
            "leave it out of migrations; pg_repack --order-by does it online",
        )


def _reindex(node: ast.ReindexStmt, statement: Statement, ctx: Context) -> None:
    if "concurrently" in option_names(node.params):
        if statement.in_transaction:
            _in_transaction("REINDEX CONCURRENTLY", statement, ctx)
        return
    ctx.report(
        "reindex-without-concurrently",
        statement,
        "REINDEX blocks writes to the table (and reads through the index) while it rebuilds",
        "REINDEX ... CONCURRENTLY, outside the transaction (with op.get_context().autocommit_block():)",
    )


def _refresh(node: ast.RefreshMatViewStmt, statement: Statement, ctx: Context) -> None:
    view = table_name(node.relation)
    if node.concurrent or not ctx.existing(view):
        return
    what = "empties it: reads fail until the next refresh" if node.skipData else "runs its query again"
    ctx.report(
        "refresh-materialized-view",
        statement,
        f"REFRESH MATERIALIZED VIEW {display(view)} holds an ACCESS EXCLUSIVE lock on it (no reads) "
        f"while it {what}",
        f"REFRESH MATERIALIZED VIEW CONCURRENTLY {display(view)} (reads go on; it needs a unique index on "
        "the view), or leave the refresh to a scheduled job",
    )


_TIMEOUTS = ("lock_timeout", "statement_timeout")


def _set(node: ast.VariableSetStmt, statement: Statement, ctx: Context) -> None:
    """A session-level SET of a timeout outlives the revision's transaction (SET LOCAL does not)."""
    if node.name not in _TIMEOUTS or node.is_local:
        return
    value = "its default" if not node.args else sql_value(node.args[0])
    ctx.report(
        "session-timeout",
        statement,
        f"SET {node.name} to {value} holds for the rest of the session, not just this revision: under "
        "`flask db upgrade` every later revision of the run waits that long for its locks while live "
        "queries queue behind it (the release runner restores its own before the next revision)",
        f"SET LOCAL {node.name} (this revision's transaction only; in an autocommit_block it has no "
        "effect: the runner's --lock-timeout / --statement-timeout apply there)",
    )


def sql_value(node) -> str:
    value = node.val if isinstance(node, ast.A_Const) else None
    if value is None:
        return "a value"
    return repr(value.sval) if isinstance(value, ast.String) else str(getattr(value, "ival", value))


def _in_transaction(what: str, statement: Statement, ctx: Context) -> None:
    ctx.report(
        "fails-in-transaction",
        statement,
        f"{what} cannot run inside a transaction block: the revision fails",
        "run it outside the transaction: with op.get_context().autocommit_block(): (for an index, "
        "safe.create_index_concurrently / safe.drop_index_concurrently do that and can run again)",
    )


# Each handler takes the node class it is registered for (Any: a Callable type cannot say so).
_HANDLERS: dict[type[ast.Node], Callable[[Any, Statement, Context], None]] = {
    ast.AlterTableStmt: alter_table,
    ast.IndexStmt: _index,
    ast.DropStmt: _drop,
    ast.RenameStmt: _rename,
    ast.TruncateStmt: _truncate,
    ast.UpdateStmt: _data_change,
    ast.DeleteStmt: _data_change,
    ast.LockStmt: _lock,
    ast.VacuumStmt: _vacuum,
    ast.ClusterStmt: _cluster,
    ast.ReindexStmt: _reindex,
    ast.RefreshMatViewStmt: _refresh,
    ast.VariableSetStmt: _set,
    ast.AlterEnumStmt: enum_values.added,
    ast.CreateEnumStmt: enum_values.created,
}
