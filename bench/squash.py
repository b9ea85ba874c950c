"""What a squash saves: a fresh database built from a long history vs from its squash.

    python -m bench.squash [COUNT]      # default 500 synthetic revisions on top of the project's

Builds the synthetic history (bench/history.py), times `flask db squash` of all of it, then times
migrating an empty database to head through the original revisions and through the squash (each
on one parsed script directory, as the tests and the runner do), on a throwaway embedded server.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from alembic.script import ScriptDirectory

from bench.history import build_history
from devdb.embedded import EmbeddedPostgres
from safemigrate.scratch import create_database, drop_database
from safemigrate.squash.build import squash
from safemigrate.state import alembic_config, run_scripts

ROUNDS = 3


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
        timings: dict[str, list[float]] = {"original": [], "squashed": []}
        for round_ in range(ROUNDS):  # alternating, so both see the same load on a shared machine
            for label, directory in (("original", original), ("squashed", squashed)):
                name = f"{label}_{round_}"
                create_database(server_url, name)
                timings[label].append(_build(server_url.set(database=name), directory))
                drop_database(server_url, name)
        total = len(result.plan.replaced)
        print(f"fresh database to head, {ROUNDS} rounds, seconds:\n")
        print("| history | revisions | median | min | max |\n| --- | --- | --- | --- | --- |")
        for label, revisions in (
            ("original", str(total)),
            ("squashed", f"1 ({result.statements} statements)"),
        ):
            t = timings[label]
            print(f"| {label} | {revisions} | {statistics.median(t):.1f} | {min(t):.1f} | {max(t):.1f} |")
        print(f"\n`flask db squash` of {total} revisions (replay, render, verify): {squash_seconds:.1f} s")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
