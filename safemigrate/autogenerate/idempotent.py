"""A revision that runs a committing `safe` helper must be able to run again after failing at any point.

The helper commits what the revision did before it (Alembic's autocommit_block); if a later step fails,
alembic_version does not move and the next release runs the revision again from the top. Every plain
step is then written so that a second run succeeds and changes nothing: IF [NOT] EXISTS. The review
checks the result (rule not-rerunnable, safemigrate/review/rerunnable.py). A revision without such a
helper runs in one transaction, all or nothing, and is written as Alembic writes it.
"""

from __future__ import annotations

from alembic.operations import ops as alembic_ops

from safemigrate.autogenerate.ops import SafeOp

_IF_NOT_EXISTS = (alembic_ops.AddColumnOp, alembic_ops.CreateTableOp, alembic_ops.CreateIndexOp)
_IF_EXISTS = (
    alembic_ops.DropColumnOp,
    alembic_ops.DropTableOp,
    alembic_ops.DropIndexOp,
    alembic_ops.DropConstraintOp,
)


def make_rerunnable(container: alembic_ops.OpContainer) -> None:
    """IF [NOT] EXISTS on every plain create and drop of `container`, if one of its steps commits."""
    steps = list(_flatten(container))
    if not any(isinstance(op, SafeOp) and op.commits for op in steps):
        return
    for op in steps:
        if isinstance(op, _IF_NOT_EXISTS):
            op.if_not_exists = True
        elif isinstance(op, _IF_EXISTS):
            op.if_exists = True


def _flatten(container):
    for op in container.ops:
        if isinstance(op, alembic_ops.OpContainer):
            yield from _flatten(op)
        else:
            yield op
