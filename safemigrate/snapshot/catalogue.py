"""`flask db drift`'s schema snapshot: a database's schema as records per object, from PostgreSQL's
own catalogue, compared by diff.py. Squash dumps DDL instead (dump.py); the package docstring says
why both exist.

Why the catalogue and not Alembic's comparators between two reflected databases: reflection
does not see INVALID indexes, NOT VALID constraints, triggers or functions. The server's own
deparsers (pg_get_indexdef, pg_get_constraintdef, pg_get_viewdef, pg_get_triggerdef,
pg_get_functiondef, format_type, pg_get_expr) are exact, and both databases are read by the same
server, so their text compares as is.

Snapshot: {kind: {object name: {attribute: value}}}. Alembic's and the ledger's tables are left out.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

IGNORED_TABLES = ("alembic_version", "migration_ledger")

_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
    "AND n.nspname NOT LIKE 'pg\\_temp%'"
)
_NAME = "CASE WHEN n.nspname = 'public' THEN '' ELSE n.nspname || '.' END"
_NOT_IGNORED = "c.relname NOT IN ('alembic_version', 'migration_ledger')"
_NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"

QUERIES = {
    "table": f"""
        SELECT {_NAME} || c.relname AS name, c.relkind::text AS relkind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND {_SCHEMAS} AND {_NOT_IGNORED}
          AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "column": f"""
        SELECT {_NAME} || c.relname || '.' || a.attname AS name, {_NAME} || c.relname AS "table",
               a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
               NOT a.attnotnull AS nullable, pg_get_expr(ad.adbin, ad.adrelid) AS "default"
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
        WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {_SCHEMAS}
          AND {_NOT_IGNORED} AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "index": f"""
        SELECT {_NAME} || ic.relname AS name, {_NAME} || c.relname AS "table",
               pg_get_indexdef(i.indexrelid) AS definition, i.indisvalid AS valid
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {_SCHEMAS} AND {_NOT_IGNORED} AND {_NOT_EXTENSION.format(oid="c.oid")}
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                          AND k.contype IN ('p', 'u', 'x'))""",
    "constraint": f"""
        SELECT {_NAME} || c.relname || '.' || k.conname AS name, {_NAME} || c.relname AS "table",
               k.conname AS constraint, pg_get_constraintdef(k.oid) AS definition,
               k.convalidated AS valid
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE k.contype <> 'n' AND {_SCHEMAS} AND {_NOT_IGNORED}
          AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "enum": f"""
        SELECT {_NAME} || t.typname AS name,
               array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        JOIN pg_enum e ON e.enumtypid = t.oid
        WHERE {_SCHEMAS} AND {_NOT_EXTENSION.format(oid="t.oid")}
        GROUP BY 1""",
    "sequence": f"""
        SELECT {_NAME} || c.relname AS name, format_type(s.seqtypid, NULL) AS type,
               s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS minvalue,
               s.seqmax AS maxvalue, s.seqcycle AS cycle
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {_SCHEMAS} AND c.relname <> 'migration_ledger_id_seq'
          AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "view": f"""
        SELECT {_NAME} || c.relname AS name, c.relkind = 'm' AS materialized,
               pg_get_viewdef(c.oid) AS definition
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('v', 'm') AND {_SCHEMAS} AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "trigger": f"""
        SELECT {_NAME} || c.relname || '.' || t.tgname AS name, {_NAME} || c.relname AS "table",
               t.tgname AS trigger, pg_get_triggerdef(t.oid) AS definition
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND {_SCHEMAS} AND {_NOT_IGNORED}""",
    "function": f"""
        SELECT {_NAME} || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name,
               p.prokind = 'p' AS procedure, pg_get_functiondef(p.oid) AS definition
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prokind IN ('f', 'p') AND {_SCHEMAS} AND {_NOT_EXTENSION.format(oid="p.oid")}""",
}


def snapshot(connection: Connection) -> dict[str, dict[str, dict]]:
    """Every object of every kind, keyed by (schema-qualified unless public) name."""
    found: dict[str, dict[str, dict]] = {}
    for kind, query in QUERIES.items():
        rows = connection.execute(sa.text(query)).mappings()
        found[kind] = {row["name"]: {k: v for k, v in row.items() if k != "name"} for row in rows}
    return found
