"""PostgreSQL enum types: created before the first column uses them, values added without a swap.

Removing or renaming a value needs a type swap that rewrites every table using the type: there is no
helper for it on purpose (autogenerate flags it for review).
"""

from __future__ import annotations

import itertools

from safemigrate.safe.run import execute, literal, log, outside_transaction, query, quote


def create_enum(name: str, values: list[str], *, schema: str | None = None) -> None:
    """CREATE TYPE name AS ENUM (...), unless the type exists already. One statement, idempotent
    online and in the --sql output alike (a DO block that ignores duplicate_object), so a revision
    that runs it can run again after failing further on. `schema`: None for the default schema."""
    labels = ", ".join(literal(v) for v in values)
    tag = next(t for t in (f"$create_enum{n or ''}$" for n in itertools.count()) if t not in labels)
    execute(
        f"DO {tag} BEGIN CREATE TYPE {_type(name, schema)} AS ENUM ({labels}); "
        f"EXCEPTION WHEN duplicate_object THEN NULL; END {tag}"
    )


def drop_enum_if_unused(name: str, *, schema: str | None = None) -> None:
    """DROP TYPE name, unless a column still uses it, or an array of it (then it stays, and the log
    says so)."""
    users = query(
        "SELECT count(*) FROM pg_attribute a JOIN pg_type t ON a.atttypid IN (t.oid, t.typarray) "
        "WHERE t.oid = to_regtype(:type) AND NOT a.attisdropped AND a.attnum > 0",
        type=_type(name, schema),
    )
    if users:
        log.info("enum type %s kept: %d column(s) still use it", _shown(name, schema), users)
        return
    execute(f"DROP TYPE IF EXISTS {_type(name, schema)}")


def add_enum_value(
    name: str, value: str, *, before: str | None = None, after: str | None = None, schema: str | None = None
) -> None:
    """ALTER TYPE name ADD VALUE IF NOT EXISTS 'value', committed at once (outside the revision's
    transaction): a value added in a transaction cannot be used until that transaction commits."""
    position = f" BEFORE {literal(before)}" if before else f" AFTER {literal(after)}" if after else ""
    with outside_transaction():
        execute(f"ALTER TYPE {_type(name, schema)} ADD VALUE IF NOT EXISTS {literal(value)}{position}")


def keep_enum_value(name: str, value: str, *, schema: str | None = None) -> None:
    """The way back from `add_enum_value`: PostgreSQL cannot drop an enum value, so it stays (unused
    by the older code). Dropping it needs a type swap that rewrites every table using the type."""
    log.info(
        "enum type %s keeps the value %r (PostgreSQL cannot drop an enum value)", _shown(name, schema), value
    )


def _type(name: str, schema: str | None) -> str:
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


def _shown(name: str, schema: str | None) -> str:
    return f"{schema}.{name}" if schema else name
