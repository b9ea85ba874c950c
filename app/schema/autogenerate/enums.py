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

from app.schema.autogenerate.ops import CreateEnum


def enum_type(type_: sa.types.TypeEngine) -> sa.Enum | None:
    """The named native PostgreSQL enum behind a column type, or None."""
    if isinstance(type_, sa.Enum) and type_.native_enum and type_.name:
        return type_
    return None


EnumKey = tuple[str | None, str]  # (schema, None for the default one; type name)


def model_enums(metadata: sa.MetaData, default_schema: str | None) -> dict[EnumKey, list[str]]:
    """Every named enum the models use: (schema, name) -> values, in declaration order."""
    found = {}
    for table in metadata.tables.values():
        for column in table.columns:
            enum = enum_type(column.type)
            if enum is not None:
                schema = None if enum.schema == default_schema else enum.schema
                found.setdefault((schema, enum.name), list(enum.enums))
    return found


def database_enums(connection: Connection) -> dict[EnumKey, list[str]]:
    """Every enum type outside the system schemas: (schema, None for the current one; name) -> values,
    in sort order."""
    rows = connection.execute(
        sa.text(
            "SELECT nullif(n.nspname, current_schema()), t.typname, e.enumlabel "
            "FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid "
            "JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' "
            "ORDER BY 1, t.typname, e.enumsortorder"
        )
    )
    found: dict[EnumKey, list[str]] = {}
    for schema, name, label in rows:
        found.setdefault((schema, name), []).append(label)
    return found


def create_each_type_once(container, seen: set[EnumKey] | None = None) -> None:
    """Two new tables (or columns) of one new type: the type is created by the first only."""
    seen = set() if seen is None else seen
    kept = []
    for op in container.ops:
        if isinstance(op, CreateEnum):
            if (op.schema, op.name) in seen:
                continue
            seen.add((op.schema, op.name))
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
