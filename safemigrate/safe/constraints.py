"""UNIQUE, FOREIGN KEY and CHECK constraints added to a live table without a long lock.

Each is added in a form that needs no scan under an ACCESS EXCLUSIVE lock (USING INDEX, NOT VALID),
then made whole by a step that lets reads and writes through (an index built CONCURRENTLY, VALIDATE
CONSTRAINT), each in its own short transaction. A step already done is skipped: re-runnable.
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
)


def create_unique_constraint(name: str, table_name: str, columns: list[str]) -> None:
    """CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT name UNIQUE USING INDEX name."""
    table, constraint = quote(table_name), quote(name)
    with outside_transaction():
        if constraint_exists(table_name, name):
            return
        drop_invalid_index(name)
        note_guarded(f"an INVALID {name} left by a failed attempt is dropped first")
        execute(
            f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {constraint} ON {table} ({column_list(columns)})"
        )
        note_guarded(f"skipped when constraint {name} exists")
        execute(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} UNIQUE USING INDEX {constraint}")


def create_foreign_key(
    name: str,
    source_table: str,
    referent_table: str,
    local_cols: list[str],
    remote_cols: list[str],
    *,
    ondelete: str | None = None,
    onupdate: str | None = None,
) -> None:
    """ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in its own transaction."""
    actions = "".join(
        f" ON {event} {action.upper()}"
        for event, action in (("DELETE", ondelete), ("UPDATE", onupdate))
        if action
    )
    _add_then_validate(
        source_table,
        name,
        f"FOREIGN KEY ({column_list(local_cols)}) REFERENCES {quote(referent_table)} "
        f"({column_list(remote_cols)}){actions}",
    )


def create_check_constraint(name: str, table_name: str, condition: str) -> None:
    """ADD CONSTRAINT name CHECK (condition) NOT VALID, then VALIDATE CONSTRAINT in its own transaction."""
    _add_then_validate(table_name, name, f"CHECK ({condition})")


def _add_then_validate(table_name: str, name: str, definition: str) -> None:
    table, constraint = quote(table_name), quote(name)
    with outside_transaction():
        if not constraint_exists(table_name, name):
            note_guarded(f"skipped when constraint {name} exists")
            execute(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {definition} NOT VALID")
        execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {constraint}")
