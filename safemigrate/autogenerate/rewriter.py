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
from safemigrate.autogenerate.enums import create_each_type_once, enum_type, located, name_of
from safemigrate.autogenerate.idempotent import make_rerunnable
from safemigrate.autogenerate.questioner import backfill_value
from safemigrate.autogenerate.renames import keep_equal_indexes_and_constraints, resolve_renames
from safemigrate.library_compat import copy_column, reverse_of

writer = Rewriter()
# Tables created or dropped by the revision being written, (schema, name) (set while it is rewritten).
_new_tables: contextvars.ContextVar[frozenset[tuple[str | None, str]]] = contextvars.ContextVar(
    "new_tables", default=frozenset()
)


def _existing(table_name: str, schema: str | None = None) -> bool:
    """Whether the table is in use outside this revision: created or dropped by it, it is not (its
    indexes and constraints go with it, and come back with it in the downgrade, plainly)."""
    return (schema, table_name) not in _new_tables.get()


def _answers(context) -> Answers | None:
    return Answers.of(context.config)


@writer.rewrites(alembic_ops.CreateIndexOp)
def create_index(context, revision, op):
    if not _existing(op.table_name, op.schema):
        return op
    return ops.CreateIndexConcurrently(
        op.index_name, op.table_name, _index_columns(op), bool(op.unique), _index_kw(op)
    )


@writer.rewrites(alembic_ops.DropIndexOp)
def drop_index(context, revision, op):
    if not _existing(op.table_name, op.schema):
        return op
    back = op.reverse()
    return ops.DropIndexConcurrently(
        op.index_name, op.table_name, _index_columns(back), bool(back.unique), _index_kw(back)
    )


def _index_columns(op) -> list:
    """Column names, and expressions (functional indexes) as they are: the renderer writes those."""
    return [c.name if isinstance(c, sa.Column) else c for c in op.columns]


def _index_kw(op) -> dict:
    """PostgreSQL options (postgresql_where, postgresql_using, ...) that are set, and the schema. Values
    may be SQL clauses, whose truth value is undefined: compare with None and False, never `bool()`."""
    kw = {k: v for k, v in op.kw.items() if k.startswith("postgresql_") and v is not None and v is not False}
    return {**kw, "schema": op.schema} if op.schema else kw


@writer.rewrites(alembic_ops.CreateTableOp)
def create_table(context, revision, op):
    """A new table's enum types are created before it, once, and only if missing: SQLAlchemy's own
    CREATE TYPE (from the table) fails when another table already uses the type, and a downgrade's
    drop_table would leave the type behind for the next upgrade to trip on."""
    created: list[ops.SafeOp] = [
        ops.CreateEnum(name_of(enum), list(enum.enums), enum.schema) for enum in _own_enum_types(op.columns)
    ]
    if op.schema and not _schema_exists(context.connection, op.schema):
        created.insert(0, ops.CreateSchema(op.schema))
    return [*created, op]


def _schema_exists(connection, schema: str) -> bool:
    """Offline (no connection) the schema is taken to exist: nothing to look it up in."""
    if connection is None:
        return True
    found = connection.execute(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema})
    return found.first() is not None


@writer.rewrites(alembic_ops.DropTableOp)
def drop_table(context, revision, op):
    """The way back from create_table, mirrored: the type goes with its last table, and the table's
    re-creation in the downgrade finds it created first."""
    created = reverse_of(op)
    columns = created.columns if created is not None else []
    own = _own_enum_types(columns, context.connection)
    dropped = [ops.DropEnumIfUnused(name_of(enum), list(enum.enums), enum.schema) for enum in own]
    return [op, *dropped]


def _own_enum_types(columns: list, reflected_from=None) -> list[sa.Enum]:
    """The named enums of a table op's `columns` (each once). Their columns are replaced, in the list,
    by copies whose type does not create itself; the models' own columns are left as they are.
    Columns reflected from the connection `reflected_from` get the schema their type is really in."""
    found: dict[tuple[str | None, str], sa.Enum] = {}
    for position, column in enumerate(columns):
        enum = enum_type(column.type) if isinstance(column, sa.Column) else None
        if enum is not None:
            schema = located(reflected_from, enum)
            copy_type = postgresql.ENUM(*enum.enums, name=enum.name, schema=schema, create_type=False)
            found.setdefault((schema, name_of(enum)), copy_type)
            columns[position] = copy = copy_column(column)
            copy.type = copy_type
    return list(found.values())


@writer.rewrites(alembic_ops.CreateUniqueConstraintOp)
def create_unique(context, revision, op):
    if not _existing(op.table_name, op.schema) or not op.constraint_name:
        return op
    return ops.CreateUniqueConstraint(
        op.constraint_name,
        op.table_name,
        list(op.columns),
        nulls_not_distinct=bool(op.kw.get("postgresql_nulls_not_distinct")),
        deferrable=op.kw.get("deferrable"),
        initially=op.kw.get("initially"),
        schema=op.schema,
    )


@writer.rewrites(alembic_ops.CreateForeignKeyOp)
def create_foreign_key(context, revision, op):
    if not _existing(op.source_table, op.kw.get("source_schema")) or not op.constraint_name:
        return op
    return ops.CreateForeignKey(
        op.constraint_name,
        op.source_table,
        op.referent_table,
        list(op.local_cols),
        list(op.remote_cols),
        ondelete=op.kw.get("ondelete"),
        onupdate=op.kw.get("onupdate"),
        match=op.kw.get("match"),
        deferrable=op.kw.get("deferrable"),
        initially=op.kw.get("initially"),
        source_schema=op.kw.get("source_schema"),
        referent_schema=op.kw.get("referent_schema"),
    )


