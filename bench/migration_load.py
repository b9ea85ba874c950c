"""Zero-downtime benchmark: what a schema change costs live API traffic, as users feel it.

Seeds a database (default 1,000,000 items), serves the app with gunicorn on 127.0.0.1 and drives
an open-loop API load (bench/openloop.py: requests scheduled at a constant rate, latency counted
from each request's scheduled time, so a stall delays every request due meanwhile). In the middle of
it a change is applied, each scenario on a fresh copy of the seeded database:

  a  run_migration.py on the change set (bench/change_set.py)
  b  run_migration.py while a session sits idle in a transaction on items
  c  stock `flask db upgrade`, same blocker as b
  d  no-op release: run_migration.py vs flask db upgrade on a database at head (wall time)
  e  the batched backfill of every row (safe.backfill_in_batches)
  f  the same rows in a single UPDATE

Reports per scenario failed requests, p50/p99/max latency before, during and after the change and
the requests delayed over 250 ms and over 1 s; for e and f rows/s and the worst stall of concurrent
writers. Writes bench/results/migration_load.md and .png. Targets are reported, not asserted.

    python bench/migration_load.py            # the full run (several minutes on 2 cores)
    python bench/migration_load.py --quick    # a smoke run, end to end; `make test` runs it
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/migration_load.py` as well as `python -m`
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from itsdangerous import URLSafeTimedSerializer  # noqa: E402

from app.api.auth import TOKEN_SALT  # noqa: E402
from bench import backfill  # noqa: E402
from bench.change_set import BATCHED_BACKFILL, SINGLE_UPDATE_BACKFILL, plant_change_set  # noqa: E402
from bench.load_report import Result, plot, report  # noqa: E402
from bench.openloop import OpenLoad  # noqa: E402
from bench.release_noop import measure_noop  # noqa: E402
from bench.seeding import hold_items_lock, item_ids, seed, server_url  # noqa: E402
from bench.web import BIN, SECRET, Server, api_mix  # noqa: E402
from config import MIGRATIONS_DIR  # noqa: E402
from safemigrate.scratch import create_database, drop_database  # noqa: E402

LOCK_TIMEOUT_MS = 200
SEED_DB, RUN_DB = "bench_seed", "bench_run"


@dataclass
class Size:
    items: int
    users: int
    rate: float  # requests per second, scheduled (open loop)
    before: float  # seconds of load measured before the change starts
    after: float
    blocker: float  # how long the idle transaction holds its lock (scenarios b, c)
    noop_runs: int
    web_workers: int


FULL = Size(items=1_000_000, users=100, rate=80, before=5, after=5, blocker=5, noop_runs=5, web_workers=4)
QUICK = Size(items=2_000, users=5, rate=10, before=0.2, after=0.2, blocker=0.4, noop_runs=1, web_workers=1)


@dataclass
class Scenario:
    name: str
    label: str
    change: Callable[[sa.URL], dict]  # applies the change under load; {"ok": bool, ...}
    prepare: Callable[[sa.URL], object] | None = None  # before the load starts, untimed
    blocked: bool = False
    extra: dict = field(default_factory=dict)


def subprocess_change(command: list[str]) -> Callable[[sa.URL], dict]:
    def change(url: sa.URL) -> dict:
        env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)}
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            print(f"{command[1]} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return {"ok": done.returncode == 0}

    return change


def backfill_scenario(name: str, label: str, directory: Path, revisions) -> Scenario:
    column, fill = revisions[0][0], revisions[-1][0]

    def change(url: sa.URL) -> dict:
        seconds = backfill.upgrade(url, directory, fill)
        return {"ok": True, "seconds": seconds, "rows": backfill.filled_rows(url)}

    return Scenario(name, label, change, prepare=lambda url: backfill.upgrade(url, directory, column))


def run_scenario(scenario: Scenario, *, app: Server, server: sa.URL, size: Size, tokens) -> Result:
    """On a fresh copy of the seeded database (RUN_DB, the one `app` serves), load, change, load."""
    drop_database(server, RUN_DB)  # WITH (FORCE): the app's pooled connections reconnect (pre_ping)
    create_database(server, RUN_DB, template=SEED_DB)
    url = server.set(database=RUN_DB)
    result = Result(name=scenario.name, label=scenario.label)
    if scenario.prepare:
        scenario.prepare(url)
    send = api_mix(app.port, tokens, item_ids(url, size.users))
    budget = size.before + size.after + 900  # the load stops by itself, whatever happens
    with OpenLoad(send, size.rate, budget, seed=ord(scenario.name)) as load:
        time.sleep(size.before)
        blocker = hold_items_lock(url, size.blocker) if scenario.blocked else None
        result.started = time.monotonic()
        result.outcome = scenario.change(url)
        result.ended = time.monotonic()
        time.sleep(size.after)
        if blocker:
            blocker.join()
    result.samples = load.samples
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a small, fast run (smoke test)")
    parser.add_argument("--items", type=int, help="number of items to seed")
    parser.add_argument("--rate", type=float, help="requests per second")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where results go")
    args = parser.parse_args()
    size = replace(QUICK if args.quick else FULL)
    size.items = args.items or size.items
    size.rate = args.rate or size.rate
    args.out.mkdir(parents=True, exist_ok=True)

    server = server_url()
    started = time.monotonic()
    print(f"seeding {size.items:,} items ...", flush=True)
    drop_database(server, SEED_DB)
    create_database(server, SEED_DB)
    seed(server.set(database=SEED_DB), size.items, size.users)
    signer = URLSafeTimedSerializer(SECRET, salt=TOKEN_SALT)
    tokens = {user: signer.dumps({"sub": user, "ver": 0}) for user in range(1, min(size.users, 20) + 1)}
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-migrations-") as folder:
        change_set = plant_change_set(MIGRATIONS_DIR, Path(folder) / "change_set")
        batched = plant_change_set(MIGRATIONS_DIR, Path(folder) / "batched", BATCHED_BACKFILL)
        single = plant_change_set(MIGRATIONS_DIR, Path(folder) / "single", SINGLE_UPDATE_BACKFILL)
        runner = [sys.executable, "run_migration.py", f"--lock-timeout={LOCK_TIMEOUT_MS}", "--directory"]
        stock = [str(BIN / "flask"), "db", "upgrade", "-d"]
        scenarios = [
            Scenario("a", "run_migration.py", subprocess_change([*runner, str(change_set)])),
            Scenario(
                "b",
                "run_migration.py, idle transaction on items",
                subprocess_change([*runner, str(change_set)]),
                blocked=True,
            ),
            Scenario(
                "c",
                "flask db upgrade, idle transaction on items",
                subprocess_change([*stock, str(change_set)]),
                blocked=True,
            ),
            backfill_scenario("e", "batched backfill (safe.backfill_in_batches)", batched, BATCHED_BACKFILL),
            backfill_scenario("f", "single UPDATE", single, SINGLE_UPDATE_BACKFILL),
        ]
        # One web process for every scenario, as in production it outlives the release.
        app = Server(server.set(database=RUN_DB), size.web_workers)
        try:
            for scenario in scenarios:
                print(f"scenario {scenario.name}: {scenario.label} ...", flush=True)
                results.append(run_scenario(scenario, app=app, server=server, size=size, tokens=tokens))
            print("scenario d: no-op release ...", flush=True)
            env = {"DATABASE_URL": server.set(database=SEED_DB).render_as_string(hide_password=False)}
            noop = measure_noop(size.noop_runs, env, at_head=True)  # seed() migrated it
        finally:
            app.stop()
            drop_database(server, RUN_DB)
            drop_database(server, SEED_DB)
    print(report(results, noop, size, LOCK_TIMEOUT_MS, args.out))
    plot(results, args.out)
    print(f"written to {args.out} in {time.monotonic() - started:.0f} s")
    return 0 if all(r.outcome.get("ok") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
