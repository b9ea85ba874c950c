"""PostgreSQL enum types in the models and in the database.

Why not alembic-postgresql-enum (evaluated, 1.11): it activates by import side effect for every
autogenerate run, and the way back from a value it adds (and any removal or rename) is its
`sync_enum_values`, a type swap that rewrites every table using the type under an ACCESS EXCLUSIVE
lock: the outage this project exists to prevent. What we need is small: create the type before a
column uses it, ADD VALUE outside a transaction, and flag removals for a person.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from safemigrate.autogenerate.ops import CreateEnum, CreateSchema


def enum_type(type_: sa.types.TypeEngine) -> sa.Enum | None:
    """The named native PostgreSQL enum behind a column type, or None."""
    if isinstance(type_, sa.Enum) and type_.native_enum and type_.name:
        return type_
    return None


def name_of(enum: sa.Enum) -> str:
    """The name of an enum enum_type() found (SQLAlchemy types it optional; enum_type() finds named ones)."""
    assert enum.name is not None, "enum_type() finds named enums only"
    return enum.name


EnumKey = tuple[str | None, str]  # (schema, None for the default one; type name)


def model_enums(metadata: sa.MetaData, default_schema: str | None) -> dict[EnumKey, list[str]]:
    """Every named enum the models use: (schema, name) -> values, in declaration order."""
    found: dict[EnumKey, list[str]] = {}
    for table in metadata.tables.values():
        for column in table.columns:
            enum = enum_type(column.type)
            if enum is not None:
                schema = None if enum.schema == default_schema else enum.schema
                found.setdefault((schema, name_of(enum)), list(enum.enums))
    return found


def database_enums(connection: Connection) -> dict[EnumKey, list[str]]:
    """Every enum type outside the system schemas: (schema, name) -> values, in sort order. The type an
    unqualified name finds (the search path's) is also under (None, name), as the models name it."""
    rows = connection.execute(
        sa.text(
            "SELECT n.nspname, pg_catalog.pg_type_is_visible(t.oid), t.typname, e.enumlabel "
            "FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid "
            "JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' "
            "ORDER BY n.nspname, t.typname, e.enumsortorder"
        )
    )
    found: dict[EnumKey, list[str]] = {}
    for schema, visible, name, label in rows:
        found.setdefault((schema, name), []).append(label)
        if visible:
            found.setdefault((None, name), []).append(label)
    return found


def located(connection: Connection | None, enum: sa.Enum) -> str | None:
    """The schema the type of a reflected enum really is in (None: the current schema). Reflection
    leaves out a schema that is on the search path; the type may still not be in the current one."""
    if connection is None:
        return enum.schema
    row = connection.execute(
        sa.text(
            "SELECT nullif(n.nspname, current_schema()) FROM pg_type t "
            "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = to_regtype(:type)"
        ),
        {"type": _type_name(connection, enum)},
    ).first()
    return row[0] if row is not None else enum.schema


def same_enum_type(context, inspected_column, metadata_column, inspected_type, metadata_type) -> bool | None:
    """Alembic's compare_type hook. A model's sa.Enum and the reflected ENUM are the same type when
    PostgreSQL finds one type under both names (reflection drops a schema on the search path, a model
    may spell out `public`); their values are compared by comparators.compare_enum_values. Otherwise
    (or for other types) None: Alembic's own comparison decides."""
    model, reflected = enum_type(metadata_type), enum_type(inspected_type)
    connection = context.connection
    if model is None or reflected is None or connection is None or model.name != reflected.name:
        return None
    found = connection.execute(
        sa.text("SELECT to_regtype(:model) = to_regtype(:reflected)"),
        {"model": _type_name(connection, model), "reflected": _type_name(connection, reflected)},
    ).scalar()
    return False if found else None


def _type_name(connection: Connection, enum: sa.Enum) -> str:
    quote = connection.dialect.identifier_preparer.quote
    name = quote(name_of(enum))
    return f"{quote(enum.schema)}.{name}" if enum.schema else name


def create_each_type_once(container, seen: set[EnumKey] | None = None) -> None:
    """Two new tables (or columns) of one new type, or in one new schema: it is created by the first
    only."""
    seen = set() if seen is None else seen
    kept = []
    for op in container.ops:
        if isinstance(op, CreateEnum | CreateSchema):
            key = (op.schema, op.name) if isinstance(op, CreateEnum) else ("schema", op.name)
            if key in seen:
                continue
            seen.add(key)
        elif hasattr(op, "ops"):
            create_each_type_once(op, seen)
        kept.append(op)
    container.ops[:] = kept


def removed_values_message(name: str, removed: list[str], added: list[str]) -> str:
    what = f"loses {removed}" + (f" and gains {added} (a rename?)" if added else "")
    return (
        f"enum {name} {what}: PostgreSQL cannot drop or rename an enum value in place.\n"
        "Write it by hand after review: a new type with the wanted values, columns switched with\n"
        "ALTER COLUMN ... TYPE new USING col::text::new (rewrites the table: plan it), then DROP TYPE.\n"
        "Rows holding a removed value must be updated first."
    )
