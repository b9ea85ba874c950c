"""What stock autogenerate does not compare: enum values, and the sequence behind a widened serial
primary key. Registered as the Alembic plugin "safemigrate.autogenerate" (with Alembic's opt-in
"alembic.ext.checkconstraint_byname" for CHECK constraints, see __init__.py; those are compared by
name, and the models' naming convention refuses an unnamed one)."""

from __future__ import annotations

import sys

import sqlalchemy as sa
from alembic.operations.ops import MigrateOperation
from alembic.runtime.plugins import Plugin
from alembic.util import DispatchPriority, PriorityDispatchResult

from safemigrate.autogenerate import ops, options
from safemigrate.autogenerate.enums import (
    database_enums,
    enum_type,
    model_enums,
    removed_values_message,
    same_enum_type,
)

PLUGIN = "safemigrate.autogenerate"
SEQUENCE_TYPES = {sa.SmallInteger: "smallint", sa.BigInteger: "bigint", sa.Integer: "integer"}


def compare_enum_values(autogen_context, upgrade_ops, schemas) -> PriorityDispatchResult:
    """A value added to a Python enum -> ALTER TYPE ... ADD VALUE; removed or renamed -> flagged."""
    if autogen_context.connection is None or autogen_context.metadata is None:
        return PriorityDispatchResult.CONTINUE
    in_database = database_enums(autogen_context.connection)
    default_schema = autogen_context.dialect.default_schema_name
    found: list[MigrateOperation] = []
    for (schema, name), values in model_enums(autogen_context.metadata, default_schema).items():
        existing = in_database.get((schema, name))
        if existing is None:
            continue  # a new type: created with its first column (rewriter.py) or its table
        added = [v for v in values if v not in existing]
        removed = [v for v in existing if v not in values]
        if removed:
            shown = f"{schema}.{name}" if schema else name
            found.append(ops.NeedsReview(removed_values_message(shown, removed, added)))
            continue
        for value in added:
            after = values[values.index(value) - 1] if values.index(value) else None
            found.append(ops.AddEnumValue(name, value, after=after, schema=schema))
    # First: a value must exist before a column default or a row can use it.
    upgrade_ops.ops[:0] = found
    return PriorityDispatchResult.CONTINUE


def compare_serial_sequence(
    autogen_context, modify_table_ops, schema, tname, conn_table, metadata_table
) -> PriorityDispatchResult:
    """Integer -> BigInteger on a serial primary key: ALTER COLUMN TYPE leaves the sequence an
    integer (it would fail at 2^31); the sequence follows the column."""
    if conn_table is None or metadata_table is None or autogen_context.connection is None:
        return PriorityDispatchResult.CONTINUE
    for column in metadata_table.primary_key.columns:
        wanted = next((n for t, n in SEQUENCE_TYPES.items() if isinstance(column.type, t)), None)
        if wanted is None:
            continue
        row = autogen_context.connection.execute(
            sa.text(
                "SELECT s.seqrelid::regclass::text, format_type(s.seqtypid, NULL) FROM pg_sequence s "
                "WHERE s.seqrelid = pg_get_serial_sequence(:table, :column)::regclass"
            ),
            {"table": f"{schema}.{tname}" if schema else tname, "column": column.name},
        ).first()
        if row is not None and row[1] != wanted:
            modify_table_ops.ops.append(ops.AlterSequenceType(row[0], wanted, row[1]))
    return PriorityDispatchResult.CONTINUE


def compare_options(
    autogen_context, modify_table_ops, schema, tname, conn_table, metadata_table
) -> PriorityDispatchResult:
    """Options of an existing index or constraint that Alembic does not compare (options.py)."""
    if conn_table is None or metadata_table is None or autogen_context.connection is None:
        return PriorityDispatchResult.CONTINUE
    connection = autogen_context.connection
    modify_table_ops.ops.extend(options.index_differences(connection, metadata_table))
    modify_table_ops.ops.extend(options.constraint_differences(connection, metadata_table))
    return PriorityDispatchResult.CONTINUE


def compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type) -> bool | None:
    """Alembic's compare_type hook: enums by the type PostgreSQL finds (enums.same_enum_type), and a
    column's collation. Alembic compares a collation only when reflection reports one on both sides,
    so `sa.String(320, collation="C")` on a column of the default collation (or the collation
    removed from the model) would never be written nor reported by `check`."""
    if _collation_differs(context.connection, inspected_column, metadata_type):
        return True
    return same_enum_type(context, inspected_column, metadata_column, inspected_type, metadata_type)


def _collation_differs(connection, inspected_column, metadata_type) -> bool:
    if connection is None or not isinstance(metadata_type, sa.String) or enum_type(metadata_type):
        return False
    table = inspected_column.table
    preparer = connection.dialect.identifier_preparer
    name = preparer.quote(table.name)
    name = f"{preparer.quote(table.schema)}.{name}" if table.schema else name
    actual = connection.execute(
        sa.text(
            "SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation "
            "WHERE a.attrelid = to_regclass(:table) AND a.attname = :column"
        ),
        {"table": name, "column": inspected_column.name},
    ).scalar()
    if actual is None:  # a type without collation (or a column not there: another comparison's case)
        return False
    return (metadata_type.collation or "default") != actual


def setup(plugin: Plugin) -> None:
    plugin.add_autogenerate_comparator(
        compare_enum_values, "schema", "enum_values", priority=DispatchPriority.LAST
    )
    plugin.add_autogenerate_comparator(
        compare_serial_sequence, "table", "serial_sequence", priority=DispatchPriority.LAST
    )
    plugin.add_autogenerate_comparator(compare_options, "table", "options", priority=DispatchPriority.LAST)


Plugin.setup_plugin_from_module(sys.modules[__name__], PLUGIN)
