"""PostgreSQL's own parser (pglast) on the SQL Alembic renders: statements, names, types, expressions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

from pglast import ast, parse_sql
from pglast.enums import TransactionStmtKind
from pglast.parser import ParseError

DEFAULT_SCHEMA = "public"
_BEGIN = {TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START}
_END = {
    TransactionStmtKind.TRANS_STMT_COMMIT,
    TransactionStmtKind.TRANS_STMT_ROLLBACK,
    TransactionStmtKind.TRANS_STMT_PREPARE,
    TransactionStmtKind.TRANS_STMT_COMMIT_PREPARED,
}
# Alembic's offline output ends each statement with ';' and a blank line.
_ALEMBIC_SEPARATOR = re.compile(r";[ \t]*\n\s*\n")


@dataclass
class Statement:
    sql: str
    node: ast.Node | None  # None: PostgreSQL cannot parse it (see `error`)
    in_transaction: bool
    error: str | None = None
    block: int = 0  # which transaction block (counted from 0, the revision's own) it runs in
    comments: tuple[str, ...] = ()  # the `--` lines written just before it, since the last statement


def statements(sql: str, *, in_transaction: bool = True) -> list[Statement]:
    """The statements of one revision's rendered SQL, each knowing whether it runs inside a
    transaction block. Transaction control itself and Alembic's alembic_version bookkeeping
    are left out. The SQL starts inside the revision's transaction (Alembic's BEGIN)."""
    result, block = [], 0
    for text, node, error, comments in _parse(sql):
        if isinstance(node, ast.TransactionStmt):
            if node.kind in _BEGIN:
                in_transaction, block = True, block + 1
            elif node.kind in _END:
                in_transaction = False
            continue
        if node is not None and _is_version_table(node):
            continue
        result.append(Statement(text, node, in_transaction, error, block, comments))
    return result


def _parse(sql: str):
    """(statement text, node, parse error, its comment lines) for each statement of `sql`."""
    try:
        yield from _parsed(sql)
        return
    except ParseError:
        pass
    for chunk in _ALEMBIC_SEPARATOR.split(sql):  # find the statement PostgreSQL refuses
        if not _code(chunk):
            continue
        try:
            yield from _parsed(chunk)
        except ParseError as exc:
            yield _code(chunk).rstrip(";") + ";", None, str(exc), _comments(chunk)


def _parsed(sql: str):
    encoded, previous_end = sql.encode(), 0  # pglast's locations are byte offsets
    for raw in parse_sql(sql):
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else len(encoded)
        yield _text(sql, raw), raw.stmt, None, _comments(encoded[previous_end:start].decode())
        previous_end = end


def _comments(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.lstrip().startswith("--"))


def _code(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--")).strip()


def _text(sql: str, raw: ast.RawStmt) -> str:
    encoded = sql.encode()  # pglast's locations are byte offsets
    start = raw.stmt_location or 0
    end = start + raw.stmt_len if raw.stmt_len else len(encoded)
    return _code(encoded[start:end].decode()).rstrip(";").strip() + ";"


def _is_version_table(node: ast.Node) -> bool:
    relation = getattr(node, "relation", None)
    return isinstance(relation, ast.RangeVar) and relation.relname == "alembic_version"


_T = TypeVar("_T")


def given(value: _T | None) -> _T:
    """A node field pglast types as optional (its stubs type every field so) that PostgreSQL's grammar
    always fills for the statement at hand, e.g. the column ALTER TABLE ... DROP COLUMN names."""
    assert value is not None, "PostgreSQL's parser fills this field for this statement"
    return value


# -- names -------------------------------------------------------------------------------------
def table_name(relation: ast.RangeVar | None) -> str:
    """schema.table, with the schema PostgreSQL would use (public, on the default search_path)."""
    relation = given(relation)  # every statement this is called on names its table
    return f"{relation.schemaname or DEFAULT_SCHEMA}.{relation.relname}"


def qualified(names) -> str:
    """schema.name from a name list (String nodes or strings), as in DROP TABLE or a type's name."""
    parts = [n if isinstance(n, str) else n.sval for n in names]
    return ".".join(parts) if len(parts) > 1 else f"{DEFAULT_SCHEMA}.{parts[0]}"


def display(name: str) -> str:
    return name.removeprefix(DEFAULT_SCHEMA + ".")


def option_names(options) -> set[str]:
    return {o.defname for o in options or () if isinstance(o, ast.DefElem) and o.defname is not None}


# -- types -------------------------------------------------------------------------------------
_ALIASES = {"integer": "int4", "int": "int4", "bigint": "int8", "smallint": "int2", "decimal": "numeric"}
SERIAL_TYPES = {"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"}


@dataclass(frozen=True)
class TypeKey:
    name: str
    mods: tuple[int, ...] = ()
    array: bool = False

    def __str__(self) -> str:
        mods = f"({', '.join(map(str, self.mods))})" if self.mods else ""
        return f"{_SPELLED.get(self.name, self.name)}{mods}{'[]' if self.array else ''}"


_SPELLED = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "bool": "boolean",
    "float8": "double precision",
}


def type_key(type_name: ast.TypeName | None) -> TypeKey:
    type_name = given(type_name)  # every column definition and ALTER ... TYPE names its type
    names = [n.sval for n in given(type_name.names)]
    if names[0] == "pg_catalog":
        names = names[1:]
    name = _ALIASES.get(".".join(names), ".".join(names))
    mods = tuple(
        given(m.val.ival)
        for m in type_name.typmods or ()
        if isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer)
    )
    return TypeKey(name, mods, bool(type_name.arrayBounds))


