"""Every private Alembic and SQLAlchemy API the toolkit uses, in one place (compatibility with the
libraries; review/compat.py is about compatibility between releases, another thing).

Alembic's own `alembic/util/sqla_compat.py` is the pattern: each function below names one private
attribute or function and says which public API is missing, so that upgrading Alembic (1.20) or
SQLAlchemy (2.1) means reading this module, and nothing else in the package reaches past a
leading underscore of theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import overload

import sqlalchemy as sa
from alembic.autogenerate import render as _render
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops as alembic_ops
from alembic.runtime.migration import RevisionStep
from alembic.script import Script, ScriptDirectory
from sqlalchemy.sql.base import _DialectArgView


# -- the revision graph ---------------------------------------------------------------------------
def upgrade_steps(
    scripts: ScriptDirectory, destination: str | tuple[str, ...], current: str | tuple[str, ...] | None
) -> list[RevisionStep]:
    """The steps from `current` up to `destination`, as `command.upgrade` walks them.

    `ScriptDirectory._upgrade_revs` is what `command.upgrade` hands to EnvironmentContext; the
    public `iterate_revisions` yields Scripts, not the MigrationSteps a run needs.
    """
    # Alembic annotates `destination` as str; it goes to iterate_revisions, which takes a tuple of heads.
    return scripts._upgrade_revs(destination, current)  # type: ignore[arg-type]


def downgrade_steps(
    scripts: ScriptDirectory, destination: str | tuple[str, ...], current: str | tuple[str, ...] | None
) -> list[RevisionStep]:
    """The steps from `current` down to `destination` (`command.downgrade`'s walk); see upgrade_steps."""
    return scripts._downgrade_revs(destination, current)  # type: ignore[arg-type]  # as in upgrade_steps


def all_down_revisions(script: Script) -> tuple[str, ...]:
    """A revision's parents: its down revisions and its `depends_on` (resolved to revision ids).

    Public are `down_revision` (str, tuple or None) and `dependencies` (as written, possibly a
    branch label); only `Revision._all_down_revisions` has both, resolved.
    """
    return script._all_down_revisions


def normalized_down_revisions(script: Script) -> tuple[str, ...]:
    """The heads a database has just before `script` runs (dependencies already an ancestor's are
    left out): what Alembic itself expects in alembic_version. No public equivalent."""
    return script._normalized_down_revisions


def versioned_down_revisions(script: Script) -> tuple[str, ...]:
    """`down_revision` as a tuple (empty for a base revision), without `depends_on`.

    Public `down_revision` is a str, a tuple or None; this is Alembic's own normalisation of it.
    """
    return script._versioned_down_revisions


# -- Alembic's module-level proxies ---------------------------------------------------------------
@contextmanager
def proxy_restored(proxy_module: ModuleType) -> Iterator[None]:
    """Put `alembic.context` or `alembic.op` back to the object it proxies now, on the way out.

    Both are module proxies that the next EnvironmentContext / Operations replaces; rendering
    offline in the middle of an online migration would leave the running revision's `op` pointing
    at the finished offline one. Alembic has no public way to read or reinstall a proxy.
    """
    saved = getattr(proxy_module, "_proxy", None)
    try:
        yield
    finally:
        if saved is not None:
            saved._install_proxy()


# -- autogenerate's operations --------------------------------------------------------------------
@overload
def reverse_of(op: alembic_ops.DropTableOp) -> alembic_ops.CreateTableOp | None: ...
@overload
def reverse_of(op: alembic_ops.DropConstraintOp) -> alembic_ops.AddConstraintOp | None: ...
def reverse_of(
    op: alembic_ops.DropTableOp | alembic_ops.DropConstraintOp,
) -> alembic_ops.CreateTableOp | alembic_ops.AddConstraintOp | None:
    """The operation autogenerate built `op` as the undo of (a DropTableOp's CreateTableOp with its
    columns, a DropConstraintOp's CreateForeignKeyOp with its referent), or None.

    The public `reverse()` rebuilds a new operation from the bare constraint or table and raises
    when the original is missing; `_reverse` is the original, which Alembic keeps for that.
    """
    return op._reverse


def copy_column(column: sa.Column) -> sa.Column:
    """An unattached copy of `column` (SQLAlchemy's `Column.copy()` is deprecated since 1.4 and
    `_copy()` is what `Table.to_metadata` uses; there is no public replacement)."""
    return column._copy()


# -- autogenerate's renderers ---------------------------------------------------------------------
# Alembic renders an index's columns and dialect options, and a Column, only inside its own private
# renderers; a custom operation that writes the same Python must call them to match them exactly.
def render_index_expressions(index: sa.Index, context: AutogenContext) -> list[str]:
    """An index's columns and expressions as `op.create_index` renders them."""
    return _render._get_index_rendered_expressions(index, context)


def render_dialect_kwargs(context: AutogenContext, dialect_kwargs: _DialectArgView) -> list[str]:
    """Dialect options (`postgresql_where=sa.text(...)`, ...) as autogenerate renders them."""
    return _render._render_dialect_kwargs_items(context, dialect_kwargs)


def render_column(column: sa.Column, context: AutogenContext) -> str:
    """`sa.Column(...)` as `op.add_column` renders it."""
    return _render._render_column(column, context)


def version_locations(scripts: ScriptDirectory) -> list[Path]:
    """The folders holding the revision files. ScriptDirectory keeps them in `_version_locations`
    (`version_locations` is only the configured option, unset for the default versions/ folder)."""
    return list(scripts._version_locations)
