"""What a revision means for the release before it: can the previous code run on the schema after it?

During a release the previous code keeps serving while the release phase migrates, and a rollback
(Heroku runs the release phase on a rollback too) runs it again against the migrated schema. A
revision keeps the previous release working when everything that code reads and writes still works:
no table, column or view it uses is dropped or renamed, nothing it inserts starts failing (a new
NOT NULL column without a default, a dropped default, SET NOT NULL), and nothing it reads changes
shape (a narrowed or re-typed column, an enum value SQLAlchemy's Enum cannot read: LookupError).

This is the static judgement, from the revision's rendered SQL; `flask db compat` proves it by
running the previous release's mappers (safemigrate/compat/). The ledger records the verdict of each
applied revision, so older code can tell a database it may run on from one it may not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pglast import ast
from pglast.enums import AlterTableType as At
from pglast.enums import ConstrType, DropBehavior, ObjectType

from safemigrate.review.sql import (
    TypeKey,
    display,
    given,
    is_not_null_check,
    statements,
    table_name,
    type_key,
)

# The type a column has before the revision, when known: (table, column) -> type.
ColumnTypes = Callable[[str, str], TypeKey | None]

_DROPS_USED = {
    ObjectType.OBJECT_TABLE: "table",
    ObjectType.OBJECT_VIEW: "view",
    ObjectType.OBJECT_MATVIEW: "materialized view",
    ObjectType.OBJECT_FUNCTION: "function",
    ObjectType.OBJECT_SEQUENCE: "sequence",
}
_CASCADES = {
    ObjectType.OBJECT_TYPE: "a type",
    ObjectType.OBJECT_SCHEMA: "a schema",
    ObjectType.OBJECT_DOMAIN: "a domain",
    ObjectType.OBJECT_EXTENSION: "an extension",
}
_RENAMES = {
    ObjectType.OBJECT_TABLE: "table",
    ObjectType.OBJECT_COLUMN: "column",
    ObjectType.OBJECT_VIEW: "view",
    ObjectType.OBJECT_MATVIEW: "materialized view",
}
# Integer widenings: the previous code reads the same Python int and its values still fit.
_INTEGERS = ("int2", "int4", "int8")
_LIMITED = {"varchar", "bpchar", "varbit", "timestamp", "timestamptz", "time", "timetz", "interval"}


@dataclass(frozen=True)
class Verdict:
    keeps_previous: (
        bool | None
    )  # None: cannot tell (SQL that does not parse, a revision that does not render)
    reason: str | None = None  # why it breaks the previous release (the first reason), or why unknown

    @property
    def label(self) -> str:
        return {True: "keeps", False: "breaks", None: "unknown"}[self.keeps_previous]


KEEPS = Verdict(True)


def judge(sql: str, column_types: ColumnTypes | None = None) -> Verdict:
    """The verdict on one revision's upgrade SQL. `column_types` gives a column's type before the
    revision (for type changes; unknown types count as breaking)."""
    judge_ = _Judge(column_types or (lambda table, column: None))
    for statement in statements(sql):
        if statement.node is None:
            return Verdict(None, f"a statement does not parse: {statement.error}")
        reason = judge_.statement(statement.node)
        if reason:
            return Verdict(False, reason)
    return KEEPS


def unknown(why: str) -> Verdict:
    return Verdict(None, why)


DECLARED = "previous_release"


def declared(module: object) -> Verdict | None:
    """The verdict a revision file states for itself, overruling the SQL's: a module-level
    `previous_release = "breaks: <why>"` (what `flask db compat` found and the SQL cannot show: a CHECK
    the old writes violate, a trigger that refuses them) or `"keeps: <why>"` (a person checked it)."""
    value = getattr(module, DECLARED, None)
    if value is None:
        return None
    kind, _, why = str(value).partition(":")
    why = why.strip()
    if kind.strip() not in ("keeps", "breaks") or not why:
        return Verdict(None, f'{DECLARED} must read "keeps: <why>" or "breaks: <why>", not {value!r}')
    keeps = kind.strip() == "keeps"
    return Verdict(keeps, None if keeps else f"is declared breaking in its file: {why}")


class _Judge:
    def __init__(self, column_types: ColumnTypes):
        self.column_types = column_types
        self.created: set[str] = set()  # tables this revision creates: the previous code never saw them
        self.created_types: set[str] = set()  # enum types likewise
        self.types: dict[tuple[str, str], TypeKey] = {}  # columns (re)typed earlier in this revision

    def statement(self, node: ast.Node) -> str | None:
        if isinstance(node, ast.CreateStmt):
            self.created.add(table_name(node.relation))
        elif isinstance(node, ast.DropStmt):
            return self._drop(node)
        elif isinstance(node, ast.RenameStmt):
            return self._rename(node)
        elif isinstance(node, ast.AlterObjectSchemaStmt) and node.relation is not None:
            table = table_name(node.relation)
            if table not in self.created:
                return (
                    f"moves {display(table)} to schema {node.newschema}: the previous release still uses "
                    "the old name"
                )
        elif isinstance(node, ast.AlterTableStmt) and node.objtype == ObjectType.OBJECT_TABLE:
            table = table_name(node.relation)
            if table not in self.created:
                for cmd in given(node.cmds):
                    reason = self._alter(table, cmd)
                    if reason:
                        return reason
        elif isinstance(node, ast.CreateEnumStmt):
            self.created_types.add(".".join(n.sval for n in given(node.typeName)))
        elif isinstance(node, ast.AlterEnumStmt) and node.newVal:
            name = ".".join(n.sval for n in given(node.typeName))
            if name in self.created_types:
                return None  # a type of this revision: the previous code never read it
            if node.oldVal:
                return (
                    f"renames value {node.oldVal!r} of enum {name} to {node.newVal!r}: the previous release "
                    "reads and writes the old label"
                )
            return (
                f"adds value {node.newVal!r} to enum {name}: the previous release cannot read a row that "
                "holds it (SQLAlchemy raises LookupError)"
            )
        return None

    def _drop(self, node: ast.DropStmt) -> str | None:
        kind = _DROPS_USED.get(given(node.removeType))
        if node.removeType in _CASCADES and node.behavior == DropBehavior.DROP_CASCADE:
            # CASCADE takes with it the columns, tables and views that depend on the object.
            return (
                f"drops {_CASCADES[node.removeType]} with CASCADE, which also drops the columns and tables "
                "that use it (the previous release may)"
            )
        if kind is None:
            return None  # indexes, types, triggers, constraints: nothing the previous code names
        for obj in node.objects or ():
            if isinstance(obj, ast.ObjectWithArgs):  # functions
                obj = obj.objname
            names = [n.sval for n in obj] if isinstance(obj, tuple | list) else None
            name = ".".join(names) if names else "?"
            if kind == "table" and (name in self.created or f"public.{name}" in self.created):
                continue
            return f"drops {kind} {name}, which the previous release may still use"
        return None

    def _rename(self, node: ast.RenameStmt) -> str | None:
        kind = _RENAMES.get(given(node.renameType))
        if kind is None:
            return None
        if node.relation is not None and table_name(node.relation) in self.created:
            return None
        if kind == "column":
            where = f"{display(table_name(node.relation))}.{node.subname}"
        else:
            where = display(table_name(node.relation)) if node.relation is not None else "?"
        return f"renames {kind} {where} to {node.newname}: the previous release still uses the old name"

    def _alter(self, table: str, cmd: ast.AlterTableCmd) -> str | None:
        name = display(table)
        kind = cmd.subtype
        if kind == At.AT_DropColumn:
            return f"drops column {name}.{cmd.name}, which the previous release still reads and writes"
        if kind == At.AT_SetNotNull:
            return f"makes {name}.{cmd.name} NOT NULL: the previous release may insert rows without it"
        if kind == At.AT_ColumnDefault and cmd.def_ is None:
            return f"drops the default of {name}.{cmd.name}: the previous release's inserts may rely on it"
        if kind == At.AT_AddColumn:
            assert isinstance(cmd.def_, ast.ColumnDef)  # ADD COLUMN carries the column's definition
            return self._add_column(name, cmd.def_)
        if kind == At.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            column = (
                is_not_null_check(cmd.def_.raw_expr) if cmd.def_.contype == ConstrType.CONSTR_CHECK else None
            )
            if column:
                return (
                    f"adds CHECK ({column} IS NOT NULL) on {name}: the previous release may insert rows "
                    "without it"
                )
        if kind == At.AT_AlterColumnType:
            return self._retype(table, cmd)
        if kind == At.AT_DropIdentity:
            return f"drops the identity of {name}.{cmd.name}: the previous release's inserts rely on it"
        if (
            kind == At.AT_AddConstraint
            and isinstance(cmd.def_, ast.Constraint)
            and cmd.def_.contype == ConstrType.CONSTR_PRIMARY
        ):
            return (
                f"adds a primary key on {name}, which makes its columns NOT NULL: the previous release "
                "may insert rows without them"
            )
        if kind == At.AT_AddIdentity and getattr(cmd.def_, "generated_when", "") == "a":
            return (
                f"makes {name}.{cmd.name} GENERATED ALWAYS: the previous release's inserts that set it are "
                "refused"
            )
        return None

    def _add_column(self, name: str, column: ast.ColumnDef) -> str | None:
        # A DEFAULT NULL fills nothing.
        constraints = {
            c.contype
            for c in column.constraints or ()
            if not (c.contype == ConstrType.CONSTR_DEFAULT and getattr(c.raw_expr, "isnull", False))
        }
        required = ConstrType.CONSTR_NOTNULL in constraints or ConstrType.CONSTR_PRIMARY in constraints
        filled = constraints & {
            ConstrType.CONSTR_DEFAULT,
            ConstrType.CONSTR_IDENTITY,
            ConstrType.CONSTR_GENERATED,
        }
        if required and not filled and not _serial(column):
            return (
                f"adds {name}.{column.colname} NOT NULL without a default: the previous release's inserts "
                "do not set it"
            )
        return None

    def _retype(self, table: str, cmd: ast.AlterTableCmd) -> str | None:
        column, definition = given(cmd.name), cmd.def_
        assert isinstance(definition, ast.ColumnDef)  # ALTER COLUMN ... TYPE: a definition of the type
        new = type_key(definition.typeName)
        old = self.types.get((table, column)) or self.column_types(table, column)
        self.types[(table, column)] = new
        where = f"{display(table)}.{column}"
        if old is None:
            return f"changes the type of {where} to {new} (its previous type is unknown)"
        if old == new and definition.raw_default is not None:
            # Same type name, values rebuilt: an enum re-created with other labels, a domain swapped.
            return f"rebuilds {where} as a new {new} (USING): the previous release may rely on what it lost"
        if not keeps_reading(old, new):
            return f"changes {where} from {old} to {new}: the previous release reads or writes it as {old}"
        return None


class TypesThrough:
    """Column types as a pass of revisions changes them: `column_types` (the database before the
    pass) first, then what each revision's SQL (`after`) created, added or re-typed."""

    def __init__(self, column_types: ColumnTypes | None = None):
        self.before = column_types or (lambda table, column: None)
        self.known: dict[tuple[str, str], TypeKey] = {}

    def __call__(self, table: str, column: str) -> TypeKey | None:
        found = self.known.get((table, column))
        return found if found is not None else self.before(table, column)

    def after(self, sql: str) -> None:
        for statement in statements(sql):
            node = statement.node
            if isinstance(node, ast.CreateStmt):
                table = table_name(node.relation)
                for element in node.tableElts or ():
                    if isinstance(element, ast.ColumnDef) and element.typeName is not None:
                        self.known[(table, given(element.colname))] = type_key(element.typeName)
            elif isinstance(node, ast.AlterTableStmt):
                table = table_name(node.relation)
                for cmd in given(node.cmds):
                    if cmd.subtype == At.AT_AddColumn and cmd.def_.typeName is not None:
                        self.known[(table, cmd.def_.colname)] = type_key(cmd.def_.typeName)
                    elif cmd.subtype == At.AT_AlterColumnType:
                        self.known[(table, cmd.name)] = type_key(cmd.def_.typeName)
            elif isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_COLUMN:
                table = table_name(node.relation)
                moved = self(table, given(node.subname))
                if moved is not None:
                    self.known[(table, given(node.newname))] = moved


def keeps_reading(old: TypeKey, new: TypeKey) -> bool:
    """Whether code written for a column of type `old` still reads and writes it as `new`: the same
    Python type back, and every value it writes still fits (widenings only)."""
    if old == new:
        return True
    if old.array != new.array:
        return False
    if old.name in _INTEGERS and new.name in _INTEGERS:
        return _INTEGERS.index(new.name) >= _INTEGERS.index(old.name)
    if old.name in ("varchar", "text") and new.name == "text":
        return True
    if old.name == new.name:
        if not new.mods:  # the limit removed
            return True
        if not old.mods:
            return False  # a limit added
        if old.name in _LIMITED:
            return new.mods[0] >= old.mods[0]
        if old.name == "numeric":
            old_scale = old.mods[1] if len(old.mods) > 1 else 0
            new_scale = new.mods[1] if len(new.mods) > 1 else 0
            return new.mods[0] >= old.mods[0] and new_scale == old_scale
    return False


def _serial(column: ast.ColumnDef) -> bool:
    return type_key(column.typeName).name in (
        "serial",
        "bigserial",
        "smallserial",
        "serial4",
        "serial8",
        "serial2",
    )
