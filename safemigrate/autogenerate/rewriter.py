"""process_revision_directives: what autogenerate found, rewritten into the form that ships.

Built on Alembic's `autogenerate.rewriter.Rewriter`. Every operation on a table that already exists
becomes its non-blocking form (a `safe.…` call); operations on a table the same revision creates stay
plain (nobody uses it yet). The downgrade is derived again from the rewritten upgrade, so both
directions get the same treatment.
"""

from __future__ import annotations

import contextvars

import sqlalchemy as sa
from alembic.autogenerate.rewriter import Rewriter
from alembic.operations import ops as alembic_ops
from sqlalchemy.dialects import postgresql

from safemigrate.autogenerate import ops
from safemigrate.autogenerate.answers import Answers, AutogenerateRefused
from safemigrate.autogenerate.enums import create_each_type_once, enum_type, located
from safemigrate.autogenerate.idempotent import make_rerunnable
from safemigrate.autogenerate.questioner import backfill_value
from safemigrate.autogenerate.renames import resolve_renames
from safemigrate.library_compat import copy_column, reverse_of

writer = Rewriter()
# Tables created or dropped by the revision being written (set while it is rewritten).
_new_tables: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "new_tables", default=frozenset()
)


def _existing(table_name: str) -> bool:
    """Whether the table is in use outside this revision: created or dropped by it, it is not (its
    indexes and constraints go with it, and come back with it in the downgrade, plainly)."""
    return table_name not in _new_tables.get()


def _answers(context) -> Answers | None:
    return Answers.of(context.config)


@writer.rewrites(alembic_ops.CreateIndexOp)
def create_index(context, revision, op):
    if not _existing(op.table_name):
        return op
    return ops.CreateIndexConcurrently(
        op.index_name, op.table_name, _index_columns(op), bool(op.unique), _index_kw(op)
    )


@writer.rewrites(alembic_ops.DropIndexOp)
def drop_index(context, revision, op):
    if not _existing(op.table_name):
        return op
    back = op.reverse()
    return ops.DropIndexConcurrently(
        op.index_name, op.table_name, _index_columns(back), bool(back.unique), _index_kw(back)
    )


def _index_columns(op) -> list:
    """Column names, and expressions (functional indexes) as they are: the renderer writes those."""
    return [c.name if isinstance(c, sa.Column) else c for c in op.columns]


def _index_kw(op) -> dict:
    """PostgreSQL options (postgresql_where, postgresql_using, ...) that are set. Values may be SQL
    clauses, whose truth value is undefined: compare with None and False, never `bool()`."""
    return {
        k: v for k, v in op.kw.items() if k.startswith("postgresql_") and v is not None and v is not False
    }


@writer.rewrites(alembic_ops.CreateTableOp)
def create_table(context, revision, op):
    """A new table's enum types are created before it, once, and only if missing: SQLAlchemy's own
    CREATE TYPE (from the table) fails when another table already uses the type, and a downgrade's
    drop_table would leave the type behind for the next upgrade to trip on."""
    created = [
        ops.CreateEnum(enum.name, list(enum.enums), enum.schema) for enum in _own_enum_types(op.columns)
    ]
    return [*created, op]


@writer.rewrites(alembic_ops.DropTableOp)
def drop_table(context, revision, op):
    """The way back from create_table, mirrored: the type goes with its last table, and the table's
    re-creation in the downgrade finds it created first."""
    created = reverse_of(op)
    columns = created.columns if created is not None else []
    own = _own_enum_types(columns, context.connection)
    dropped = [ops.DropEnumIfUnused(enum.name, list(enum.enums), enum.schema) for enum in own]
    return [op, *dropped]


def _own_enum_types(columns: list, reflected_from=None) -> list[sa.Enum]:
    """The named enums of a table op's `columns` (each once). Their columns are replaced, in the list,
    by copies whose type does not create itself; the models' own columns are left as they are.
    Columns reflected from the connection `reflected_from` get the schema their type is really in."""
    found = {}
    for position, column in enumerate(columns):
        enum = enum_type(column.type) if isinstance(column, sa.Column) else None
        if enum is not None:
            schema = located(reflected_from, enum)
            copy_type = postgresql.ENUM(*enum.enums, name=enum.name, schema=schema, create_type=False)
            found.setdefault((schema, enum.name), copy_type)
            columns[position] = copy = copy_column(column)
            copy.type = copy_type
    return list(found.values())


@writer.rewrites(alembic_ops.CreateUniqueConstraintOp)
def create_unique(context, revision, op):
    if not _existing(op.table_name) or not op.constraint_name:
        return op
    return ops.CreateUniqueConstraint(op.constraint_name, op.table_name, list(op.columns))


