"""Django-style questions, answered by options when there is no terminal.

- A table loses a column and gains one of the same type and nullability: "Did you rename
  items.description to items.details? [y/N]". Yes -> a rename, the data kept.
- A NOT NULL column without a server default on an existing table: a one-off value for the rows
  already there.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from alembic.operations import ops as alembic_ops
from sqlalchemy.dialects import postgresql

from safemigrate.autogenerate import ops
from safemigrate.autogenerate.answers import Answers, AutogenerateRefused
from safemigrate.autogenerate.enums import enum_type

DIALECT = postgresql.dialect()


def type_sql(type_: sa.types.TypeEngine) -> str:
    return type_.compile(dialect=DIALECT)


def _same_shape(a: sa.Column, b: sa.Column) -> bool:
    return type_sql(a.type) == type_sql(b.type) and a.nullable == b.nullable


def resolve_renames(upgrade_ops: alembic_ops.UpgradeOps, answers: Answers) -> None:
    """Turn a confirmed drop + add of a column into a rename; warn about every drop left."""
    for table_ops in upgrade_ops.ops:
        if not isinstance(table_ops, alembic_ops.ModifyTableOps):
            continue
        table = table_ops.table_name
        added = {op.column.name: op for op in table_ops.ops if isinstance(op, alembic_ops.AddColumnOp)}
        dropped = {op.column_name: op for op in table_ops.ops if isinstance(op, alembic_ops.DropColumnOp)}
        for old, drop in list(dropped.items()):
            old_column = drop.to_column()
            new = answers.renames.get(f"{table}.{old}")
            if new is not None:
                answers.used.add(f"{table}.{old}")
                add = added.get(new)
                if add is None:
                    raise AutogenerateRefused(
                        f"--rename {table}.{old}:{new}: the models do not add a column {table}.{new}"
                    )
                if not _same_shape(old_column, add.column):
                    raise AutogenerateRefused(
                        f"--rename {table}.{old}:{new}: {old} is {_shape(old_column)} but {new} is "
                        f"{_shape(add.column)}; a rename keeps the type: rename first, change the type later"
                    )
            elif answers.interactive:
                candidates = [a for a in added.values() if _same_shape(old_column, a.column)]
                new = next(
                    (
                        a.column.name
                        for a in candidates
                        if click.confirm(
                            f"Did you rename {table}.{old} to {table}.{a.column.name}?", default=False
                        )
                    ),
                    None,
                )
            if new is None:
                answers.notes.append(
                    f"WARNING: {table}.{old} is DROPPED by this revision, with all its data. "
                    f"If you renamed it, run again with --rename {table}.{old}:NEW."
                )
                continue
            add = added.pop(new)
            table_ops.ops[table_ops.ops.index(add)] = ops.RenameColumn(table, old, new)
            table_ops.ops.remove(drop)
            answers.notes.append(f"{table}.{old} renamed to {table}.{new}: its data is kept.")
    for key in answers.renames:
        if "." in key and key not in answers.used:
            table, old = key.split(".", 1)
            raise AutogenerateRefused(
                f"--rename {key}:{answers.renames[key]}: the models do not drop a column {old} from {table}"
            )


def _shape(column: sa.Column) -> str:
    return f"{type_sql(column.type)} {'NULL' if column.nullable else 'NOT NULL'}"


def backfill_value(table: str, column: sa.Column, answers: Answers | None, connection) -> str | None:
    """The SQL literal existing rows get for a new NOT NULL column, or None when nobody can answer
    (e.g. `flask db check`). Refuses, in one line, when a person should have answered."""
    if answers is None:
        return None
    key = f"{table}.{column.name}"
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
            f"{key} is NOT NULL without a server default and {table} may hold rows.\n"
            f"One-off value for the existing rows ({type_sql(column.type)})",
            value_proc=checked,
        )
    if value is None:
        raise AutogenerateRefused(
            f"{key} is NOT NULL without a server default and {table} already exists: run again with "
            f"--backfill {key}=VALUE (a value for the existing rows), or give it a server_default"
        )
    _check_value(key, value, column, connection)
    answers.notes.append(f"{key}: existing rows get {value!r}")
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
