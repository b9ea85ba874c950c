"""The backfill comparison: safe.backfill_in_batches against one UPDATE of the same rows.

Each is a revision planted on a copy of migrations/ (bench.change_set): the nullable column is
added before the load starts, then the backfill revision alone is applied under load, in this
process on one connection (Alembic on a parsed script directory, exactly as the runner applies a
revision), so its duration is the backfill's own. Rows/s is the rows it filled over that time; the
worst stall it causes to concurrent writers is read off the load's create and update requests.
"""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from safemigrate.state import alembic_config, run_scripts


def upgrade(url: sa.URL, directory: Path, target: str) -> float:
    """Apply the revisions of `directory` up to `target` on `url`; the seconds it took."""
    scripts = ScriptDirectory(str(directory))
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            config = alembic_config(connection, directory=directory)
            started = time.perf_counter()
            run_scripts(config, scripts, "upgrade", target)
            return time.perf_counter() - started
    finally:
        engine.dispose()


def filled_rows(url: sa.URL) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT count(*) FROM items WHERE zz_priority IS NOT NULL")
            ).scalar()
    finally:
        engine.dispose()