_WIDENABLE = {"varchar", "varbit", "timestamp", "timestamptz", "time", "timetz", "interval"}
_TO_TEXT = {"varchar", "text"}


def rewrites(old: TypeKey, new: TypeKey) -> bool:
    """Whether ALTER COLUMN ... TYPE new (no USING) rewrites a column of type old (PostgreSQL 18:
    binary-coercible changes and widened length/precision limits only touch the catalogue)."""
    if old.array != new.array:
        return True
    if old == new:
        return False
    if old.name == new.name:
        if not new.mods:  # the limit removed
            return False
        if not old.mods:  # a limit added to an unlimited column: every row is checked and rewritten
            return True
        if old.name in _WIDENABLE:
            return new.mods[0] < old.mods[0]
        if old.name == "numeric":  # more digits, same scale
            old_scale = old.mods[1] if len(old.mods) > 1 else 0
            new_scale = new.mods[1] if len(new.mods) > 1 else 0
            return not (new.mods[0] >= old.mods[0] and new_scale == old_scale)
        return True
    if old.name in _TO_TEXT and new.name in _TO_TEXT and not new.mods:
        return False  # varchar -> text, text -> varchar without a limit: binary coercible
    if rebuilds_indexes(old, new):
        return False
    return not (old.name == "cidr" and new.name == "inet")


# The citext extension's casts from and to text and varchar are WITHOUT FUNCTION (binary coercible):
# the table stays, but each index on the column is rebuilt (text_ops <-> citext_ops).
_CITEXT_PEERS = {"text", "varchar"}


def rebuilds_indexes(old: TypeKey, new: TypeKey) -> bool:
    """Whether ALTER COLUMN ... TYPE new (no USING) keeps the rows but rebuilds the column's indexes."""
    if old.array != new.array or new.mods:
        return False
    names = {old.name, new.name}
    return "citext" in names and len(names) == 2 and bool(names & _CITEXT_PEERS)


# -- expressions -------------------------------------------------------------------------------
VOLATILE_FUNCTIONS = {
    "random",
    "random_normal",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "setval",
    "txid_current",
    "pg_current_xact_id",
    "gen_random_bytes",
    "gen_salt",
}


def volatile_call(node) -> str | None:
    """The first volatile function called in an expression (its value differs row by row)."""
    for found in walk(node):
        if isinstance(found, ast.FuncCall) and given(found.funcname)[-1].sval in VOLATILE_FUNCTIONS:
            return given(found.funcname)[-1].sval
    return None


def walk(node):
    if isinstance(node, tuple | list):
        for item in node:
            yield from walk(item)
    elif isinstance(node, ast.Node):
        yield node
        for attribute in node:
            yield from walk(getattr(node, attribute))


def is_not_null_check(expr) -> str | None:
    """The column of a `CHECK (col IS NOT NULL)` expression."""
    if (
        isinstance(expr, ast.NullTest)
        and expr.nulltesttype == 1  # IS_NOT_NULL
        and isinstance(expr.arg, ast.ColumnRef)
        and isinstance(given(expr.arg.fields)[-1], ast.String)
    ):
        return given(expr.arg.fields)[-1].sval
    return None


def conjuncts(expr) -> list:
    if isinstance(expr, ast.BoolExpr) and expr.boolop == 0:  # AND
        return [part for arg in given(expr.args) for part in conjuncts(arg)]
    return [expr]


def bounded(where, unique_keys: list[frozenset[str]]) -> bool:
    """Whether a WHERE clause pins rows by key rather than sweeping the table: equalities (col =
    constant, col IN (constants), col = ANY (ARRAY[...])) on every column of one of `unique_keys`, a
    range with both ends on a one-column key, or col IN (SELECT ... LIMIT n), a batch. An equality on
    any other column (`status = 'pending'`) can match every row."""
    pinned: set[str] = set()
    lower: set[str] = set()
    upper: set[str] = set()
    for part in conjuncts(where):
        if isinstance(part, ast.A_Expr) and isinstance(part.lexpr, ast.ColumnRef) and _named(part.lexpr):
            column = given(part.lexpr.fields)[-1].sval
            op = part.name[-1].sval if part.name else ""
            if op == "=" and _constant(part.rexpr):
                pinned.add(column)
            elif op == "=" and isinstance(part.rexpr, ast.A_ArrayExpr):  # = ANY (ARRAY[1, 2])
                if all(_constant(v) for v in part.rexpr.elements or ()):
                    pinned.add(column)
            elif isinstance(part.rexpr, tuple) and all(_constant(v) for v in part.rexpr):
                if op in ("=", "BETWEEN"):  # IN (1, 2, 3) / BETWEEN 1 AND 100
                    (pinned if op == "=" else lower).add(column)
                    if op == "BETWEEN":
                        upper.add(column)
            elif op in (">", ">=") and _constant(part.rexpr):
                lower.add(column)
            elif op in ("<", "<=") and _constant(part.rexpr):
                upper.add(column)
        if isinstance(part, ast.SubLink) and getattr(part.subselect, "limitCount", None) is not None:
            return True  # IN (SELECT ... LIMIT n): one batch
    ranged = lower & upper
    return any(key <= pinned or (len(key) == 1 and key <= ranged) for key in unique_keys)


def _named(ref: ast.ColumnRef) -> bool:
    return isinstance(ref.fields[-1], ast.String) if ref.fields else False


def _constant(node) -> bool:
    return isinstance(node, ast.A_Const | ast.ParamRef) or (
        isinstance(node, ast.TypeCast) and _constant(node.arg)
    )
