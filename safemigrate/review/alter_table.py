"""ALTER TABLE: what each subcommand does to a table in use (rewrite, scan under lock, data loss)."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as At
from pglast.enums import ConstrType, ObjectType

from safemigrate.review.context import EXPAND_CONTRACT, SAFE, Context
from safemigrate.review.history import collation
from safemigrate.review.sql import (
    SERIAL_TYPES,
    Statement,
    display,
    given,
    rebuilds_indexes,
    rewrites,
    table_name,
    type_key,
    volatile_call,
)


def alter_table(node: ast.AlterTableStmt, statement: Statement, ctx: Context) -> None:
    if node.objtype != ObjectType.OBJECT_TABLE:
        return
    table = table_name(node.relation)
    if not ctx.existing(table):
        return
    name = display(table)
    for cmd in given(node.cmds):
        kind = cmd.subtype
        if kind == At.AT_AddColumn:
            _add_column(table, cmd.def_, statement, ctx)
        elif kind == At.AT_DropColumn:
            ctx.report(
                "ban-drop-column",
                statement,
                f"dropping {name}.{cmd.name} loses its data, and the running "
                "release still reads and writes it",
                "stop using the column in one release; drop it in a later one (# lint-ack: ban-drop-column: "
                "<which release stopped using it>)",
            )
        elif kind == At.AT_AlterColumnType:
            _alter_type(table, cmd, statement, ctx)
        elif kind == At.AT_SetNotNull and not ctx.schema.not_null_proven(table, cmd.name):
            ctx.report(
                "adding-not-nullable-field",
                statement,
                f"SET NOT NULL on {name}.{cmd.name} scans the whole "
                f"table under an ACCESS EXCLUSIVE lock (no valid CHECK ({cmd.name} IS NOT NULL) exists)",
                f'safe.set_not_null("{name}", "{cmd.name}") ({SAFE}): CHECK NOT VALID, VALIDATE, then SET '
                "NOT NULL skips the scan",
            )
        elif kind == At.AT_AddConstraint:
            _add_constraint(table, cmd.def_, statement, ctx)
        elif kind == At.AT_ValidateConstraint and (table, cmd.name) in ctx.added_here:
            ctx.report(
                "constraint-validated-in-same-transaction",
                statement,
                f"{cmd.name} is validated in the "
                f"transaction that added it, so the ADD's lock on {name} is held during the whole scan",
                "add it with the safe.create_* helper (NOT VALID, then VALIDATE in its own transaction, "
                f"both re-runnable) ({SAFE}), or put ALTER TABLE {name} VALIDATE CONSTRAINT {cmd.name} "
                "in the next revision",
            )
        elif kind in (At.AT_SetLogged, At.AT_SetUnLogged):
            which = "LOGGED" if kind == At.AT_SetLogged else "UNLOGGED"
            ctx.report(
                "set-logged-unlogged",
                statement,
                f"SET {which} rewrites {name} under an ACCESS EXCLUSIVE lock",
                "do it in a maintenance window, or build a new table and switch to it (expand/contract)",
            )
        elif kind in (At.AT_SetTableSpace, At.AT_SetAccessMethod):
            ctx.report(
                "set-tablespace",
                statement,
                f"moving {name} rewrites it under an ACCESS EXCLUSIVE lock",
                "do it in a maintenance window, or with pg_repack outside the migrations",
            )


def _add_column(table: str, column: ast.ColumnDef, statement: Statement, ctx: Context) -> None:
    name, col = display(table), column.colname
    constraints = [c for c in column.constraints or () if isinstance(c, ast.Constraint)]
    kinds = {c.contype for c in constraints}
    default = next((c.raw_expr for c in constraints if c.contype == ConstrType.CONSTR_DEFAULT), None)
    has_default = default is not None and not (isinstance(default, ast.A_Const) and default.isnull)
    type_name = type_key(column.typeName).name
    if type_name in SERIAL_TYPES:
        ctx.report(
            "adding-serial-column",
            statement,
            f"adding {type_name} column {name}.{col} fills every row from "
            f"a sequence: it rewrites {name} under an ACCESS EXCLUSIVE lock",
            "add a nullable integer column, create a sequence and SET DEFAULT nextval(...) (new rows), "
            "backfill old rows with safe.backfill_in_batches, then safe.set_not_null",
        )
        return
    generated = next((c for c in constraints if c.contype == ConstrType.CONSTR_GENERATED), None)
    volatile = volatile_call(default) if has_default else None
    why = None
    if ConstrType.CONSTR_IDENTITY in kinds or column.identity not in ("\x00", ""):
        why = "an identity column numbers every existing row"
    elif generated is not None and generated.generated_kind == "s":
        why = "a STORED generated column computes every existing row"
    elif volatile:
        why = f"the volatile default {volatile}() is evaluated for every existing row"
    if why:
        ctx.report(
            "add-column-rewrites-table",
            statement,
            f"{why}: adding {name}.{col} rewrites {name} under an ACCESS EXCLUSIVE lock",
            "add the column nullable without that default, SET DEFAULT for new rows, backfill old rows with "
            "safe.backfill_in_batches (a VIRTUAL generated column needs no rewrite)",
        )
        return
    not_null = column.is_not_null or ConstrType.CONSTR_NOTNULL in kinds
    if not_null and not has_default and ConstrType.CONSTR_PRIMARY not in kinds:
        ctx.report(
            "adding-required-field",
            statement,
            f"adding NOT NULL column {name}.{col} without a default fails as soon as {name} has a row",
            f'safe.add_not_null_column("{name}", sa.Column("{col}", ...), backfill="<SQL value>") ({SAFE}), '
            "or give it a constant server_default",
        )
    for constraint in constraints:
        _add_constraint(table, constraint, statement, ctx, column=col)


def _add_constraint(table: str, c: ast.Constraint, statement: Statement, ctx: Context, column=None) -> None:
    name, kind = display(table), c.contype
    conname = c.conname or "<name>"
    deferrable = (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_NOTNULL)
    if kind in deferrable and c.skip_validation:  # NOT VALID: no scan now
        ctx.added_here.add((table, c.conname))
        return
    if kind == ConstrType.CONSTR_CHECK:
        ctx.report(
            "constraint-missing-not-valid",
            statement,
            f"adding CHECK {conname} validates every row of {name} under an ACCESS EXCLUSIVE lock",
            f'safe.create_check_constraint("{conname}", "{name}", "<condition>") ({SAFE}): NOT VALID, then '
            "VALIDATE CONSTRAINT in its own transaction",
        )
    elif kind == ConstrType.CONSTR_FOREIGN:
        referenced = given(c.pktable).relname
        ctx.report(
            "adding-foreign-key-constraint",
            statement,
            f"adding foreign key {conname} checks every row of "
            f"{name} while writes to {name} and {referenced} are blocked",
            f'safe.create_foreign_key("{conname}", "{name}", "{referenced}", [...], [...]) ({SAFE}): '
            "NOT VALID, then VALIDATE CONSTRAINT in its own transaction",
        )
    elif kind == ConstrType.CONSTR_NOTNULL and column is None:
        key = given(c.keys)[0].sval
        if not ctx.schema.not_null_proven(table, key):
            ctx.report(
                "adding-not-nullable-field",
                statement,
                f"NOT NULL constraint {conname} scans the whole of {name} under an ACCESS EXCLUSIVE lock",
                f'safe.set_not_null("{name}", "{key}") ({SAFE}), or ADD CONSTRAINT {conname} NOT NULL {key} '
                "NOT VALID, then VALIDATE CONSTRAINT in its own transaction",
            )
    elif kind in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY) and not c.indexname:
        what = "UNIQUE" if kind == ConstrType.CONSTR_UNIQUE else "PRIMARY KEY"
        columns = ", ".join(k.sval for k in c.keys or ()) or column or "<columns>"
        helper = (
            f'safe.create_unique_constraint("{conname}", "{name}", [...]) ({SAFE})'
            if kind == ConstrType.CONSTR_UNIQUE
            else f'safe.create_index_concurrently("{conname}", "{name}", [{columns}], unique=True), then '
            f"ALTER TABLE {name} ADD CONSTRAINT {conname} PRIMARY KEY USING INDEX {conname} (the columns "
            "must already be NOT NULL: safe.set_not_null)"
        )
        ctx.report(
            "disallowed-unique-constraint",
            statement,
            f"{what} ({columns}) builds its index on {name} under "
            "an ACCESS EXCLUSIVE lock (NOT VALID does not exist for it)",
            helper if column is None else "add the column first, then " + helper,
        )
    elif kind == ConstrType.CONSTR_EXCLUSION:
        ctx.report(
            "disallowed-unique-constraint",
            statement,
            f"EXCLUDE constraint {conname} builds its index on "
            f"{name} under an ACCESS EXCLUSIVE lock; PostgreSQL has no NOT VALID or USING INDEX for it",
            "no online way exists: build it on a new table and switch to it, or acknowledge a maintenance "
            "window (# lint-ack: disallowed-unique-constraint: <why>)",
        )
    elif kind == ConstrType.CONSTR_PRIMARY and c.indexname:
        for key in ctx.schema.index_columns(table, c.indexname):
            if not ctx.schema.not_null_proven(table, key):
                ctx.report(
                    "adding-not-nullable-field",
                    statement,
                    f"PRIMARY KEY USING INDEX sets {name}.{key} "
                    "NOT NULL, scanning the table under an ACCESS EXCLUSIVE lock",
                    f'safe.set_not_null("{name}", "{key}") ({SAFE}) in an earlier step',
                )


def _alter_type(table: str, cmd: ast.AlterTableCmd, statement: Statement, ctx: Context) -> None:
    name, col, definition = display(table), given(cmd.name), cmd.def_
    assert isinstance(definition, ast.ColumnDef)  # ALTER COLUMN ... TYPE: a definition of the type
    new = type_key(definition.typeName)
    current = ctx.schema.column(table, col)
    fix = EXPAND_CONTRACT.format(what=f"column of the new type ({new})")
    if definition.raw_default is not None:
        ctx.report(
            "changing-column-type",
            statement,
            f"ALTER COLUMN {col} TYPE {new} USING ... rewrites {name} under an ACCESS EXCLUSIVE lock",
            fix,
        )
    elif current is None or current.type.name == "?":
        ctx.report(
            "changing-column-type",
            statement,
            f"the current type of {name}.{col} is not known to "
            "the review, so this may rewrite the table under an ACCESS EXCLUSIVE lock",
            fix,
        )
    elif rewrites(current.type, new):
        _type_rewrites(table, current, new, statement, ctx, fix)
    elif rebuilds_indexes(current.type, new) and ctx.schema.is_indexed(table, col):
        ctx.report(
            "changing-column-type",
            statement,
            f"{current.type} -> {new} rebuilds every index on {name}.{col} under an ACCESS EXCLUSIVE lock "
            "(their operator class changes; the table is not rewritten)",
            f"drop the column's indexes first (safe.drop_index_concurrently), change the type (then "
            f"metadata-only), build them again (safe.create_index_concurrently) ({SAFE}); or {fix}",
        )
    elif collation(definition) != current.collation and ctx.schema.is_indexed(table, col):
        ctx.report(
            "changing-column-collation",
            statement,
            f"changing the collation of {name}.{col} rebuilds every index on it under an ACCESS EXCLUSIVE "
            "lock (no reads or writes until the last one is built; the table is not rewritten)",
            f"drop the column's indexes first (safe.drop_index_concurrently), change the collation (then "
            f"metadata-only), build them again (safe.create_index_concurrently) ({SAFE}); or "
            + EXPAND_CONTRACT.format(what="column with the new collation"),
        )


def _type_rewrites(table: str, current, new, statement: Statement, ctx: Context, fix: str) -> None:
    zones = {current.type.name, new.name} == {"timestamp", "timestamptz"}
    unless = " unless the migration's session TimeZone is UTC" if zones else ""
    ctx.report(
        "changing-column-type",
        statement,
        f"{current.type} -> {new} rewrites {display(table)}{unless} under an ACCESS EXCLUSIVE lock (only "
        "widening a varchar/numeric limit, or varchar -> text, is metadata-only)",
        fix,
    )
