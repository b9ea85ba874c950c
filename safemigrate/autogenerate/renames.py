"""Renames, found in one place: a dropped table and a created one with the same columns, or a
dropped column and an added one of the same type and nullability, may be one thing renamed.

Confirmed (`--rename items:things` / `--rename items.description:details`, or a yes to the question
questioner.py asks), the drop and the create become one rename and every row is kept; a renamed
table's indexes and constraints named by the models' naming convention follow the new name, so
`flask db check` is clean afterwards. Answered no (in a terminal, or `--drop`), the drop stays and a
warning says what is lost; unanswered (no terminal, no option), the command stops in one line.
A --rename that matches no drop and add of the same shape is refused in one line.
"""

from __future__ import annotations

from typing import TypeGuard

import sqlalchemy as sa
from alembic.operations import ops as alembic_ops
from sqlalchemy.schema import ColumnCollectionConstraint

from safemigrate.autogenerate import ops
from safemigrate.autogenerate.answers import Answers, AutogenerateRefused
from safemigrate.autogenerate.questioner import ask_rename_column, ask_rename_table, type_sql
from safemigrate.library_compat import reverse_of


def resolve_renames(upgrade_ops: alembic_ops.UpgradeOps, answers: Answers, connection) -> None:
    """Tables first (a renamed table's columns are then the same table's), then columns."""
    _resolve_tables(upgrade_ops, answers, connection)
    _resolve_columns(upgrade_ops, answers)


def _table_shape(table: sa.Table) -> set[tuple[str, str, bool]]:
    return {(c.name, type_sql(c.type), bool(c.nullable)) for c in table.columns}


