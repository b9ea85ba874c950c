"""`make bench`: every benchmark, then the README's benchmark results rewritten from their output.

Runs each script of SCRIPTS that exists in bench/ (each writes bench/results/<name>.md), then
replaces the part of README.md between the two BENCH markers with when and where it ran (UTC time,
CPU, load average before and after: the machine may be shared) and every result file, so each
speed claim in the README comes from this one command.

    python -m bench.run_all                      # everything, full size (tens of minutes on 2 cores)
    python -m bench.run_all --only history_tests # one of them (its results file only)
    python -m bench.run_all --quick --out /tmp/b # smoke sizes into another folder; README untouched
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
BEGIN, END = "<!-- BENCH:BEGIN (written by make bench) -->", "<!-- BENCH:END -->"

# name: (title in the README, full-size arguments, smoke arguments). Each takes --out: a folder, or
# for those in OUT_FILE the result file itself.
SCRIPTS = {
    "migration_load": ("API latency while the schema changes", [], ["--quick"]),
    "history_tests": ("The suite's history checks at 500 revisions", [], ["--quick"]),
    "history_review": (
        "Review (`flask db lint`, `flask db status`) against the history",
        [],
        ["--sizes", "50", "--runs", "1"],
    ),
    "history_release": ("Release against the history", [], ["--sizes", "50", "--runs", "1"]),
    "two_way": ("Releases in both directions: overlap, rollback, forward again, under load", [], ["--quick"]),
    "compat_gate": ("The compatibility gate (`flask db compat`) on its corpus", [], ["--quick"]),
}
OUT_FILE = {"history_review"}
PLOTS = {"migration_load": "migration_load.png"}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        return " / ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def run(name: str, args: list[str], out: Path) -> tuple[bool, float]:
    started = time.monotonic()
    target = out / f"{name}.md" if name in OUT_FILE else out
    command = [sys.executable, "-m", f"bench.{name}", *args, "--out", str(target)]
    print(f"== {' '.join(command[1:])}", flush=True)
    done = subprocess.run(command, cwd=ROOT, check=False)
    return done.returncode == 0, time.monotonic() - started


def load_verdict(loads: tuple[str, str]) -> str:
    """Whether the 1-minute load averages say the benchmark had the machine to itself."""
    try:
        busiest = max(float(load.split(" / ")[0]) for load in loads)
    except ValueError:
        return "load unknown"
    if busiest > (os.cpu_count() or 1):
        return "above the core count: other work shared the machine and the numbers are pessimistic"
    return "at most the core count: nothing else of note ran"


def section(ran: dict[str, tuple[bool, float]], started: datetime.datetime, loads: tuple[str, str]) -> str:
    lines = [
        BEGIN,
        f"Last run: {started:%Y-%m-%d %H:%M} UTC, `make bench` on {cpu_model()} ({os.cpu_count()} cores), "
        f"Python {platform.python_version()}; load average (1 / 5 / 15 min) {loads[0]} at the start and "
        f"{loads[1]} at the end ({load_verdict(loads)}).",
    ]
    for name, (ok, seconds) in ran.items():
        title = SCRIPTS[name][0]
        result = RESULTS / f"{name}.md"
        lines += ["", f"#### {title}", ""]
        if not ok or not result.exists():
            lines.append(f"_`bench/{name}.py` failed in this run; see its output._")
            continue
        lines.append(result.read_text().strip())
        if name in PLOTS:
            lines += ["", f"![{title}](bench/results/{PLOTS[name]})"]
        lines += ["", f"_({seconds:.0f} s)_"]
    lines.append(END)
    return "\n".join(lines)


def rewrite_readme(text: str) -> None:
    readme = README.read_text()
    if BEGIN not in readme or END not in readme:
        raise SystemExit(f"README.md lacks the {BEGIN} ... {END} markers")
    head, rest = readme.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    README.write_text(head + text + tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke sizes; the README is left alone")
    parser.add_argument("--only", action="append", choices=list(SCRIPTS), help="run only these")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where result files go")
    args = parser.parse_args(argv)
    present = [name for name in SCRIPTS if (ROOT / "bench" / f"{name}.py").exists()]
    chosen = [name for name in present if not args.only or name in args.only]
    started, load_before = datetime.datetime.now(datetime.UTC), load_average()
    ran = {}
    for name in chosen:
        ran[name] = run(name, SCRIPTS[name][2] if args.quick else SCRIPTS[name][1], args.out)
        print(f"== {name}: {'ok' if ran[name][0] else 'FAILED'} in {ran[name][1]:.0f} s", flush=True)
    if not args.quick and not args.only and args.out.resolve() == RESULTS.resolve():
        rewrite_readme(section(ran, started, (load_before, load_average())))
        print("README.md benchmark results rewritten")
    return 0 if all(ok for ok, _ in ran.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