@writer.rewrites(alembic_ops.CreateForeignKeyOp)
def create_foreign_key(context, revision, op):
    if not _existing(op.source_table) or not op.constraint_name:
        return op
    return ops.CreateForeignKey(
        op.constraint_name,
        op.source_table,
        op.referent_table,
        list(op.local_cols),
        list(op.remote_cols),
        ondelete=op.kw.get("ondelete"),
        onupdate=op.kw.get("onupdate"),
    )


@writer.rewrites(alembic_ops.CreateCheckConstraintOp)
def create_check(context, revision, op):
    if not _existing(op.table_name) or not op.constraint_name:
        return op
    condition = op.condition if isinstance(op.condition, str) else str(op.condition)
    return ops.CreateCheckConstraint(op.constraint_name, op.table_name, condition)


@writer.rewrites(alembic_ops.AlterColumnOp)
def alter_column(context, revision, op):
    if op.modify_nullable is not False or not _existing(op.table_name):
        return op
    set_not_null = ops.SetNotNull(op.table_name, op.column_name, op.existing_type)
    rest = op.reverse().reverse()  # a copy
    rest.modify_nullable = None
    rest.existing_nullable = False
    changes_more = (
        op.modify_type is not None or op.modify_server_default is not False or op.modify_comment is not False
    )
    return [rest, set_not_null] if changes_more else set_not_null


@writer.rewrites(alembic_ops.AddColumnOp)
def add_column(context, revision, op):
    if not _existing(op.table_name):
        return op
    # IF NOT EXISTS: a revision that also runs `safe` helpers commits this step before them, so a
    # retry after a lock timeout (or a crash) must find the column there and go on.
    op.if_not_exists = True
    column, result = op.column, [op]
    enum = enum_type(column.type)
    if enum is not None:
        result.insert(0, ops.CreateEnum(enum.name, list(enum.enums), enum.schema))
    if not column.nullable and column.server_default is None and not column.primary_key:
        backfill = backfill_value(op.table_name, column, _answers(context), context.connection)
        if backfill is not None:
            result[-1] = ops.AddNotNullColumn(op.table_name, column, backfill)
    return result if len(result) > 1 else result[0]


def _created_or_dropped_tables(*ops_lists) -> frozenset[str]:
    return frozenset(
        op.table_name
        for operations in ops_lists
        for op in operations.ops
        if isinstance(op, alembic_ops.CreateTableOp | alembic_ops.DropTableOp)
    )


def process_revision_directives(context, revision, directives) -> None:
    """Renames first (they change what the rest sees), then the safe forms, both directions."""
    if not directives:
        return
    script = directives[0]
    answers = _answers(context)
    for upgrade_ops in script.upgrade_ops_list:
        if answers is not None:
            resolve_renames(upgrade_ops, answers, context.connection)
        _drop_enum_types_with_their_last_column(upgrade_ops, context.connection)
    for downgrade_ops in script.downgrade_ops_list:
        downgrade_ops.ops[:] = []  # derived again below, from the rewritten upgrade
    token = _new_tables.set(_created_or_dropped_tables(*script.upgrade_ops_list))
    try:
        writer.process_revision_directives(context, revision, directives)
    finally:
        _new_tables.reset(token)
    unused = answers.unused() if answers is not None else []
    if unused:
        why = (
            "the models drop no such column or table"
            if unused[0].startswith("--drop")
            else ("the models add no such NOT NULL column")
        )
        raise AutogenerateRefused(f"{unused[0]}: {why}")
    for upgrade_ops, downgrade_ops in zip(script.upgrade_ops_list, script.downgrade_ops_list, strict=True):
        create_each_type_once(upgrade_ops)
        downgrade_ops.ops[:] = upgrade_ops.reverse().ops
        make_rerunnable(upgrade_ops)
        make_rerunnable(downgrade_ops)


def _drop_enum_types_with_their_last_column(upgrade_ops, connection) -> None:
    """A dropped enum column in the upgrade: drop its type too, when nothing else uses it."""
    for table_ops in upgrade_ops.ops:
        if isinstance(table_ops, alembic_ops.ModifyTableOps):
            for op in list(table_ops.ops):
                if isinstance(op, alembic_ops.DropColumnOp):
                    enum = enum_type(op.to_column().type)
                    if enum is not None:
                        position = table_ops.ops.index(op) + 1
                        schema = located(connection, enum)
                        table_ops.ops.insert(
                            position, ops.DropEnumIfUnused(enum.name, list(enum.enums), schema)
                        )