def _resolve_tables(upgrade_ops: alembic_ops.UpgradeOps, answers: Answers, connection) -> None:
    """Turn a confirmed drop + create of a table into a rename; warn about every drop left."""
    created = {op.table_name: op for op in upgrade_ops.ops if isinstance(op, alembic_ops.CreateTableOp)}
    dropped = {op.table_name: op for op in upgrade_ops.ops if isinstance(op, alembic_ops.DropTableOp)}
    for old, drop in dropped.items():
        old_table = drop.to_table()
        new = answers.renames.get(old)
        if new is not None:
            answers.used.add(old)
            if new not in created:
                raise AutogenerateRefused(f"--rename {old}:{new}: the models do not add a table {new}")
            if _table_shape(created[new].to_table()) != _table_shape(old_table):
                raise AutogenerateRefused(
                    f"--rename {old}:{new}: the tables' columns differ; rename first, change them later"
                )
        elif answers.dropped_on_purpose(old):
            pass
        elif answers.interactive:
            new = next(
                (
                    name
                    for name, create in created.items()
                    if _table_shape(create.to_table()) == _table_shape(old_table)
                    and ask_rename_table(answers, old, name)
                ),
                None,
            )
        else:
            same = [
                name
                for name, create in created.items()
                if _table_shape(create.to_table()) == _table_shape(old_table)
            ]
            if same:
                # Unanswered: guessing "no" would drop the rows (MIGRATIONS.md: stop, write nothing).
                raise AutogenerateRefused(
                    f"table {old} is dropped and {same[0]} created with the same columns: run again with "
                    f"--rename {old}:{same[0]} if it was renamed (rows kept), or --drop {old} to drop it "
                    "with its rows"
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
            assert isinstance(before, alembic_ops.CreateForeignKeyOp)  # what _drops_foreign_key_to found
            create = next((o for o in table_ops.ops if _same_foreign_key(o, before, new)), None)
            if create is None:
                continue
            old_name, new_name = drop.constraint_name, create.constraint_name
            assert isinstance(old_name, str) and isinstance(new_name, str)  # the naming convention's
            table_ops.ops.remove(create)
            position = table_ops.ops.index(drop)
            rename = ops.RenameConstraint(table_ops.table_name, old_name, new_name)
            table_ops.ops[position : position + 1] = [rename] if rename.old_name != rename.new_name else []
    upgrade_ops.ops[:] = [
        o for o in upgrade_ops.ops if not (isinstance(o, alembic_ops.ModifyTableOps) and not o.ops)
    ]


def _drops_foreign_key_to(op, table: str) -> TypeGuard[alembic_ops.DropConstraintOp]:
    before = reverse_of(op) if isinstance(op, alembic_ops.DropConstraintOp) else None
    return (
        isinstance(before, alembic_ops.CreateForeignKeyOp)
        and before.referent_table == table
        and before.kw.get("referent_schema") is None
    )


def _same_foreign_key(
    op, before: alembic_ops.CreateForeignKeyOp, table: str
) -> TypeGuard[alembic_ops.CreateForeignKeyOp]:
    return (
        isinstance(op, alembic_ops.CreateForeignKeyOp)
        and op.referent_table == table
        and op.kw.get("referent_schema") is None
        and list(op.local_cols) == list(before.local_cols)
        and list(op.remote_cols) == list(before.remote_cols)
        and op.kw == before.kw
    )


def _take_index_ops(upgrade_ops, old: str, new: str) -> dict[tuple[str, ...], str | None]:
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
                # An expression index (text) is keyed by its SQL: reflection names no column for it.
                columns = (c.name if isinstance(c, sa.ColumnElement) else str(c) for c in op.columns)
                wanted[tuple(columns)] = op.index_name
            elif not (isinstance(op, alembic_ops.DropIndexOp) and op.table_name == old):
                kept.append(op)
        container.ops[:] = kept
    upgrade_ops.ops[:] = [
        o for o in upgrade_ops.ops if not (isinstance(o, alembic_ops.ModifyTableOps) and not o.ops)
    ]
    return wanted


def _follow_names(old: str, new_table: sa.Table, wanted_indexes: dict, connection) -> list[ops.SafeOp]:
    """Renames of the old table's indexes and constraints to the names the models give them."""
    inspector = sa.inspect(connection)
    renames: list[ops.SafeOp] = []
    for index in inspector.get_indexes(old):
        new_name = wanted_indexes.get(tuple(index["column_names"]))
        if new_name and new_name != index["name"]:
            renames.append(ops.RenameIndex(index["name"], new_name))
    wanted = {}
    for constraint in new_table.constraints:
        if not isinstance(constraint, ColumnCollectionConstraint):
            continue  # (a table's constraints all are: Constraint is their abstract base)
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


# -- columns --------------------------------------------------------------------------------------
def _same_shape(a: sa.Column, b: sa.Column) -> bool:
    return type_sql(a.type) == type_sql(b.type) and a.nullable == b.nullable


def _resolve_columns(upgrade_ops: alembic_ops.UpgradeOps, answers: Answers) -> None:
    """Turn a confirmed drop + add of a column into a rename; warn about every drop left."""
    # A --rename of a column the models do not drop is a typo: say so before any question.
    dropped_anywhere = {
        f"{table_ops.table_name}.{op.column_name}"
        for table_ops in upgrade_ops.ops
        if isinstance(table_ops, alembic_ops.ModifyTableOps)
        for op in table_ops.ops
        if isinstance(op, alembic_ops.DropColumnOp)
    }
    for key in answers.renames:
        if "." in key and key not in dropped_anywhere:
            table, old = key.split(".", 1)
            raise AutogenerateRefused(
                f"--rename {key}:{answers.renames[key]}: the models do not drop a column {old} from {table}"
            )
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
                        f"--rename {table}.{old}:{new}: {old} is {_column_shape(old_column)} but {new} is "
                        f"{_column_shape(add.column)}; a rename keeps the type: "
                        "rename first, change the type later"
                    )
            elif answers.dropped_on_purpose(f"{table}.{old}"):
                pass
            elif answers.interactive:
                candidates = [a for a in added.values() if _same_shape(old_column, a.column)]
                new = next(
                    (
                        a.column.name
                        for a in candidates
                        if ask_rename_column(answers, table, old, a.column.name)
                    ),
                    None,
                )
            else:
                _refuse_unanswered(
                    table, old, [a.column.name for a in added.values() if _same_shape(old_column, a.column)]
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


def _refuse_unanswered(table: str, old: str, candidates: list[str]) -> None:
    """No terminal, no option: the rename question stands unanswered, and guessing "no" would write a
    drop that loses the column's data. Stop, writing nothing (as MIGRATIONS.md says)."""
    if candidates:
        raise AutogenerateRefused(
            f"{table}.{old} is dropped and {table}.{candidates[0]} added with the same type: run again with "
            f"--rename {table}.{old}:{candidates[0]} if it was renamed (data kept), or --drop {table}.{old} "
            "to drop it with its data"
        )


def _column_shape(column: sa.Column) -> str:
    return f"{type_sql(column.type)} {'NULL' if column.nullable else 'NOT NULL'}"


# -- what a renamed column (or nothing at all) leaves equal: indexes and constraints -------------------
def keep_equal_indexes_and_constraints(upgrade_ops: alembic_ops.UpgradeOps) -> None:
    """An index or constraint that autogenerate drops and creates again the same, once renamed columns
    are followed, is kept: PostgreSQL keeps indexes and constraints through RENAME COLUMN (they refer to
    the column by number), so they are at most renamed to their new conventional name (instant), never
    rebuilt (queries would have no index meanwhile, a foreign key would be scanned again, and the way
    back would re-create it on a column not yet renamed back). An index renamed in the models, with
    nothing else changed, is the same case: ALTER INDEX ... RENAME."""
    renamed = {
        (table_ops.schema, table_ops.table_name): {
            op.old_name: op.new_name for op in table_ops.ops if isinstance(op, ops.RenameColumn)
        }
        for table_ops in upgrade_ops.ops
        if isinstance(table_ops, alembic_ops.ModifyTableOps)
    }
    for container in [
        upgrade_ops,
        *[o for o in upgrade_ops.ops if isinstance(o, alembic_ops.ModifyTableOps)],
    ]:
        _pair_up(container, renamed)
    upgrade_ops.ops[:] = [
        o for o in upgrade_ops.ops if not (isinstance(o, alembic_ops.ModifyTableOps) and not o.ops)
    ]


def _pair_up(container, renamed: dict) -> None:
    for drop in [o for o in container.ops if _kept_shape(o, renamed) is not None]:
        shape = _kept_shape(drop, renamed)
        create = next((o for o in container.ops if _created_shape(o) == shape), None)
        if create is None:
            continue
        old_name, new_name = _name(drop), _name(create)
        container.ops.remove(create)
        position = container.ops.index(drop)
        replacement: list[ops.SafeOp]
        if old_name == new_name:
            replacement = []
        elif isinstance(drop, alembic_ops.DropIndexOp):
            replacement = [ops.RenameIndex(old_name, new_name, drop.schema)]
        else:
            replacement = [ops.RenameConstraint(drop.table_name, old_name, new_name, drop.schema)]
        container.ops[position : position + 1] = replacement


def _name(op) -> str:
    return str(
        op.index_name
        if isinstance(op, alembic_ops.DropIndexOp | alembic_ops.CreateIndexOp)
        else op.constraint_name
    )


def _kept_shape(op, renamed: dict):
    """What a dropped index or unique / foreign key constraint is, its columns renamed as the revision
    renames them; None for anything else."""
    if isinstance(op, alembic_ops.DropIndexOp):
        before = op.reverse()
        columns = renamed.get((op.schema, op.table_name), {})
        return _created_shape(before, columns)
    if isinstance(op, alembic_ops.DropConstraintOp) and reverse_of(op) is not None:
        columns = renamed.get((op.schema, op.table_name), {})
        return _created_shape(reverse_of(op), columns)
    return None


def _created_shape(op, columns: dict | None = None):
    """An index or constraint creation without its name: what makes two of them the same."""
    columns = columns or {}

    def names(cols):
        found = [c if isinstance(c, str) else getattr(c, "name", None) for c in cols]
        return None if None in found else tuple(columns.get(c, c) for c in found)

    if isinstance(op, alembic_ops.CreateIndexOp):
        keys = names(op.columns)
        kw = {k: v for k, v in op.kw.items() if v not in (None, False, [], {}) and k != "postgresql_using"}
        using = op.kw.get("postgresql_using") or "btree"
        if keys is None or any(not isinstance(v, str | bool | int | dict | list) for v in kw.values()):
            return None  # expressions, a WHERE clause: compared by their text they may differ: rebuilt
        return ("index", op.schema, op.table_name, keys, bool(op.unique), using, repr(sorted(kw.items())))
    if isinstance(op, alembic_ops.CreateUniqueConstraintOp):
        keys = names(op.columns)
        options = sorted((k, v) for k, v in op.kw.items() if v not in (None, False))
        return None if keys is None else ("unique", op.schema, op.table_name, keys, repr(options))
    if isinstance(op, alembic_ops.CreateForeignKeyOp):
        local = names(op.local_cols)
        if local is None:
            return None
        return (
            "foreignkey",
            op.source_table,
            local,
            op.referent_table,
            tuple(op.remote_cols),
            repr(sorted((k, v) for k, v in op.kw.items() if v not in (None, False))),
        )
    return None
