"""Release cost against the length of the history: `python run_migration.py` vs `flask db upgrade`.

For each size (default 100, 250 and 500 synthetic revisions on top of the project's own, built by
bench.history.build_history), each command upgrades a fresh empty database to head, --runs times,
alternating; then the no-op release (database already at head) is timed for both. The database
server is DATABASE_URL's when set (it must be allowed to create databases), else a throwaway
embedded PostgreSQL. Prints a Markdown table and writes bench/results/history_release.md.

    python -m bench.history_release [--sizes 100,250,500] [--runs 3] [--out bench/results]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/history_release.py` as well as `python -m`
    sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import URL  # noqa: E402

from bench.history import build_history  # noqa: E402
from config import normalise_database_url  # noqa: E402
from safemigrate.scratch import create_database, drop_database  # noqa: E402

BIN = Path(sys.executable).parent
RUNNER = "python run_migration.py"
FLASK = "flask db upgrade"


def commands(directory: Path) -> dict[str, list[str]]:
    return {
        RUNNER: [sys.executable, "run_migration.py", "--directory", str(directory)],
        FLASK: [str(BIN / "flask"), "db", "upgrade", "--directory", str(directory)],
    }


@contextmanager
def database_server() -> Iterator[URL]:
    """A maintenance-database URL: DATABASE_URL's server, or a throwaway embedded one."""
    given = os.environ.get("DATABASE_URL")
    if given:
        yield normalise_database_url(given).set(database="postgres")
        return
    from devdb.embedded import EmbeddedPostgres

    folder = Path(tempfile.mkdtemp(prefix="bench-history-"))
    server = EmbeddedPostgres(folder / "pgdata")
    server.start(database="postgres")
    try:
        yield server.url("postgres")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def timed(args: list[str], url: URL) -> float:
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)}
    env.pop("MIGRATION_DATABASE_URL", None)
    started = time.perf_counter()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed


def measure(server: URL, size: int, runs: int, workdir: Path) -> dict[str, dict[str, list[float]]]:
    """{"full": {command: [seconds]}, "noop": {command: [seconds]}} for a history of `size`."""
    directory = build_history(workdir / f"history-{size}", size)
    full: dict[str, list[float]] = {RUNNER: [], FLASK: []}
    noop: dict[str, list[float]] = {RUNNER: [], FLASK: []}
    for run in range(runs):
        for name, args in commands(directory).items():
            database = f"bench_history_{os.getpid()}_{size}_{run}_{len(full[name])}"
            drop_database(server, database)
            create_database(server, database)
            url = server.set(database=database)
            try:
                full[name].append(timed(args, url))
                noop[name].append(timed(commands(directory)[name], url))
            finally:
                drop_database(server, database)
    return {"full": full, "noop": noop}


def report(results: dict[int, dict], runs: int) -> str:
    lines = [
        f"Fresh database upgraded to head through a linear history of N synthetic revisions (plus the "
        f"project's own), then the no-op release on the same database; median of {runs} run(s), "
        "wall time in seconds, each command a new process.",
        "",
        f"| revisions | `{RUNNER}` | `{FLASK}` | ratio | no-op `{RUNNER}` | no-op `{FLASK}` |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for size, result in sorted(results.items()):
        full = {name: statistics.median(values) for name, values in result["full"].items()}
        noop = {name: statistics.median(values) for name, values in result["noop"].items()}
        lines.append(
            f"| {size} | {full[RUNNER]:.2f} | {full[FLASK]:.2f} | {full[RUNNER] / full[FLASK]:.2f} | "
            f"{noop[RUNNER]:.2f} | {noop[FLASK]:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,250,500", help="comma-separated history lengths")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size]
    workdir = Path(tempfile.mkdtemp(prefix="bench-histories-"))
    try:
        with database_server() as server:
            results = {size: measure(server, size, args.runs, workdir) for size in sizes}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    text = report(results, args.runs)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "history_release.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
