"""No-op release cost: `python run_migration.py` vs `flask db upgrade` on a database already at head.

Each command is run --runs times, alternating, against the database the app is configured for
(DATABASE_URL, or the embedded development server). Prints a Markdown table and writes it to
bench/results/release_noop.md. bench/migration_load.py reports the same numbers as scenario d.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COMMANDS = {
    "python run_migration.py": [sys.executable, "run_migration.py"],
    "flask db upgrade": [str(BIN / "flask"), "db", "upgrade"],
}


def measure_noop(
    runs: int, env: dict[str, str] | None = None, *, at_head: bool = False
) -> dict[str, list[float]]:
    """Wall times of each command, after one run that brings the database to head (unless the
    caller says it is there already)."""
    environ = {**os.environ, **(env or {})}

    def timed(args: list[str]) -> float:
        started = time.perf_counter()
        subprocess.run(args, cwd=ROOT, env=environ, check=True, capture_output=True)
        return time.perf_counter() - started

    if not at_head:
        timed(COMMANDS["python run_migration.py"])
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            samples[name].append(timed(command))
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    samples = measure_noop(args.runs)
    lines = [
        f"No-op release (database at head), {args.runs} runs each, wall time in seconds:",
        "",
        "| command | median | min | max |",
        "| --- | --- | --- | --- |",
    ]
    for name, values in samples.items():
        lines.append(
            f"| `{name}` | {statistics.median(values):.3f} | {min(values):.3f} | {max(values):.3f} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    out = ROOT / "bench" / "results" / "release_noop.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
