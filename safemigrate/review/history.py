"""What the history has done to the schema so far: the facts later revisions' exemptions rest on
(column types, NOT NULL columns, validated `CHECK (col IS NOT NULL)` constraints)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pglast import ast
from pglast.enums import AlterTableType as At
from pglast.enums import ConstrType, ObjectType

from safemigrate.review.index_coverage import IndexCoverage
from safemigrate.review.sql import (
    DEFAULT_SCHEMA,
    Statement,
    TypeKey,
    given,
    is_not_null_check,
    qualified,
    table_name,
    type_key,
    walk,
)


class NeedHistory(Exception):
    """A partial view (one revision linted alone) lacks a fact only the earlier history has."""


@dataclass(frozen=True)
class Column:
    type: TypeKey
    not_null: bool = False
    collation: str | None = None  # None: the type's default


@dataclass
class Check:
    column: str | None  # the column of a CHECK (col IS NOT NULL) or a NOT NULL constraint
    validated: bool


@dataclass
class Schema:
    """The schema as the revisions built it. `partial`: built from one revision alone, so a fact
    it does not hold may still be true (NeedHistory is raised instead of guessing)."""

    partial: bool = False
    tables: dict[str, dict[str, Column]] = field(default_factory=dict)
    checks: dict[tuple[str, str], Check] = field(default_factory=dict)
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # schema.index -> its columns
    coverage: IndexCoverage = field(default_factory=IndexCoverage)  # which columns an index covers

    def index_columns(self, table: str, index: str) -> tuple[str, ...]:
        found = self.indexes.get(f"{table.split('.')[0]}.{index}")
        if found is None and self.partial:
            raise NeedHistory
        return found or ()

    def column(self, table: str, name: str) -> Column | None:
        found = self.tables.get(table, {}).get(name)
        if found is None and self.partial:
            raise NeedHistory
        return found

    def is_indexed(self, table: str, column: str) -> bool:
        """Whether an index (plain, unique, primary key, or on an expression of it) covers the column."""
        if self.coverage.covers(table, column):
            return True
        if self.partial:
            raise NeedHistory
        return False

    def not_null_proven(self, table: str, column: str) -> bool:
        """A valid CHECK (col IS NOT NULL) or NOT NULL constraint lets SET NOT NULL skip its scan."""
        known = self.tables.get(table, {}).get(column)
        if known is not None and known.not_null:
            return True
        if any(c.validated and c.column == column for (t, _), c in self.checks.items() if t == table):
            return True
        if self.partial:
            raise NeedHistory
        return False

    def fork(self) -> Schema:
        """A copy to apply a downgrade to, leaving this one as the upgrade left it."""
        tables = {name: dict(columns) for name, columns in self.tables.items()}
        checks = {key: replace(check) for key, check in self.checks.items()}
        return Schema(self.partial, tables, checks, dict(self.indexes), self.coverage.copy())

    # -- applying what a statement does ----------------------------------------------------------
    def apply(self, statement: Statement) -> None:
        node = statement.node
        if isinstance(node, ast.CreateStmt):
            self._create(node)
        elif isinstance(node, ast.AlterTableStmt) and node.objtype == ObjectType.OBJECT_TABLE:
            table = table_name(node.relation)
            for cmd in given(node.cmds):
                self._alter(table, cmd)
        elif isinstance(node, ast.IndexStmt) and node.idxname:
            schema = given(node.relation).schemaname or DEFAULT_SCHEMA
            columns = tuple(p.name for p in given(node.indexParams) if p.name)
            self.indexes[f"{schema}.{node.idxname}"] = columns
            self._index(table_name(node.relation), node.idxname, node.indexParams, unique=_plain_unique(node))
        elif isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_INDEX:
            relation = given(node.relation)
            self.coverage.rename(
                relation.schemaname or DEFAULT_SCHEMA, given(relation.relname), given(node.newname)
            )
        elif isinstance(node, ast.RenameStmt) and node.relation is not None:
            self._rename(node)
        elif isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
            for names in given(node.objects):
                self._forget(qualified(names))
        elif isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_INDEX:
            for names in given(node.objects):
                schema, _, name = qualified(names).partition(".")
                self.coverage.drop(schema, name)

    def _create(self, node: ast.CreateStmt) -> None:
        table = table_name(node.relation)
        self._forget(table)
        columns = self.tables.setdefault(table, {})
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                columns[given(element.colname)] = _column(element)
                self._column_constraints(table, element)
            elif isinstance(element, ast.Constraint):
                self._constraint(table, element)

    def _alter(self, table: str, cmd: ast.AlterTableCmd) -> None:
        columns = self.tables.setdefault(table, {})
        kind, definition = cmd.subtype, cmd.def_
        if kind == At.AT_AddColumn:
            assert isinstance(definition, ast.ColumnDef)  # ADD COLUMN carries the column's definition
            columns[given(definition.colname)] = _column(definition)
            self._column_constraints(table, definition)
        elif kind == At.AT_DropColumn:
            columns.pop(given(cmd.name), None)
            self.coverage.drop_column(table, given(cmd.name))
        elif kind == At.AT_AlterColumnType:
            assert isinstance(definition, ast.ColumnDef)  # ALTER COLUMN ... TYPE: a definition of the type
            old = columns.get(given(cmd.name), Column(TypeKey("?")))
            columns[given(cmd.name)] = replace(
                old, type=type_key(definition.typeName), collation=collation(definition)
            )
        elif kind in (At.AT_SetNotNull, At.AT_DropNotNull):
            old = columns.get(given(cmd.name), Column(TypeKey("?")))
            columns[given(cmd.name)] = replace(old, not_null=kind == At.AT_SetNotNull)
        elif kind == At.AT_AddConstraint:
            assert isinstance(definition, ast.Constraint)  # ADD CONSTRAINT carries the constraint
            self._constraint(table, definition)
        elif kind == At.AT_ValidateConstraint and (table, cmd.name) in self.checks:
            self.checks[(table, given(cmd.name))].validated = True
        elif kind == At.AT_DropConstraint:
            self.checks.pop((table, given(cmd.name)), None)
            self.coverage.drop(table.split(".")[0], given(cmd.name))

    def _constraint(self, table: str, constraint: ast.Constraint) -> None:
        columns = self.tables.setdefault(table, {})
        kind = constraint.contype
        if kind == ConstrType.CONSTR_PRIMARY:
            for key in constraint.keys or ():
                columns[key.sval] = replace(columns.get(key.sval, Column(TypeKey("?"))), not_null=True)
        if kind in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION):
            keys = [k.sval for k in constraint.keys or ()]
            if constraint.indexname:  # USING INDEX: the index becomes the constraint's, under its name
                keys += self.indexes.get(f"{table.split('.')[0]}.{constraint.indexname}", ())
                self.coverage.drop(table.split(".")[0], constraint.indexname)
            self.coverage.add(table, constraint.conname, keys, unique=kind != ConstrType.CONSTR_EXCLUSION)
        if kind not in (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_NOTNULL) or not constraint.conname:
            return
        if kind == ConstrType.CONSTR_CHECK:
            column = is_not_null_check(constraint.raw_expr)
        else:
            column = constraint.keys[0].sval if constraint.keys else None
        self.checks[(table, constraint.conname)] = Check(column, validated=not constraint.skip_validation)

    def _column_constraints(self, table: str, column: ast.ColumnDef) -> None:
        """UNIQUE or PRIMARY KEY written on the column itself: an index on it."""
        for constraint in column.constraints or ():
            if isinstance(constraint, ast.Constraint) and constraint.contype in (
                ConstrType.CONSTR_PRIMARY,
                ConstrType.CONSTR_UNIQUE,
            ):
                self.coverage.add(table, constraint.conname, [column.colname], unique=True)

    def _index(self, table: str, name: str, params, *, unique: bool = False) -> None:
        covered = {p.name for p in params if p.name}
        covered |= {
            given(n.fields)[-1].sval for n in walk(params) if isinstance(n, ast.ColumnRef) and _named(n)
        }
        self.coverage.add(table, name, covered, unique=unique)

    def unique_keys(self, table: str) -> list[frozenset[str]]:
        """The column sets known to be unique in `table`; a partial view cannot know them all."""
        keys = self.coverage.unique_keys(table)
        if not keys and self.partial:
            raise NeedHistory
        return keys

    def _rename(self, node: ast.RenameStmt) -> None:
        table, new = table_name(node.relation), given(node.newname)
        if node.renameType == ObjectType.OBJECT_COLUMN and node.subname in self.tables.get(table, {}):
            self.tables[table][new] = self.tables[table].pop(node.subname)
            self.coverage.rename_column(table, node.subname, new)
        elif node.renameType == ObjectType.OBJECT_TABLE and table in self.tables:
            self.tables[f"{table.split('.')[0]}.{new}"] = self.tables.pop(table)
            self.coverage.rename_table(table, f"{table.split('.')[0]}.{new}")
        elif node.renameType == ObjectType.OBJECT_TABCONSTRAINT:
            self.coverage.rename(table.split(".")[0], given(node.subname), new)

    def _forget(self, table: str) -> None:
        self.tables.pop(table, None)
        self.coverage.drop_table(table)
        for key in [k for k in self.checks if k[0] == table]:
            del self.checks[key]


def _column(definition: ast.ColumnDef) -> Column:
    not_null = definition.is_not_null or any(
        c.contype in (ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY)
        for c in definition.constraints or ()
        if isinstance(c, ast.Constraint)
    )
    return Column(type_key(definition.typeName), not_null, collation(definition))


def collation(definition: ast.ColumnDef) -> str | None:
    """The collation a column definition names (COLLATE "C"), or None for its type's default."""
    clause = definition.collClause
    names = [n.sval for n in given(clause.collname)] if clause is not None else []
    if names[:1] == ["pg_catalog"]:
        names = names[1:]
    return ".".join(names) if names and names != ["default"] else None


def _plain_unique(node: ast.IndexStmt) -> bool:
    """A unique index over plain columns only, with no WHERE: equal values in them pin one row."""
    return bool(node.unique) and node.whereClause is None and all(p.name for p in given(node.indexParams))


def _named(ref: ast.ColumnRef) -> bool:
    return isinstance(ref.fields[-1], ast.String) if ref.fields else False
