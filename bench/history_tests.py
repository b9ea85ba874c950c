"""The suite's migration-history checks against a long history: before and after the one-walk stairway.

Builds N synthetic revisions on the project's own (bench.history.build_history, default 500) and
times, in this process, on a throwaway database each:

  stairway, one walk (now)        safemigrate.testing.stairway.walk_stairway: up, down, up at each revision,
                                  one database, one parsed script directory
  stairway, replay per revision   the old test: per revision a fresh database, Alembic's commands
  (before)                        replay to the revision below, then up, down, up. Quadratic: timed on
                                  --samples revisions spread over the history and extrapolated (the
                                  cost of revision i is linear in i: a fitted line, summed over all)
  pytest-alembic: upgrade, up/down consistency, single head, and head to base in one call

The server is DATABASE_URL's (it must be allowed to create databases), else a throwaway embedded
PostgreSQL. Writes bench/results/history_tests.md. Targets are reported, not asserted.

    python -m bench.history_tests                      # 500 revisions
    python -m bench.history_tests --count 20 --samples 2   # a smoke run
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/history_tests.py` as well as `python -m`
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from alembic import command  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from pytest_alembic import Config as PytestAlembicConfig  # noqa: E402
from pytest_alembic import runner as pytest_alembic_runner  # noqa: E402
from pytest_alembic import tests as standard  # noqa: E402

from bench.history import build_history  # noqa: E402
from bench.server import database_server  # noqa: E402
from safemigrate.scratch import create_database, drop_database  # noqa: E402
from safemigrate.state import alembic_config  # noqa: E402
from safemigrate.testing.stairway import base_to_head, walk_stairway  # noqa: E402


class Databases:
    """Fresh empty databases on one server, each dropped after use."""

    def __init__(self, server: sa.URL):
        self.server, self.count = server, 0

    def run(self, fn: Callable[[sa.Engine], object]) -> float:
        self.count += 1
        name = f"bench_history_tests_{self.count}"
        drop_database(self.server, name)
        create_database(self.server, name)
        engine = sa.create_engine(self.server.set(database=name))
        try:
            started = time.perf_counter()
            fn(engine)
            return time.perf_counter() - started
        finally:
            engine.dispose()
            drop_database(self.server, name)


def old_stairway_step(directory: Path, revision: str, down: str | None) -> Callable[[sa.Engine], None]:
    """The pre-walk test for one revision: fresh database, Alembic's commands (each re-reads every file)."""

    def step(engine: sa.Engine) -> None:
        with engine.connect() as connection:
            config = alembic_config(connection, directory=directory)
            command.upgrade(config, down or "base")
            command.upgrade(config, revision)
            command.downgrade(config, down or "base")
            command.upgrade(config, revision)

    return step


def extrapolate(samples: dict[int, float], total: int) -> float:
    """Sum over revisions 0..total-1 of a least-squares line through (index, seconds)."""
    xs, ys = list(samples), list(samples.values())
    if len(xs) == 1:
        return ys[0] * total
    slope, intercept = statistics.linear_regression(xs, ys)
    return sum(intercept + slope * i for i in range(total))


def pytest_alembic_check(directory: Path, check) -> Callable[[sa.Engine], None]:
    def run(engine: sa.Engine) -> None:
        raw = PytestAlembicConfig(alembic_config=alembic_config(directory=directory))
        with pytest_alembic_runner(config=PytestAlembicConfig.from_raw_config(raw), engine=engine) as context:
            check(context)

    return run


def head_to_base(directory: Path) -> Callable[[sa.Engine], None]:
    def run(engine: sa.Engine) -> None:
        with engine.connect() as connection:
            config = alembic_config(connection, directory=directory)
            command.upgrade(config, "head")
            command.downgrade(config, "base")

    return run


def measure(server: sa.URL, directory: Path, samples: int) -> tuple[int, list[tuple[str, str, str]]]:
    databases = Databases(server)
    chain = base_to_head(ScriptDirectory(str(directory)))
    total = len(chain)
    rows = []

    walk = databases.run(lambda engine: walk_stairway(engine, directory))
    picks = sorted({round(i * (total - 1) / max(samples - 1, 1)) for i in range(samples)})
    timed = {}
    for index in picks:
        script = chain[index]
        timed[index] = databases.run(old_stairway_step(directory, script.revision, script.down_revision))
        print(f"  old stairway, revision {index + 1}/{total}: {timed[index]:.1f} s", flush=True)
    before = extrapolate(timed, total)
    sampled = ", ".join(f"#{i + 1}: {s:.1f} s" for i, s in timed.items())
    rows.append(
        (
            "stairway (up, down, up at every revision)",
            f"{before:.0f} s (extrapolated from {sampled})",
            f"{walk:.1f} s (one walk)",
        )
    )
    for label, check in (
        ("pytest-alembic: upgrade base to head", standard.test_upgrade),
        ("pytest-alembic: up/down consistency", standard.test_up_down_consistency),
        ("pytest-alembic: single head", standard.test_single_head_revision),
    ):
        seconds = databases.run(pytest_alembic_check(directory, check))
        rows.append((label, "same", f"{seconds:.1f} s"))
    seconds = databases.run(head_to_base(directory))
    rows.append(("head to base (two Alembic commands)", "same", f"{seconds:.1f} s"))
    return total, rows


def report(count: int, total: int, rows: list[tuple[str, str, str]]) -> str:
    lines = [
        f"The suite's migration-history checks on {count} synthetic revisions plus the project's own "
        f"({total} in all), each on a fresh empty database, wall time. Before: the stairway as a "
        "fresh database and a full replay per revision, through Alembic's commands.",
        "",
        "| check | before | now |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {label} | {before} | {now} |" for label, before, now in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=500, help="synthetic revisions")
    parser.add_argument("--samples", type=int, default=4, help="revisions timed the old way")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 revisions, 2 samples")
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.samples = 20, 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-history-tests-"))
    try:
        directory = build_history(workdir / "migrations", args.count)
        with database_server() as server:
            total, rows = measure(server, directory, args.samples)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    text = report(args.count, total, rows)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "history_tests.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
