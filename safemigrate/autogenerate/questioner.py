"""The questions autogenerate asks a person, and only the questions (Django's MigrationQuestioner /
InteractiveMigrationQuestioner split): what is asked about is decided elsewhere, and nothing here
changes an operation.

- A rename renames.py found possible: "Did you rename items.description to items.details? [y/N]",
  "Did you rename table items to things? [y/N]". Asked only in a terminal: without one, --rename
  or --drop answers, and renames.py stops the command when neither does.
- A NOT NULL column without a server default on an existing table: a one-off value for the rows
  already there (given by --backfill, else asked, else refused in one line), checked by PostgreSQL.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from safemigrate.autogenerate.answers import Answers, AutogenerateRefused
from safemigrate.autogenerate.enums import enum_type

DIALECT = postgresql.dialect()


def type_sql(type_: sa.types.TypeEngine) -> str:
    return type_.compile(dialect=DIALECT)


def ask_rename_column(answers: Answers, table: str, old: str, new: str) -> bool:
    """Whether `table.old` was renamed to `table.new`; without a terminal, no (the caller refuses an
    unanswered question before it gets here)."""
    return answers.interactive and click.confirm(
        f"Did you rename {table}.{old} to {table}.{new}?", default=False
    )


def ask_rename_table(answers: Answers, old: str, new: str) -> bool:
    """Whether table `old` was renamed to `new`; without a terminal, no."""
    return answers.interactive and click.confirm(f"Did you rename table {old} to {new}?", default=False)


def backfill_value(
    table: str, column: sa.Column, answers: Answers | None, connection, *, holding_nulls: bool = False
) -> str | None:
    """The SQL literal existing rows get for a new NOT NULL column (or, `holding_nulls`, the rows of an
    existing column made NOT NULL that hold NULL), or None when nobody can answer (e.g. `flask db
    check`). Refuses, in one line, when a person should have answered."""
    if answers is None:
        return None
    key = f"{table}.{column.name}"
    why = (
        f"{key} is made NOT NULL and holds NULLs"
        if holding_nulls
        else f"{key} is NOT NULL without a server default and {table} may hold rows"
    )
    value = answers.backfill.get(key)
    if value is not None:
        answers.used.add(key)
    elif answers.interactive:

        def checked(typed: str) -> str:  # a value PostgreSQL refuses is asked for again, as Django does
            try:
                _check_value(key, typed, column, connection)
            except AutogenerateRefused as exc:
                raise click.BadParameter(str(exc).split(": ", 1)[-1]) from None
            return typed

        value = click.prompt(
            f"{why}.\nOne-off value for the {'rows holding NULL' if holding_nulls else 'existing rows'} "
            f"({type_sql(column.type)})",
            value_proc=checked,
        )
    if value is None and holding_nulls:
        raise AutogenerateRefused(
            f"{why}: run again with --backfill {key}=VALUE (a value for the rows holding NULL, filled in "
            "batches before any constraint), or keep it nullable"
        )
    if value is None:
        raise AutogenerateRefused(
            f"{key} is NOT NULL without a server default and {table} already exists: run again with "
            f"--backfill {key}=VALUE (a value for the existing rows), or give it a server_default"
        )
    _check_value(key, value, column, connection)
    answers.notes.append(f"{key}: {'rows holding NULL' if holding_nulls else 'existing rows'} get {value!r}")
    return "'" + value.replace("'", "''") + "'"


def _check_value(key: str, value: str, column: sa.Column, connection) -> None:
    enum = enum_type(column.type)
    if enum is not None:
        if value not in enum.enums:
            raise AutogenerateRefused(f"--backfill {key}={value}: not one of {list(enum.enums)}")
        return
    savepoint = connection.begin_nested()
    try:
        connection.execute(sa.text(f"SELECT CAST(:value AS {type_sql(column.type)})"), {"value": value})
    except sa.exc.DBAPIError:
        savepoint.rollback()
        raise AutogenerateRefused(f"--backfill {key}={value}: not a valid {type_sql(column.type)}") from None
    savepoint.commit()
