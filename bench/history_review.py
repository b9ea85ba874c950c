"""How the review scales with the history: `flask db lint` and `flask db status` on long histories.

For each size (default 100, 250 and 500 revisions) a synthetic history is chained on the project's
own (bench/history.build_history), then these are timed, each as a fresh process, as a user runs them:

  flask db lint -d DIR            the whole history
  flask db lint -d DIR HEAD       one revision (the newest)
  flask db status -d DIR          every revision with its lint verdict, on a real (empty) database
  flask --help                    the floor: what starting flask costs at all

`--before REF` also times the code of git revision REF (checked out into a temporary folder) on the
same histories, for a before/after table. Results go to bench/results/history_review.md. Targets
(reported, not asserted): whole-history lint and status under 10 s at 500 revisions; one revision
about the time of `flask --help`.

    python -m bench.history_review                       # this code, 100/250/500
    python -m bench.history_review --before 5652ded --before-sizes 100 250   # and the code of 5652ded
    python -m bench.history_review --sizes 50 --runs 1   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.history import build_history, synthetic_revision_id  # noqa: E402
from safemigrate.scratch import create_database, drop_database  # noqa: E402

FLASK = Path(sys.executable).parent / "flask"
DATABASE = "bench_history_review"
TARGET_WHOLE = 10.0


def server_url():
    from bench.migration_load import server_url as load_server_url

    return load_server_url()


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run. CPU time (user + system of the process) does not grow
    when other work shares the machine; wall time does."""
    started, cpu = time.perf_counter(), _children_cpu()
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if result.returncode not in (0, 1):
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
        raise RuntimeError(f"{' '.join(args[1:4])} failed ({result.returncode}): {tail}")
    return elapsed, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(code: Path, directory: Path, count: int, database_url: str, runs: int) -> dict[str, tuple]:
    """Median wall and CPU time of each command, run from `code` (a checkout of the project)."""
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(code), "FLASK_APP": "wsgi"}
    head = synthetic_revision_id(count - 1)
    commands = {
        "flask --help": [str(FLASK), "--help"],
        "lint (whole history)": [str(FLASK), "db", "lint", "-d", str(directory)],
        "lint HEAD (one revision)": [str(FLASK), "db", "lint", "-d", str(directory), head],
        "status": [str(FLASK), "db", "status", "-d", str(directory)],
    }
    results = {}
    for label, args in commands.items():
        samples = [timed(args, code, env) for _ in range(runs)]
        results[label] = (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))
        wall, cpu = results[label]
        print(f"  {count:4d} revisions  {label:26s} {wall:7.2f} s wall {cpu:7.2f} s CPU", flush=True)
    return results


def checkout(ref: str, folder: Path) -> Path:
    """The project's files at git revision `ref`, in `folder` (no .git, the shared venv)."""
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout  # noqa: S607
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)  # noqa: S607
    return folder


def report(rows: list[tuple[str, int, dict[str, tuple]]]) -> str:
    lines = [
        "# History review benchmark",
        "",
        f"`python -m bench.history_review`: wall time (median) of fresh processes on a synthetic history "
        f"(bench/history.py) on this {os.cpu_count()}-core machine, and in brackets the CPU time (user + "
        f"system) of the process, which other work on the machine does not inflate. Load average at the "
        f"end: {os.getloadavg()[0]:.1f}. Targets: whole-history lint and status under {TARGET_WHOLE:.0f} s "
        f"at 500 revisions; one revision about the time of `flask --help`.",
        "",
        "| code | revisions | flask --help | lint (whole history) | lint HEAD (one revision) | status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, count, r in rows:
        keys = ("flask --help", "lint (whole history)", "lint HEAD (one revision)", "status")
        cells = [f"{r[k][0]:.2f} s ({r[k][1]:.2f} s CPU)" for k in keys]
        lines.append(f"| {label} | {count} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 250, 500])
    parser.add_argument("--runs", type=int, default=3, help="runs per command (the median is kept)")
    parser.add_argument("--before", metavar="REF", help="also time the code of this git revision")
    parser.add_argument(
        "--before-sizes", type=int, nargs="+", help="sizes for the --before code (default: --sizes)"
    )
    parser.add_argument("--before-runs", type=int, default=1, help="runs per command for the --before code")
    parser.add_argument("--no-current", action="store_true", help="time only the --before code")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "history_review.md")
    args = parser.parse_args(argv)

    server = server_url()
    drop_database(server, DATABASE)
    create_database(server, DATABASE)
    database_url = server.set(database=DATABASE).render_as_string(hide_password=False)
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-history-review-") as folder:
            codes = [] if args.no_current else [("this code", ROOT)]
            if args.before:
                codes.insert(0, (f"before ({args.before})", checkout(args.before, Path(folder) / "before")))
            for count in args.sizes:
                directory = build_history(Path(folder) / f"history-{count}", count)
                for label, code in codes:
                    before = label.startswith("before")
                    if before and args.before_sizes and count not in args.before_sizes:
                        continue
                    print(f"{label}:", flush=True)
                    runs = args.before_runs if before else args.runs
                    rows.append((label, count, measure(code, directory, count, database_url, runs)))
    finally:
        drop_database(server, DATABASE)
    text = report(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
