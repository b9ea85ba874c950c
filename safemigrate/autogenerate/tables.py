"""Table renames: a dropped table and a created one with the same columns may be one table renamed.

Confirmed (`--rename items:things`, or "Did you rename table items to things? [y/N]"), the drop and the
create become `op.rename_table`, and the indexes and constraints named by the models' naming convention
follow the new name, so `flask db check` is clean afterwards and every row stays.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from alembic.operations import ops as alembic_ops

from safemigrate.autogenerate import ops
from safemigrate.autogenerate.answers import Answers, AutogenerateRefused
from safemigrate.autogenerate.questioner import type_sql
from safemigrate.compat import reverse_of


def _shape(table: sa.Table) -> set[tuple[str, str, bool]]:
    return {(c.name, type_sql(c.type), bool(c.nullable)) for c in table.columns}


def resolve_table_renames(upgrade_ops: alembic_ops.UpgradeOps, answers: Answers, connection) -> None:
    created = {op.table_name: op for op in upgrade_ops.ops if isinstance(op, alembic_ops.CreateTableOp)}
    dropped = {op.table_name: op for op in upgrade_ops.ops if isinstance(op, alembic_ops.DropTableOp)}
    for old, drop in dropped.items():
        old_table = drop.to_table()
        new = answers.renames.get(old)
        if new is not None:
            answers.used.add(old)
            if new not in created:
                raise AutogenerateRefused(f"--rename {old}:{new}: the models do not add a table {new}")
            if _shape(created[new].to_table()) != _shape(old_table):
                raise AutogenerateRefused(
                    f"--rename {old}:{new}: the tables' columns differ; rename first, change them later"
                )
        elif answers.interactive:
            new = next(
                (
                    name
                    for name, create in created.items()
                    if _shape(create.to_table()) == _shape(old_table)
                    and click.confirm(f"Did you rename table {old} to {name}?", default=False)
                ),
                None,
            )
        if new is None:
            answers.notes.append(
                f"WARNING: table {old} is DROPPED by this revision, with all its rows. "
                f"If you renamed it, run again with --rename {old}:NEW."
            )
            continue
        create = created.pop(new)
        new_indexes = _take_index_ops(upgrade_ops, old, new)
        position = upgrade_ops.ops.index(create)
        upgrade_ops.ops[position : position + 1] = [
            ops.RenameTable(old, new),
            *_follow_names(old, create.to_table(), new_indexes, connection),
        ]
        upgrade_ops.ops.remove(drop)
        _follow_references(upgrade_ops, old, new)
        answers.notes.append(f"table {old} renamed to {new}: its rows are kept.")
    for key, new in answers.renames.items():
        if "." not in key and key not in answers.used:
            raise AutogenerateRefused(f"--rename {key}:{new}: the models do not drop a table {key}")


def _follow_references(upgrade_ops, old: str, new: str) -> None:
    """Foreign keys of other tables that point at the renamed table keep pointing at it (PostgreSQL
    refers by oid): the drop and re-create autogenerate wrote for them become a rename of the
    constraint to its new conventional name, with no re-validation scan."""
    for table_ops in [o for o in upgrade_ops.ops if isinstance(o, alembic_ops.ModifyTableOps)]:
        for drop in [o for o in table_ops.ops if _drops_foreign_key_to(o, old)]:
            before = reverse_of(drop)
            create = next((o for o in table_ops.ops if _same_foreign_key(o, before, new)), None)
            if create is None:
                continue
            table_ops.ops.remove(create)
            position = table_ops.ops.index(drop)
            rename = ops.RenameConstraint(table_ops.table_name, drop.constraint_name, create.constraint_name)
            table_ops.ops[position : position + 1] = [rename] if rename.old_name != rename.new_name else []
    upgrade_ops.ops[:] = [
        o for o in upgrade_ops.ops if not (isinstance(o, alembic_ops.ModifyTableOps) and not o.ops)
    ]


def _drops_foreign_key_to(op, table: str) -> bool:
    return (
        isinstance(op, alembic_ops.DropConstraintOp)
        and isinstance(reverse_of(op), alembic_ops.CreateForeignKeyOp)
        and reverse_of(op).referent_table == table
        and reverse_of(op).kw.get("referent_schema") is None
    )


def _same_foreign_key(op, before: alembic_ops.CreateForeignKeyOp, table: str) -> bool:
    return (
        isinstance(op, alembic_ops.CreateForeignKeyOp)
        and op.referent_table == table
        and op.kw.get("referent_schema") is None
        and list(op.local_cols) == list(before.local_cols)
        and list(op.remote_cols) == list(before.remote_cols)
        and op.kw == before.kw
    )


def _take_index_ops(upgrade_ops, old: str, new: str) -> dict[tuple[str, ...], str]:
    """Remove the index ops of the old and the new table (the indexes come along with the table and
    are renamed); return the new table's wanted index names by columns."""
    wanted = {}
    for container in [
        upgrade_ops,
        *[o for o in upgrade_ops.ops if isinstance(o, alembic_ops.ModifyTableOps)],
    ]:
        kept = []
        for op in container.ops:
            if isinstance(op, alembic_ops.CreateIndexOp) and op.table_name == new:
                wanted[tuple(c if isinstance(c, str) else c.name for c in op.columns)] = op.index_name
            elif not (isinstance(op, alembic_ops.DropIndexOp) and op.table_name == old):
                kept.append(op)
        container.ops[:] = kept
    upgrade_ops.ops[:] = [
        o for o in upgrade_ops.ops if not (isinstance(o, alembic_ops.ModifyTableOps) and not o.ops)
    ]
    return wanted


def _follow_names(old: str, new_table: sa.Table, wanted_indexes: dict, connection) -> list:
    """Renames of the old table's indexes and constraints to the names the models give them."""
    inspector = sa.inspect(connection)
    renames = []
    for index in inspector.get_indexes(old):
        new_name = wanted_indexes.get(tuple(index["column_names"]))
        if new_name and new_name != index["name"]:
            renames.append(ops.RenameIndex(index["name"], new_name))
    wanted = {}
    for constraint in new_table.constraints:
        kind = type(constraint).__name__
        wanted[(kind, tuple(c.name for c in constraint.columns))] = constraint.name
    reflected = [("PrimaryKeyConstraint", inspector.get_pk_constraint(old))]
    reflected += [("UniqueConstraint", uq) for uq in inspector.get_unique_constraints(old)]
    reflected += [("ForeignKeyConstraint", fk) for fk in inspector.get_foreign_keys(old)]
    for kind, found in reflected:
        new_name = wanted.get(
            (kind, tuple(found.get("constrained_columns") or found.get("column_names") or ()))
        )
        if found.get("name") and new_name and new_name != found["name"]:
            renames.append(ops.RenameConstraint(new_table.name, found["name"], str(new_name)))
    return renames
