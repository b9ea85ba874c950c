"""Probes of one schema with the previous release's mappers: what that code does, generated.

Everything runs in one transaction that is rolled back: first rows the new schema admits (through
reflection, every enum label, as new code may write them), then, for every mapped class of the
previous release, the reads and writes its code makes. Each step runs in a savepoint, so one failure
is one finding and the others still run.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, class_mapper

from safemigrate.compat.values import NoValue, value_for
from safemigrate.errors import error_summary

# Tables the toolkit owns: never probed.
_OWN_TABLES = {"alembic_version", "migration_ledger"}


@dataclass(frozen=True)
class Failure:
    mapper: str  # the previous release's class, or the table for rows of the new schema
    operation: str
    error: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.mapper, self.operation)

    def line(self) -> str:
        return f"{self.mapper}: {self.operation}: {self.error}"


def probe(connection: Connection, classes: Iterable[type]) -> list[Failure]:
    """The previous release's mapped `classes` against the schema behind `connection`."""
    failures: list[Failure] = []
    transaction = connection.begin()
    try:
        classes = list(classes)
        write_rows_of_the_new_schema(connection, [None, *(_table(cls).schema for cls in classes)])
        session = Session(bind=connection, join_transaction_mode="create_savepoint", autoflush=False)
        try:
            made: dict[str, Any] = {}  # table -> an instance of its class that the probes inserted
            for cls in _in_dependency_order(classes):
                failures.extend(_probe_class(session, cls, made))
        finally:
            session.close()
    finally:
        transaction.rollback()
    return failures


# -- rows the new schema admits --------------------------------------------------------------------
def write_rows_of_the_new_schema(connection: Connection, schemas: Iterable[str | None] = (None,)) -> None:
    """One row per table (one per enum label where a column is an enum), as new code may write them;
    a row the generator cannot make valid (a CHECK it does not know) is left out."""
    metadata = sa.MetaData()
    with warnings.catch_warnings():
        # Reflection warns about what it cannot mirror (a NOT VALID check's options): rows still insert.
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        for schema in dict.fromkeys(schemas):  # the default schema, and every other one the models use
            metadata.reflect(connection, schema=schema, only=lambda name, _: name not in _OWN_TABLES)
    keys: dict[str, dict[str, Any]] = {}
    for table in metadata.sorted_tables:
        enum_labels = max(
            (len(c.type.enums) for c in table.columns if isinstance(c.type, sa.Enum)), default=1
        )
        for n in range(max(enum_labels, 1)):
            row = _row_for(table, n, keys)
            if row is None:
                break
            savepoint = connection.begin_nested()
            try:
                if table.primary_key.columns:
                    inserted = connection.execute(
                        table.insert().values(row).returning(*table.primary_key.columns)
                    )
                    keys.setdefault(table.key, dict(inserted.mappings().one()))
                else:  # a table without a key: nothing can point at its rows
                    connection.execute(table.insert().values(row))
                savepoint.commit()
            except sa.exc.DBAPIError:
                savepoint.rollback()


