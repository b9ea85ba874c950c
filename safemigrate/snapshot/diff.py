"""Compare two catalogue snapshots (safemigrate/snapshot/catalogue.py): one Difference per object, with
both sides and the SQL that brings the live database back to what its revisions build.

The SQL is production-minded: indexes are built and dropped CONCURRENTLY (run each statement on
its own, outside a transaction, as psql -f does), a NOT VALID constraint is validated, not re-added.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql

_quote = postgresql.dialect().identifier_preparer.quote
ORDER = ("enum", "sequence", "table", "column", "constraint", "index", "view", "function", "trigger")


@dataclass(frozen=True)
class Difference:
    kind: str
    name: str
    live: str
    expected: str
    sql: tuple[str, ...]

    @property
    def line(self) -> str:
        return f"{self.kind} {self.name}: live {self.live}; expected {self.expected}"


def q(name: str) -> str:
    """Quote a possibly schema-qualified name."""
    return ".".join(_quote(part) for part in name.split("."))


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def compare(live: dict, expected: dict) -> list[Difference]:
    differences: list[Difference] = []
    gone_tables = set(live["table"]) - set(expected["table"])
    new_tables = set(expected["table"]) - set(live["table"])
    for kind in ORDER:
        describe = _DESCRIBE[kind]
        for name in sorted(set(live[kind]) | set(expected[kind])):
            have, want = live[kind].get(name), expected[kind].get(name)
            if kind != "table" and (have or want or {}).get("table") in gone_tables | new_tables:
                continue  # the table's own line covers its columns, indexes, constraints, triggers
            if have == want:
                continue
            sql = _FIX[kind](name, have, want, live, expected)
            differences.append(Difference(kind, name, describe(have), describe(want), tuple(sql)))
    # Drops first, dependants before what they depend on (a trigger before its function); then
    # creations and changes, dependencies first.
    drops = [d for d in differences if d.expected == "absent"]
    rest = [d for d in differences if d.expected != "absent"]
    return sorted(drops, key=lambda d: -ORDER.index(d.kind)) + rest


# -- how each side is shown ----------------------------------------------------------------------
def _absent(describe):
    return lambda value: "absent" if value is None else describe(value)


_DESCRIBE = {
    "table": _absent(lambda t: "present"),
    "column": _absent(
        lambda c: f"{c['type']} {'NULL' if c['nullable'] else 'NOT NULL'} DEFAULT {c['default'] or 'none'}"
    ),
    "index": _absent(lambda i: f"{i['definition']}{'' if i['valid'] else ' (INVALID)'}"),
    "constraint": _absent(lambda k: k["definition"]),
    "enum": _absent(lambda e: "(" + ", ".join(e["labels"]) + ")"),
    "sequence": _absent(
        lambda s: (
            f"{s['type']} start {s['start']} increment {s['increment']} "
            f"min {s['minvalue']} max {s['maxvalue']}{' cycle' if s['cycle'] else ''}"
        )
    ),
    "view": _absent(lambda v: " ".join(v["definition"].split())),
    "trigger": _absent(lambda t: t["definition"]),
    "function": _absent(lambda f: _digest(f["definition"])),
}


def _digest(definition: str) -> str:
    body = " ".join(definition.split())
    return (
        body
        if len(body) <= 100
        else f"{body[:60]}... (sha256 {hashlib.sha256(body.encode()).hexdigest()[:8]})"
    )


# -- the SQL that repairs each kind ----------------------------------------------------------------
def _column_sql(c: dict) -> str:
    default = f" DEFAULT {c['default']}" if c["default"] else ""
    return f"{_quote(c['column'])} {c['type']}{default}{'' if c['nullable'] else ' NOT NULL'}"


def _fix_table(name, have, want, live, expected):
    if want is None:
        return [f"DROP TABLE {q(name)};"]
    columns = [c for c in expected["column"].values() if c["table"] == name]
    return [f"CREATE TABLE {q(name)} ({', '.join(_column_sql(c) for c in columns)});"]


def _fix_column(name, have, want, live, expected):
    table = q((have or want)["table"])
    if want is None:
        return [f"ALTER TABLE {table} DROP COLUMN {_quote(have['column'])};"]
    if have is None:
        return [f"ALTER TABLE {table} ADD COLUMN {_column_sql(want)};"]
    column, sql = _quote(want["column"]), []
    if have["type"] != want["type"]:
        sql.append(
            f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {want['type']} USING {column}::{want['type']};"
        )
    if have["default"] != want["default"]:
        change = f"SET DEFAULT {want['default']}" if want["default"] else "DROP DEFAULT"
        sql.append(f"ALTER TABLE {table} ALTER COLUMN {column} {change};")
    if have["nullable"] != want["nullable"]:
        change = "DROP NOT NULL" if want["nullable"] else "SET NOT NULL"
        sql.append(f"ALTER TABLE {table} ALTER COLUMN {column} {change};")
    return sql


def _concurrently(definition: str) -> str:
    return definition.replace(" INDEX ", " INDEX CONCURRENTLY ", 1) + ";"


def _fix_index(name, have, want, live, expected):
    sql = []
    if have is not None:
        sql.append(f"DROP INDEX CONCURRENTLY IF EXISTS {q(name)};")
    if want is not None:
        sql.append(_concurrently(want["definition"]))
    return sql


def _fix_constraint(name, have, want, live, expected):
    table = q((have or want)["table"])
    constraint = _quote((have or want)["constraint"])
    drop = f"ALTER TABLE {table} DROP CONSTRAINT {constraint};"
    if want is None:
        return [drop]
    add = f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {want['definition']};"
    if have is None:
        return [add]
    if _strip_not_valid(have["definition"]) == _strip_not_valid(want["definition"]):
        if want["valid"] and not have["valid"]:
            return [f"ALTER TABLE {table} VALIDATE CONSTRAINT {constraint};"]
        return ["-- the live constraint is validated, the revisions leave it NOT VALID: nothing to undo"]
    return [drop, add]


def _strip_not_valid(definition: str) -> str:
    return definition.removesuffix(" NOT VALID")


def _fix_enum(name, have, want, live, expected):
    if want is None:
        return [f"DROP TYPE {q(name)};"]
    labels = ", ".join(literal(label) for label in want["labels"])
    if have is None:
        return [f"CREATE TYPE {q(name)} AS ENUM ({labels});"]
    have_labels, want_labels = have["labels"], want["labels"]
    if [label for label in want_labels if label in have_labels] == have_labels:
        sql = []  # only additions: ADD VALUE keeps the order
        for position, label in enumerate(want_labels):
            if label not in have_labels:
                where = (
                    f" AFTER {literal(want_labels[position - 1])}"
                    if position
                    else (f" BEFORE {literal(have_labels[0])}" if have_labels else "")
                )
                sql.append(f"ALTER TYPE {q(name)} ADD VALUE IF NOT EXISTS {literal(label)}{where};")
        return sql
    # PostgreSQL cannot drop or reorder enum values: rebuild the type and convert its columns
    # in one transaction (it fails, changing nothing, while a row holds a value the revisions lack).
    old = q(name + "_drift_old")
    users = [c for c in live["column"].values() if c["type"] in (name, q(name))]
    sql = ["BEGIN;", f"ALTER TYPE {q(name)} RENAME TO {_quote(name.split('.')[-1] + '_drift_old')};"]
    sql.append(f"CREATE TYPE {q(name)} AS ENUM ({labels});")
    for c in users:
        table, column = q(c["table"]), _quote(c["column"])
        if c["default"]:
            sql.append(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT;")
        sql.append(
            f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {q(name)} USING {column}::text::{q(name)};"
        )
        if c["default"]:
            default = c["default"].replace(f"::{name}_drift_old", f"::{name}")
            sql.append(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default};")
    sql += [f"DROP TYPE {old};", "COMMIT;"]
    return sql


def _fix_sequence(name, have, want, live, expected):
    if want is None:
        return [f"DROP SEQUENCE {q(name)};"]
    options = (
        f"AS {want['type']} INCREMENT BY {want['increment']} MINVALUE {want['minvalue']} "
        f"MAXVALUE {want['maxvalue']} START WITH {want['start']} {'' if want['cycle'] else 'NO '}CYCLE"
    )
    verb = "CREATE" if have is None else "ALTER"
    return [f"{verb} SEQUENCE {q(name)} {options};"]


def _fix_view(name, have, want, live, expected):
    materialized = (have or want)["materialized"]
    kind = "MATERIALIZED VIEW" if materialized else "VIEW"
    drop = f"DROP {kind} {q(name)};"
    if want is None:
        return [drop]
    create = f"CREATE {kind} {q(name)} AS {want['definition'].strip().rstrip(';')};"
    if have is None:
        return [create]
    if materialized:
        return [drop, create]
    return [create.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1)]


def _fix_trigger(name, have, want, live, expected):
    sql = []
    if have is not None:
        sql.append(f"DROP TRIGGER {_quote(have['trigger'])} ON {q(have['table'])};")
    if want is not None:
        sql.append(want["definition"] + ";")
    return sql


def _fix_function(name, have, want, live, expected):
    if want is None:
        kind = "PROCEDURE" if have["procedure"] else "FUNCTION"
        base, _, args = name.partition("(")
        return [f"DROP {kind} {q(base)}({args};"]
    return [want["definition"].strip() + ";"]


_FIX = {
    "table": _fix_table,
    "column": _fix_column,
    "index": _fix_index,
    "constraint": _fix_constraint,
    "enum": _fix_enum,
    "sequence": _fix_sequence,
    "view": _fix_view,
    "trigger": _fix_trigger,
    "function": _fix_function,
}
