"""The operations autogenerate writes as `safe.…` calls, each with its way back (reverse)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from alembic.operations import ops


class SafeOp(ops.MigrateOperation):
    """An operation rendered as a call of safemigrate.safe (see renderers.py)."""

    # Whether its helper leaves the revision's transaction (commits what came before it).
    commits = False

    def to_diff_tuple(self):
        return (type(self).__name__, *vars(self).values())


@dataclass(eq=False)
class CreateIndexConcurrently(SafeOp):
    commits = True

    name: str
    table_name: str
    columns: list[str]
    unique: bool = False
    kw: dict = field(default_factory=dict)

    def reverse(self):
        return DropIndexConcurrently(self.name, self.table_name, self.columns, self.unique, self.kw)


@dataclass(eq=False)
class DropIndexConcurrently(SafeOp):
    commits = True

    name: str
    table_name: str
    columns: list[str]
    unique: bool = False
    kw: dict = field(default_factory=dict)

    def reverse(self):
        return CreateIndexConcurrently(self.name, self.table_name, self.columns, self.unique, self.kw)


@dataclass(eq=False)
class CreateUniqueConstraint(SafeOp):
    commits = True

    name: str
    table_name: str
    columns: list[str]
    nulls_not_distinct: bool = False
    deferrable: bool | None = None
    initially: str | None = None
    schema: str | None = None

    def reverse(self):
        return ops.DropConstraintOp(self.name, self.table_name, type_="unique", schema=self.schema)


@dataclass(eq=False)
class CreateForeignKey(SafeOp):
    commits = True

    name: str
    source_table: str
    referent_table: str
    local_cols: list[str]
    remote_cols: list[str]
    ondelete: str | None = None
    onupdate: str | None = None
    match: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    source_schema: str | None = None
    referent_schema: str | None = None

    def reverse(self):
        return ops.DropConstraintOp(
            self.name, self.source_table, type_="foreignkey", schema=self.source_schema
        )


@dataclass(eq=False)
class CreateCheckConstraint(SafeOp):
    commits = True

    name: str
    table_name: str
    condition: str
    schema: str | None = None

    def reverse(self):
        return ops.DropConstraintOp(self.name, self.table_name, type_="check", schema=self.schema)


@dataclass(eq=False)
class SetNotNull(SafeOp):
    commits = True

    table_name: str
    column_name: str
    existing_type: sa.types.TypeEngine | None = None
    schema: str | None = None

    def reverse(self):
        return ops.AlterColumnOp(
            self.table_name,
            self.column_name,
            modify_nullable=True,
            existing_type=self.existing_type,
            existing_nullable=False,
            schema=self.schema,
        )


@dataclass(eq=False)
class BackfillNulls(SafeOp):
    """The rows of an existing column made NOT NULL that hold NULL get `value` (SQL), in batches, before
    any constraint exists: a NOT VALID CHECK is enforced on new rows at once, so it must never be
    committed while the NULLs it will fail on are still there."""

    commits = True

    table_name: str
    column_name: str
    value: str
    key: str = "id"

    def reverse(self):
        return KeepBackfilled(self.table_name, self.column_name)


@dataclass(eq=False)
class KeepBackfilled(SafeOp):
    """The way back from a backfill: which rows held NULL is not known any more; they keep the value."""

    table_name: str
    column_name: str

    def reverse(self):
        raise NotImplementedError("a backfill is written from the model edit, never from its way back")


@dataclass(eq=False)
class AddNotNullColumn(SafeOp):
    commits = True

    table_name: str
    column: sa.Column
    backfill: str

    def reverse(self):
        return ops.DropColumnOp.from_column_and_tablename(None, self.table_name, self.column)


@dataclass(eq=False)
class CreateSchema(SafeOp):
    """The schema a new table of the models is in, when the database lacks it (IF NOT EXISTS)."""

    name: str

    def reverse(self):
        return DropSchemaIfEmpty(self.name)


@dataclass(eq=False)
class DropSchemaIfEmpty(SafeOp):
    """DROP SCHEMA IF EXISTS, without CASCADE: whatever else was put in it since keeps it (and the
    downgrade stops there, in one line, rather than drop what it did not create)."""

    name: str

    def reverse(self):
        return CreateSchema(self.name)


@dataclass(eq=False)
class CreateEnum(SafeOp):
    name: str
    values: list[str]
    schema: str | None = None  # None: the default schema

    def reverse(self):
        return DropEnumIfUnused(self.name, self.values, self.schema)


@dataclass(eq=False)
class DropEnumIfUnused(SafeOp):
    name: str
    values: list[str]
    schema: str | None = None

    def reverse(self):
        return CreateEnum(self.name, self.values, self.schema)


@dataclass(eq=False)
class AddEnumValue(SafeOp):
    commits = True

    name: str
    value: str
    after: str | None = None
    schema: str | None = None

    def reverse(self):
        return KeepEnumValue(self.name, self.value, self.after, self.schema)


@dataclass(eq=False)
class KeepEnumValue(SafeOp):
    """PostgreSQL cannot drop an enum value: the downgrade leaves it, and says so."""

    name: str
    value: str
    after: str | None = None
    schema: str | None = None

    def reverse(self):
        return AddEnumValue(self.name, self.value, self.after, self.schema)


@dataclass(eq=False)
class AlterSequenceType(SafeOp):
    """The sequence behind a serial primary key follows its column (Integer -> BigInteger)."""

    sequence: str
    new_type: str
    old_type: str

    def reverse(self):
        return AlterSequenceType(self.sequence, self.old_type, self.new_type)


@dataclass(eq=False)
class NeedsReview(SafeOp):
    """Something autogenerate detects but will not write (it needs a person): rendered as a comment,
    printed by `flask db migrate`, and still reported by `flask db check` until it is done."""

    message: str

    def reverse(self):
        return NeedsReview(self.message)


@dataclass(eq=False)
class RenameColumn(SafeOp):
    """A confirmed rename: the data stays. The review still flags it: the running release reads the
    old name."""

    table_name: str
    old_name: str
    new_name: str

    def reverse(self):
        return RenameColumn(self.table_name, self.new_name, self.old_name)


@dataclass(eq=False)
class RenameTable(SafeOp):
    """A confirmed table rename: the rows stay. The review flags it like a column rename."""

    old_name: str
    new_name: str

    def reverse(self):
        return RenameTable(self.new_name, self.old_name)


@dataclass(eq=False)
class RenameIndex(SafeOp):
    """An index following its renamed table's (or column's) naming convention, or renamed in the
    models: ALTER INDEX ... RENAME is instant, where a rebuild leaves queries without it meanwhile."""

    old_name: str
    new_name: str
    schema: str | None = None

    def reverse(self):
        return RenameIndex(self.new_name, self.old_name, self.schema)


@dataclass(eq=False)
class RenameConstraint(SafeOp):
    """A constraint (and its index) following its renamed table's naming convention."""

    table_name: str
    old_name: str
    new_name: str
    schema: str | None = None

    def reverse(self):
        return RenameConstraint(self.table_name, self.new_name, self.old_name, self.schema)
