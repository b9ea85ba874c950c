"""What a revision sends through `op.get_bind()`, recorded while it is rendered offline.

Offline (`--sql`) Alembic has no connection: `op.get_bind()` is None, so a revision that leaves the
transaction with `op.get_bind().commit()` (before a concurrent index build), reads
`op.get_bind().engine.url` or checks `op.get_bind().dialect.name` raised, and the review judged none
of its statements. While the review renders, `op.get_bind()` returns a RecordingBind instead: what
the revision executes on it is written to the rendered SQL like op.execute's statements, a commit
is written as COMMIT then BEGIN (psycopg2 opens the next transaction with the next statement), and
every query returns no rows, as on an empty database (a loop over rows sends nothing).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url


class _NoRows:
    """The result of a recorded query: no rows, as on an empty database."""

    rowcount = 0
    returns_rows = True

    def __iter__(self):
        return iter(())

    def fetchall(self):
        return []

    def fetchone(self):
        return None

    def first(self):
        return None

    def scalar(self):
        return None

    def scalar_one_or_none(self):
        return None

    def all(self):
        return []

    def scalars(self):
        return self

    def mappings(self):
        return self


class _Engine:
    def __init__(self, bind: RecordingBind):
        self.url = bind.url
        self.dialect = bind.dialect
        self.name = bind.dialect.name

    def connect(self):
        raise RuntimeError("a revision rendered offline cannot open a connection of its own")


class RecordingBind:
    """Stands in for the migration connection while a revision is rendered offline."""

    def __init__(self, context: MigrationContext, url: str):
        self.context = context
        self.dialect = context.dialect
        self.url = make_url(url)
        self.engine = _Engine(self)

    def execute(self, statement, parameters=None, **_options):
        if parameters:  # bound values: rendered inline, as op.execute(sa.text(...).bindparams()) is
            statement = statement.bindparams(**parameters) if hasattr(statement, "bindparams") else statement
        Operations(self.context).execute(statement)
        return _NoRows()

    def exec_driver_sql(self, statement: str, parameters=None, **_options):
        self.context.impl.static_output(statement.strip().rstrip(";") + ";")
        return _NoRows()

    def commit(self) -> None:
        self.context.impl.static_output("COMMIT;")
        self.context.impl.static_output("BEGIN;")

    def rollback(self) -> None:
        self.context.impl.static_output("ROLLBACK;")
        self.context.impl.static_output("BEGIN;")

    def in_transaction(self) -> bool:
        return True

    def begin(self):
        return contextlib.nullcontext(self)

    def execution_options(self, **_options):
        return self


@contextlib.contextmanager
def recording_binds(url: str) -> Iterator[None]:
    """While rendering offline, op.get_bind() returns a RecordingBind (online, the connection)."""
    original = Operations.get_bind

    def get_bind(self):
        context = self.migration_context
        if not context.as_sql:
            return original(self)
        return RecordingBind(context, url)

    # Patched on the class for the render's duration (Alembic builds its own Operations), put back after.
    Operations.get_bind = get_bind  # type: ignore[method-assign]
    try:
        yield
    finally:
        Operations.get_bind = original  # type: ignore[method-assign]
