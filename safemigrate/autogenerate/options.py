"""PostgreSQL options of an existing index or constraint that Alembic does not compare.

Alembic compares an index's columns, expressions, uniqueness and NULLS NOT DISTINCT, and a foreign
key's columns, actions and deferrability; a changed access method (`postgresql_using`), operator
class (`postgresql_ops`), INCLUDE list, partial predicate or storage parameter (`postgresql_with`), a
unique constraint's DEFERRABLE / INITIALLY and a foreign key's MATCH would go unseen by `migrate`
and `check`. None of them can change in place without a rebuild, so each difference is flagged for a
person (`NeedsReview`: a comment in the revision, and `check` keeps reporting it), never skipped.
"""

from __future__ import annotations

import sqlalchemy as sa

from safemigrate.autogenerate.ops import NeedsReview

REBUILD_INDEX = (
    "build the wanted index under a new name (safe.create_index_concurrently), then drop the old one "
    "(safe.drop_index_concurrently): no window without an index"
)
REBUILD_CONSTRAINT = (
    "add the wanted constraint under a new name (safe.create_unique_constraint / "
    "safe.create_foreign_key), then drop the old one"
)
MATCH_TYPES = {"f": "FULL", "p": "PARTIAL", "s": "SIMPLE"}


def _regclass(connection, table: sa.Table) -> str:
    quote = connection.dialect.identifier_preparer.quote
    return f"{quote(table.schema)}.{quote(table.name)}" if table.schema else quote(table.name)


def index_differences(connection, table: sa.Table) -> list[NeedsReview]:
    rows = connection.execute(
        sa.text(
            "SELECT c.relname, am.amname, i.indnkeyatts, i.indpred IS NOT NULL, c.reloptions, "
            "ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n) "
            "      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "      WHERE k.n > i.indnkeyatts ORDER BY k.n)::text[], "
            "ARRAY(SELECT CASE WHEN o.opcdefault THEN '' ELSE o.opcname END "
            "      FROM unnest(i.indclass) WITH ORDINALITY k(opc, n) JOIN pg_opclass o ON o.oid = k.opc "
            "      ORDER BY k.n)::text[] "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
            "WHERE i.indrelid = to_regclass(:table) AND NOT i.indisprimary"
        ),
        {"table": _regclass(connection, table)},
    ).all()
    found = {row[0]: row for row in rows}
    flagged = []
    for index in table.indexes:
        row = found.get(index.name)
        if row is None:
            continue  # a new index: Alembic writes it
        _, method, key_count, partial, reloptions, included, opclasses = row
        wanted = index.dialect_options["postgresql"]
        differences = []
        using = wanted["using"] or "btree"
        if using != method:
            differences.append(f"access method {method} -> {using}")
        include = [c if isinstance(c, str) else c.name for c in wanted["include"] or ()]
        if include != list(included):
            differences.append(f"INCLUDE {list(included)} -> {include}")
        if (wanted["where"] is not None) != partial:
            differences.append("partial -> whole" if partial else "whole -> partial (WHERE)")
        storage = sorted(f"{k}={v}" for k, v in (wanted["with"] or {}).items())
        if storage != sorted(reloptions or ()):
            differences.append(f"WITH {sorted(reloptions or ())} -> {storage}")
        ops = wanted["ops"] or {}
        model_classes = [
            ops.get(e.name, "") if isinstance(e, sa.Column) else "" for e in index.expressions[:key_count]
        ]
        if len(model_classes) == len(opclasses) and model_classes != list(opclasses):
            shown = [c or "default" for c in opclasses], [c or "default" for c in model_classes]
            differences.append(f"operator classes {shown[0]} -> {shown[1]}")
        if differences:
            flagged.append(
                NeedsReview(
                    f"index {index.name} on {table.name} differs from the models: {'; '.join(differences)}. "
                    f"An index cannot change in place: {REBUILD_INDEX}."
                )
            )
    return flagged


def constraint_differences(connection, table: sa.Table) -> list[NeedsReview]:
    rows = connection.execute(
        sa.text(
            "SELECT conname, contype, condeferrable, condeferred, confmatchtype FROM pg_constraint "
            "WHERE conrelid = to_regclass(:table) AND contype IN ('u', 'f')"
        ),
        {"table": _regclass(connection, table)},
    ).all()
    found = {row[0]: row for row in rows}
    flagged = []
    for constraint in table.constraints:
        row = found.get(constraint.name)
        if row is None:
            continue
        _, kind, deferrable, deferred, match = row
        differences = []
        if kind == "u" and isinstance(constraint, sa.UniqueConstraint):
            # Alembic compares a foreign key's deferrability itself, a unique constraint's not.
            wanted_deferred = (constraint.initially or "").upper() == "DEFERRED"
            wanted = _timing(bool(constraint.deferrable), wanted_deferred)
            if wanted != _timing(deferrable, deferred):
                differences.append(f"{_timing(deferrable, deferred)} -> {wanted}")
        elif kind == "f" and isinstance(constraint, sa.ForeignKeyConstraint):
            wanted_match = (constraint.match or "SIMPLE").upper()
            if wanted_match != MATCH_TYPES.get(match, match):
                differences.append(f"MATCH {MATCH_TYPES.get(match, match)} -> MATCH {wanted_match}")
        if differences:
            flagged.append(
                NeedsReview(
                    f"constraint {constraint.name} on {table.name} differs from the models: "
                    f"{'; '.join(differences)}. {REBUILD_CONSTRAINT[0].upper()}{REBUILD_CONSTRAINT[1:]}."
                )
            )
    return flagged


def _timing(deferrable: bool, deferred: bool) -> str:
    if not deferrable:
        return "NOT DEFERRABLE"
    return "DEFERRABLE INITIALLY " + ("DEFERRED" if deferred else "IMMEDIATE")
