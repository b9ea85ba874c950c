"""UNIQUE, FOREIGN KEY and CHECK constraints added to a live table without a long lock.

Each is added in a form that needs no scan under an ACCESS EXCLUSIVE lock (USING INDEX, NOT VALID),
then made whole by a step that lets reads and writes through (an index built CONCURRENTLY, VALIDATE
CONSTRAINT), each in its own short transaction. A step already done is skipped: re-runnable.
Every option the model gives the constraint (NULLS NOT DISTINCT, DEFERRABLE, INITIALLY, MATCH) is
in the constraint that ships: a weaker one would pass the review and differ from the models forever.
"""

from __future__ import annotations

from safemigrate.safe.indexes import drop_invalid_index
from safemigrate.safe.run import (
    column_list,
    constraint_exists,
    execute,
    note_guarded,
    outside_transaction,
    quote,
    table_ref,
)


def create_unique_constraint(
    name: str,
    table_name: str,
    columns: list[str],
    *,
    nulls_not_distinct: bool = False,
    deferrable: bool | None = None,
    initially: str | None = None,
    schema: str | None = None,
) -> None:
    """CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT name UNIQUE USING INDEX name.

    NULLS NOT DISTINCT belongs to the index (the constraint takes it from there); DEFERRABLE and
    INITIALLY to the constraint.
    """
    table, constraint = table_ref(table_name, schema), quote(name)
    nulls = " NULLS NOT DISTINCT" if nulls_not_distinct else ""
    with outside_transaction():
        if constraint_exists(table_name, name, schema):
            return
        drop_invalid_index(name, schema)
        note_guarded(f"an INVALID {name} left by a failed attempt is dropped first")
        execute(
            f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {constraint} ON {table} "
            f"({column_list(columns)}){nulls}"
        )
        note_guarded(f"skipped when constraint {name} exists")
        execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {constraint} UNIQUE USING INDEX {constraint}"
            f"{_timing(deferrable, initially)}"
        )


def create_foreign_key(
    name: str,
    source_table: str,
    referent_table: str,
    local_cols: list[str],
    remote_cols: list[str],
    *,
    ondelete: str | None = None,
    onupdate: str | None = None,
    match: str | None = None,
    deferrable: bool | None = None,
    initially: str | None = None,
    source_schema: str | None = None,
    referent_schema: str | None = None,
) -> None:
    """ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in its own transaction."""
    actions = "".join(
        f" ON {event} {action.upper()}"
        for event, action in (("DELETE", ondelete), ("UPDATE", onupdate))
        if action
    )
    matching = f" MATCH {match.upper()}" if match else ""
    _add_then_validate(
        source_table,
        name,
        f"FOREIGN KEY ({column_list(local_cols)}) REFERENCES {table_ref(referent_table, referent_schema)} "
        f"({column_list(remote_cols)}){matching}{actions}{_timing(deferrable, initially)}",
        source_schema,
    )


def create_check_constraint(name: str, table_name: str, condition: str, *, schema: str | None = None) -> None:
    """ADD CONSTRAINT name CHECK (condition) NOT VALID, then VALIDATE CONSTRAINT in its own transaction."""
    _add_then_validate(table_name, name, f"CHECK ({condition})", schema)


def _timing(deferrable: bool | None, initially: str | None) -> str:
    """DEFERRABLE / NOT DEFERRABLE and INITIALLY ..., as the model says (nothing: PostgreSQL's default)."""
    clause = {True: " DEFERRABLE", False: " NOT DEFERRABLE", None: ""}[deferrable]
    return clause + (f" INITIALLY {initially.upper()}" if initially else "")


def _add_then_validate(table_name: str, name: str, definition: str, schema: str | None = None) -> None:
    table, constraint = table_ref(table_name, schema), quote(name)
    with outside_transaction():
        if not constraint_exists(table_name, name, schema):
            note_guarded(f"skipped when constraint {name} exists")
            execute(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {definition} NOT VALID")
        execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {constraint}")
