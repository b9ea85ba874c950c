"""An enum value added inside the migration's transaction cannot be used until that transaction commits:
PostgreSQL stops the revision with "unsafe use of new value". The review remembers the values added in
the open transaction and flags a later statement of it that turns one into the enum: a cast to the type,
or the literal set into, inserted into, defaulted on or compared with a column of that type."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as At
from pglast.enums import ConstrType

from safemigrate.review.context import SAFE, Context
from safemigrate.review.sql import Statement, display, given, qualified, table_name, walk


def created(node: ast.CreateEnumStmt, statement: Statement, ctx: Context) -> None:
    """A type created in the transaction: values added to it there are usable at once."""
    if statement.in_transaction:
        ctx.enum_types_created.add(qualified(node.typeName))


def added(node: ast.AlterEnumStmt, statement: Statement, ctx: Context) -> None:
    """ALTER TYPE ... ADD VALUE inside the transaction: remember the value until it commits."""
    type_name = qualified(node.typeName)
    if (
        node.newVal
        and node.oldVal is None
        and statement.in_transaction
        and type_name not in ctx.enum_types_created
    ):
        ctx.enum_values_added.add((type_name, node.newVal))


def used(statement: Statement, ctx: Context) -> None:
    """Flag a statement of the open transaction that uses a value added in it."""
    node = statement.node
    if not ctx.enum_values_added or not statement.in_transaction or isinstance(node, ast.AlterEnumStmt):
        return
    for enum, value in sorted(ctx.enum_values_added):
        type_name = display(enum)
        if any(_typed(ctx, node, enum, cast, column) for cast, column in _pairs(node, value)):
            ctx.report(
                "new-enum-value-used-in-transaction",
                statement,
                f"'{value}' was added to enum {type_name} in this transaction; PostgreSQL refuses to use it "
                "before the transaction commits (unsafe use of new value), so the revision fails",
                f"add the value with {_helper_call(enum, value)} ({SAFE}), which commits it at once, "
                "or in an earlier revision",
            )
            return


def _helper_call(enum: str, value: str) -> str:
    schema, _, name = enum.rpartition(".")
    in_schema = f', schema="{schema}"' if display(enum) != name else ""
    return f'safe.add_enum_value("{name}", "{value}"{in_schema})'


def _pairs(node, value: str):
    """(what the literal `value` becomes, the literal): a type name (a cast), or a column name."""
    for found in walk(node):
        if isinstance(found, ast.TypeCast) and _is(found.arg, value):
            yield qualified(given(found.typeName).names), None
        elif isinstance(found, ast.A_Expr):
            sides = [found.lexpr, *(found.rexpr if isinstance(found.rexpr, tuple | list) else [found.rexpr])]
            if any(_is(side, value) for side in sides):
                yield from ((None, _column(side)) for side in sides if _column(side))
        elif isinstance(found, ast.UpdateStmt):
            yield from ((None, t.name) for t in given(found.targetList) if _is(t.val, value))
        elif (
            isinstance(found, ast.InsertStmt)
            and found.cols
            and isinstance(found.selectStmt, ast.SelectStmt)  # INSERT ... VALUES or SELECT
        ):
            for row in found.selectStmt.valuesLists or ():
                yield from ((None, c.name) for c, v in zip(found.cols, row, strict=False) if _is(v, value))
        elif (
            isinstance(found, ast.AlterTableCmd)
            and found.subtype == At.AT_ColumnDefault
            and _is(found.def_, value)
        ):
            yield None, found.name
        elif isinstance(found, ast.ColumnDef) and found.typeName is not None and _defaults_to(found, value):
            yield qualified(found.typeName.names), None  # a new column of the type, defaulting to the value


def _typed(ctx: Context, node, type_name: str, cast: str | None, column: str | None) -> bool:
    if cast is not None:
        return cast == type_name
    assert column is not None  # _pairs names the column wherever it names no cast
    tables = {table_name(n) for n in walk(node) if isinstance(n, ast.RangeVar)}
    for table in tables:
        known = ctx.schema.column(table, column)  # NeedHistory when linted alone and not known
        if known is not None and qualified(known.type.name.split(".")) == type_name:
            return True
    return False


def _defaults_to(column: ast.ColumnDef, value: str) -> bool:
    return any(
        isinstance(c, ast.Constraint) and c.contype == ConstrType.CONSTR_DEFAULT and _is(c.raw_expr, value)
        for c in column.constraints or ()
    )


def _column(node) -> str | None:
    if isinstance(node, ast.ColumnRef) and isinstance(given(node.fields)[-1], ast.String):
        return given(node.fields)[-1].sval
    return None


def _is(node, value: str) -> bool:
    return isinstance(node, ast.A_Const) and isinstance(node.val, ast.String) and node.val.sval == value
