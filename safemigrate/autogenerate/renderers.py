"""How the safe operations read in a revision file: one `safe.…` call each, not a wall of SQL."""

from __future__ import annotations

from alembic.autogenerate import render
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops as alembic_ops

from safemigrate.autogenerate import ops
from safemigrate.library_compat import render_column, render_dialect_kwargs, render_index_expressions

IMPORT = "from safemigrate import safe"


def _call(context: AutogenContext, function: str, *args, **kwargs) -> str:
    context.imports.add(IMPORT)
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items() if v not in (None, False, {})]
    return f"safe.{function}({', '.join(parts)})"


@render.renderers.dispatch_for(ops.CreateIndexConcurrently)
def _create_index(context, op):
    # Alembic's own helpers write the columns and options: expressions become sa.literal_column(...),
    # a partial index's WHERE becomes sa.text(...), as in the op.create_index they replace.
    index = alembic_ops.CreateIndexOp(
        op.name, op.table_name, op.columns, unique=op.unique, **op.kw
    ).to_index()
    columns = ", ".join(render_index_expressions(index, context))
    options = [
        *(["unique=True"] if op.unique else []),
        *render_dialect_kwargs(context, index.dialect_kwargs),
        *([f"schema={op.kw['schema']!r}"] if op.kw.get("schema") else []),
    ]
    context.imports.add(IMPORT)
    arguments = ", ".join([repr(op.name), repr(op.table_name), f"[{columns}]", *options])
    return f"safe.create_index_concurrently({arguments})"


@render.renderers.dispatch_for(ops.DropIndexConcurrently)
def _drop_index(context, op):
    return _call(context, "drop_index_concurrently", op.name, op.table_name, schema=op.kw.get("schema"))


@render.renderers.dispatch_for(ops.CreateUniqueConstraint)
def _unique(context, op):
    return _call(
        context,
        "create_unique_constraint",
        op.name,
        op.table_name,
        op.columns,
        nulls_not_distinct=op.nulls_not_distinct,
        deferrable=op.deferrable,
        initially=op.initially,
        schema=op.schema,
    )


@render.renderers.dispatch_for(ops.CreateForeignKey)
def _foreign_key(context, op):
    return _call(
        context,
        "create_foreign_key",
        op.name,
        op.source_table,
        op.referent_table,
        op.local_cols,
        op.remote_cols,
        ondelete=op.ondelete,
        onupdate=op.onupdate,
        match=op.match,
        deferrable=op.deferrable,
        initially=op.initially,
        source_schema=op.source_schema,
        referent_schema=op.referent_schema,
    )


@render.renderers.dispatch_for(ops.CreateCheckConstraint)
def _check(context, op):
    return _call(context, "create_check_constraint", op.name, op.table_name, op.condition, schema=op.schema)


@render.renderers.dispatch_for(ops.SetNotNull)
def _set_not_null(context, op):
    return _call(context, "set_not_null", op.table_name, op.column_name, schema=op.schema)


@render.renderers.dispatch_for(ops.BackfillNulls)
def _backfill_nulls(context, op):
    column = context.dialect.identifier_preparer.quote(op.column_name)
    key = op.key if op.key != "id" else None
    return _call(
        context, "backfill_in_batches", op.table_name, f"{column} = {op.value}", f"{column} IS NULL", key=key
    )


@render.renderers.dispatch_for(ops.KeepBackfilled)
def _keep_backfilled(context, op):
    return f"# {op.table_name}.{op.column_name}: the rows the upgrade backfilled keep their value"


@render.renderers.dispatch_for(ops.AddNotNullColumn)
def _add_not_null_column(context, op):
    context.imports.add(IMPORT)
    column = render_column(op.column, context)
    return f"safe.add_not_null_column({op.table_name!r}, {column}, backfill={op.backfill!r})"


@render.renderers.dispatch_for(ops.CreateEnum)
def _create_enum(context, op):
    return _call(context, "create_enum", op.name, op.values, schema=op.schema)


@render.renderers.dispatch_for(ops.DropEnumIfUnused)
def _drop_enum(context, op):
    return _call(context, "drop_enum_if_unused", op.name, schema=op.schema)


@render.renderers.dispatch_for(ops.AddEnumValue)
def _add_enum_value(context, op):
    return _call(context, "add_enum_value", op.name, op.value, after=op.after, schema=op.schema)


@render.renderers.dispatch_for(ops.KeepEnumValue)
def _keep_enum_value(context, op):
    return _call(context, "keep_enum_value", op.name, op.value, schema=op.schema)


@render.renderers.dispatch_for(ops.AlterSequenceType)
def _alter_sequence(context, op):
    return f"op.execute({f'ALTER SEQUENCE {op.sequence} AS {op.new_type}'!r})"


@render.renderers.dispatch_for(ops.NeedsReview)
def _needs_review(context, op):
    lines = [f"# REVIEW: {line}" for line in op.message.splitlines()]
    return "\n".join(["# " + "-" * 60, *lines, "# " + "-" * 60, "pass  # REVIEW: written by hand, see above"])


@render.renderers.dispatch_for(ops.RenameColumn)
def _rename_column(context, op):
    return f"op.alter_column({op.table_name!r}, {op.old_name!r}, new_column_name={op.new_name!r})"


@render.renderers.dispatch_for(ops.RenameTable)
def _rename_table(context, op):
    return f"op.rename_table({op.old_name!r}, {op.new_name!r})"


def _qualified(context: AutogenContext, name: str, schema: str | None) -> str:
    quote = context.dialect.identifier_preparer.quote
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


@render.renderers.dispatch_for(ops.RenameIndex)
def _rename_index(context, op):
    old, new = _qualified(context, op.old_name, op.schema), _qualified(context, op.new_name, None)
    return f"op.execute({f'ALTER INDEX {old} RENAME TO {new}'!r})"


@render.renderers.dispatch_for(ops.RenameConstraint)
def _rename_constraint(context, op):
    table = _qualified(context, op.table_name, op.schema)
    return f"op.execute({f'ALTER TABLE {table} RENAME CONSTRAINT {op.old_name} TO {op.new_name}'!r})"


@render.renderers.dispatch_for(ops.CreateSchema)
def _create_schema(context, op):
    return f"op.execute({f'CREATE SCHEMA IF NOT EXISTS {_qualified(context, op.name, None)}'!r})"


@render.renderers.dispatch_for(ops.DropSchemaIfEmpty)
def _drop_schema(context, op):
    return f"op.execute({f'DROP SCHEMA IF EXISTS {_qualified(context, op.name, None)}'!r})"