@writer.rewrites(alembic_ops.CreateCheckConstraintOp)
def create_check(context, revision, op):
    if not _existing(op.table_name, op.schema) or not op.constraint_name:
        return op
    condition = op.condition if isinstance(op.condition, str) else str(op.condition)
    return ops.CreateCheckConstraint(op.constraint_name, op.table_name, condition, schema=op.schema)


@writer.rewrites(alembic_ops.AlterColumnOp)
def alter_column(context, revision, op):
    if op.modify_nullable is not False or not _existing(op.table_name, op.schema):
        return op
    set_not_null = ops.SetNotNull(op.table_name, op.column_name, op.existing_type, op.schema)
    rest = op.reverse().reverse()  # a copy
    rest.modify_nullable = None
    rest.existing_nullable = False
    changes_more = (
        op.modify_type is not None or op.modify_server_default is not False or op.modify_comment is not False
    )
    backfill = _backfill_nulls(context, op)
    steps = [*([rest] if changes_more else []), *([backfill] if backfill else []), set_not_null]
    return steps if len(steps) > 1 else set_not_null


def _backfill_nulls(context, op: alembic_ops.AlterColumnOp) -> ops.BackfillNulls | None:
    """Rows holding NULL in a column the models make NOT NULL get a value before any constraint: the
    one given (--backfill, or the question), else the server default the same edit gives the column;
    a column holding NULLs with neither is refused in one line. A value given for a column the
    database compared with holds no NULL in is still written: the production rows may."""
    answers, connection = _answers(context), context.connection
    if answers is None or connection is None:
        return None  # `flask db check`, --sql: nothing is asked
    quote = connection.dialect.identifier_preparer.quote
    table = f"{quote(op.schema)}.{quote(op.table_name)}" if op.schema else quote(op.table_name)
    key = f"{op.table_name}.{op.column_name}"
    holding = connection.execute(
        sa.text(f"SELECT EXISTS (SELECT FROM {table} WHERE {quote(op.column_name)} IS NULL)")
    ).scalar()
    default = _default_sql(op.modify_server_default, connection.dialect)
    if key not in answers.backfill and (not holding or default is not None):
        if default is None:
            return None
        value = default
        answers.notes.append(f"{key}: rows holding NULL get its server default {default}")
    else:
        column = sa.Column(op.column_name, op.existing_type or sa.types.NullType())
        answered = backfill_value(op.table_name, column, answers, connection, holding_nulls=True)
        assert answered is not None  # with answers at hand it answers or refuses
        value = answered
    primary_key = sa.inspect(connection).get_pk_constraint(op.table_name, op.schema)["constrained_columns"]
    if op.schema or len(primary_key) != 1:
        raise AutogenerateRefused(
            f"{key}: rows holding NULL are backfilled in batches by a one-column primary key in the "
            f"default schema, which {op.table_name} lacks: backfill them in an earlier revision first"
        )
    return ops.BackfillNulls(op.table_name, op.column_name, value, primary_key[0])


def _default_sql(server_default, dialect) -> str | None:
    """A server default set by the edit, as SQL (a string default is a literal), or None."""
    if server_default in (None, False):
        return None
    argument = getattr(server_default, "arg", server_default)
    if isinstance(argument, str):
        return "'" + argument.replace("'", "''") + "'"
    return str(argument.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


@writer.rewrites(alembic_ops.AddColumnOp)
def add_column(context, revision, op):
    if not _existing(op.table_name, op.schema):
        return op
    # IF NOT EXISTS: a revision that also runs `safe` helpers commits this step before them, so a
    # retry after a lock timeout (or a crash) must find the column there and go on.
    op.if_not_exists = True
    _computed_as_the_server_does(op, context.connection)
    column, result = op.column, [op]
    enum = enum_type(column.type)
    if enum is not None:
        result.insert(0, ops.CreateEnum(name_of(enum), list(enum.enums), enum.schema))
    if not column.nullable and column.server_default is None and not column.primary_key:
        backfill = backfill_value(op.table_name, column, _answers(context), context.connection)
        if backfill is not None:
            result[-1] = ops.AddNotNullColumn(op.table_name, column, backfill)
    return result if len(result) > 1 else result[0]


def _computed_as_the_server_does(op: alembic_ops.AddColumnOp, connection) -> None:
    """`sa.Computed(...)` without `persisted` is STORED before PostgreSQL 18 and VIRTUAL from 18 on, and
    SQLAlchemy writes STORED only when it knows the server: before 18 the review (offline SQL) would
    read a VIRTUAL column, instant to add, where the server computes and stores every row under an
    ACCESS EXCLUSIVE lock. The revision says what the server the models are compared with does,
    explicitly: a VIRTUAL column reaching a server before 18 then fails at once, in its transaction."""
    computed = op.column.computed
    if computed is None or computed.persisted is not None or connection is None:
        return
    op.column = column = copy_column(op.column)
    assert column.computed is not None  # the copy has its own Computed
    column.computed.persisted = connection.dialect.server_version_info < (18,)


def _created_or_dropped_tables(*ops_lists) -> frozenset[tuple[str | None, str]]:
    return frozenset(
        (op.schema, op.table_name)
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
        keep_equal_indexes_and_constraints(upgrade_ops)
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
                            position, ops.DropEnumIfUnused(name_of(enum), list(enum.enums), schema)
                        )