def _row_for(table: sa.Table, n: int, keys: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.foreign_keys:
            fk = next(iter(column.foreign_keys))
            parent = keys.get(fk.column.table.key)
            if parent is None or fk.column.name not in parent:
                if not column.nullable:
                    return None
                continue
            row[column.name] = parent[fk.column.name]
        elif column.server_default is not None or column.identity is not None or column.computed is not None:
            continue  # serial keys, defaults, generated columns: the database fills them
        else:
            try:
                row[column.name] = value_for(column.type, n + 1000)
            except NoValue:
                if not column.nullable:
                    return None
    return row


# -- the previous release's mappers ----------------------------------------------------------------
def _in_dependency_order(classes: Iterable[type]) -> list[type]:
    """Parents before children, so a child's foreign key can point at a row the probes made."""
    classes = list(classes)
    if not classes:
        return []
    ranked = {table: n for n, table in enumerate(_table(classes[0]).metadata.sorted_tables)}
    return sorted(classes, key=lambda cls: ranked.get(_table(cls), len(ranked)))


def _table(cls: type) -> sa.Table:
    """The table a class maps (its __mapper__.local_table; the mapper types it as any FROM clause)."""
    table = class_mapper(cls).local_table
    assert isinstance(table, sa.Table)  # the previous release's models are declarative: each maps a table
    return table


def _probe_class(session: Session, cls: type, made: dict[str, Any]) -> list[Failure]:
    name = cls.__name__
    failures: list[Failure] = []

    def step(operation: str, action: Callable[[], Any]) -> Any:
        savepoint = session.begin_nested()
        try:
            result = action()
            session.flush()
            savepoint.commit()
            return result
        except Exception as exc:  # noqa: BLE001 (any error of the old code is a finding)
            savepoint.rollback()
            failures.append(Failure(name, operation, _one_line(exc)))
            return _FAILED

    step("select", lambda: session.query(cls).all())
    required = _columns(cls, required_only=True)
    instance = step(
        "insert (the columns it must set)", lambda: _insert(session, cls, required, 1, False, made)
    )
    if instance is not _FAILED:
        made.setdefault(_table(cls).key, instance)
        step("read back what it wrote", lambda: _read_back(session, instance, required, 1, False))
    every = _columns(cls, required_only=False)
    full = step("insert (every column at its limit)", lambda: _insert(session, cls, every, 2, True, made))
    if full is not _FAILED:
        step("read back what it wrote at the limit", lambda: _read_back(session, full, every, 2, True))
        updatable = [c for c in every if not c.primary_key and not c.foreign_keys]
        if updatable:
            step("update", lambda: _set(full, updatable[:1], 3, False))
        step("delete", lambda: session.delete(full))
    return failures


_FAILED = object()


def _columns(cls: type, *, required_only: bool) -> list[sa.Column]:
    """The columns the old code sets on insert: without a default of its own or of the database's,
    and not a generated key; with `required_only`, only the NOT NULL ones (what every insert sets)."""
    found = []
    for column in class_mapper(cls).columns:
        if not isinstance(column, sa.Column) or column.computed is not None or column.identity is not None:
            continue
        if column is column.table.autoincrement_column:
            continue  # a serial or identity key: the database numbers the rows
        if column.default is not None or column.server_default is not None:
            continue
        if required_only and column.nullable and not column.foreign_keys:
            continue
        found.append(column)
    return found


def _insert(session: Session, cls: type, columns: list[sa.Column], n: int, largest: bool, made: dict) -> Any:
    instance = cls()
    _set(instance, columns, n, largest, made)
    session.add(instance)
    return instance


def _set(instance: Any, columns: list[sa.Column], n: int, largest: bool, made: dict | None = None) -> None:
    mapper = sa.inspect(type(instance))
    for column in columns:
        attribute = mapper.get_property_by_column(column).key
        if column.foreign_keys:
            fk = next(iter(column.foreign_keys))
            parent = (made or {}).get(fk.column.table.key)
            if parent is None:
                continue
            value = getattr(parent, sa.inspect(type(parent)).get_property_by_column(fk.column).key)
        else:
            try:
                value = value_for(column.type, n, largest=largest)
            except NoValue:
                continue
        setattr(instance, attribute, value)


def _read_back(session: Session, instance: Any, columns: list[sa.Column], n: int, largest: bool) -> None:
    """Reload the row and compare what comes back with what the old code wrote."""
    wrote = {}
    mapper = sa.inspect(type(instance))
    for column in columns:
        key = mapper.get_property_by_column(column).key
        wrote[key] = getattr(instance, key)
    session.expire(instance)
    for key, value in wrote.items():
        read = getattr(instance, key)
        if not _same(read, value):
            raise ValueError(f"{key} reads back as {read!r} ({type(read).__name__}), written as {value!r}")


def _same(read: Any, wrote: Any) -> bool:
    if type(read) is not type(wrote) and not (isinstance(read, str) and isinstance(wrote, str)):
        return False
    try:
        return bool(read == wrote)
    except TypeError:  # naive against aware datetimes
        return False


def _one_line(exc: BaseException) -> str:
    summary = error_summary(exc)
    return summary if summary.startswith(type(exc).__name__) else f"{type(exc).__name__}: {summary}"
