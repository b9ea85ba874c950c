"""What a squash saves: a fresh database built from a long history vs from its squash.

    python -m bench.squash [COUNT]      # default 500 synthetic revisions on top of the project's

Builds the synthetic history (bench/history.py), times `flask db squash` of all of it, then times
migrating an empty database to head through the original revisions and through the squash (each
on one parsed script directory, as the tests and the runner do), on a throwaway embedded server.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from alembic.script import ScriptDirectory

from app.database_admin import create_database, drop_database
from app.embedded_db import EmbeddedPostgres
from app.schema.squash.build import squash
from app.schema.state import alembic_config, run_scripts
from bench.history import build_history


def _build(url, directory: Path) -> float:
    import sqlalchemy as sa

    started = time.monotonic()
    scripts = ScriptDirectory(str(directory))
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            run_scripts(alembic_config(connection, directory=directory), scripts, "upgrade", "head")
    finally:
        engine.dispose()
    return time.monotonic() - started


def main(count: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-squash-"))
    server = EmbeddedPostgres(folder / "pgdata")
    server_url = server.start(database="postgres")
    try:
        original = build_history(folder / "original", count)
        squashed = build_history(folder / "migrations", count)
        head = ScriptDirectory(str(original)).get_current_head()
        started = time.monotonic()
        result = squash(squashed, head, f"squash {count} revisions", server_url)
        squash_seconds = time.monotonic() - started
        timings = {}
        for label, directory in (("original", original), ("squashed", squashed)):
            create_database(server_url, label)
            timings[label] = _build(server_url.set(database=label), directory)
            drop_database(server_url, label)
        total = len(result.plan.replaced)
        print("| history | revisions | fresh database to head (s) |\n| --- | --- | --- |")
        print(f"| original | {total} | {timings['original']:.1f} |")
        print(f"| squashed | 1 ({result.statements} statements) | {timings['squashed']:.1f} |")
        print(f"\n`flask db squash` of {total} revisions (replay, render, verify): {squash_seconds:.1f} s")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
