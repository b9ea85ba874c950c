"""PostgreSQL enum types: created before the first column uses them, values added without a swap.

Removing or renaming a value needs a type swap that rewrites every table using the type: there is no
helper for it on purpose (autogenerate flags it for review).
"""

from __future__ import annotations

import itertools

from app.schema.safe.run import execute, literal, log, outside_transaction, query, quote


def create_enum(name: str, values: list[str]) -> None:
    """CREATE TYPE name AS ENUM (...), unless the type exists already. One statement, idempotent
    online and in the --sql output alike (a DO block that ignores duplicate_object), so a revision
    that runs it can run again after failing further on."""
    labels = ", ".join(literal(v) for v in values)
    tag = next(t for t in (f"$create_enum{n or ''}$" for n in itertools.count()) if t not in labels)
    execute(
        f"DO {tag} BEGIN CREATE TYPE {quote(name)} AS ENUM ({labels}); "
        f"EXCEPTION WHEN duplicate_object THEN NULL; END {tag}"
    )


def drop_enum_if_unused(name: str) -> None:
    """DROP TYPE name, unless a column still uses it (then it stays, and the log says so)."""
    users = query(
        "SELECT count(*) FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE t.typname = :name AND NOT a.attisdropped AND a.attnum > 0",
        name=name,
    )
    if users:
        log.info("enum type %s kept: %d column(s) still use it", name, users)
        return
    execute(f"DROP TYPE IF EXISTS {quote(name)}")


def add_enum_value(name: str, value: str, *, before: str | None = None, after: str | None = None) -> None:
    """ALTER TYPE name ADD VALUE IF NOT EXISTS 'value', committed at once (outside the revision's
    transaction): a value added in a transaction cannot be used until that transaction commits."""
    position = f" BEFORE {literal(before)}" if before else f" AFTER {literal(after)}" if after else ""
    with outside_transaction():
        execute(f"ALTER TYPE {quote(name)} ADD VALUE IF NOT EXISTS {literal(value)}{position}")


def keep_enum_value(name: str, value: str) -> None:
    """The way back from `add_enum_value`: PostgreSQL cannot drop an enum value, so it stays (unused
    by the older code). Dropping it needs a type swap that rewrites every table using the type."""
    log.info("enum type %s keeps the value %r (PostgreSQL cannot drop an enum value)", name, value)
