"""The backfill comparison: safe.backfill_in_batches against one UPDATE of the same rows.

Each is a revision planted on a copy of migrations/ (bench.change_set): the nullable column is
added before the load starts, then the backfill revision alone is applied under load, in this
process on one connection (Alembic on a parsed script directory, exactly as the runner applies a
revision), so its duration is the backfill's own. Rows/s is the rows it filled over that time; the
worst stall it causes to concurrent writers is read off the load's create and update requests.

`make bench` runs it inside bench/migration_load.py (scenarios e and f). On its own, the same two
scenarios under the same load, and the ratio the helper reaches of the single UPDATE's rows/s:

    python -m bench.backfill              # 1,000,000 items (a few minutes on 2 cores)
    python -m bench.backfill --quick      # a smoke run
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from dataclasses import replace
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


def main() -> int:
    # Imported here: bench.migration_load imports this module.
    from bench import migration_load as load
    from bench.change_set import BATCHED_BACKFILL, SINGLE_UPDATE_BACKFILL, plant_change_set
    from bench.load_report import backfill_table
    from bench.seeding import seed, server_url
    from bench.web import SECRET, Server
    from config import MIGRATIONS_DIR
    from safemigrate.scratch import create_database, drop_database

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a small, fast run (smoke test)")
    parser.add_argument("--items", type=int, help="number of items to seed")
    parser.add_argument("--rate", type=float, help="requests per second")
    args = parser.parse_args()
    # The helper's own account of each backfill: its batches, and the longest one (row locks held).
    logging.basicConfig(format="  %(message)s")
    logging.getLogger("safemigrate.safe").setLevel(logging.INFO)
    size = replace(load.QUICK if args.quick else load.FULL)
    size.items = args.items or size.items
    size.rate = args.rate or size.rate

    from itsdangerous import URLSafeTimedSerializer

    from app.api.auth import TOKEN_SALT

    server = server_url()
    print(f"seeding {size.items:,} items ...", flush=True)
    drop_database(server, load.SEED_DB)
    create_database(server, load.SEED_DB)
    seed(server.set(database=load.SEED_DB), size.items, size.users)
    signer = URLSafeTimedSerializer(SECRET, salt=TOKEN_SALT)
    tokens = {user: signer.dumps({"sub": user, "ver": 0}) for user in range(1, min(size.users, 20) + 1)}
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as folder:
        batched = plant_change_set(MIGRATIONS_DIR, Path(folder) / "batched", BATCHED_BACKFILL)
        single = plant_change_set(MIGRATIONS_DIR, Path(folder) / "single", SINGLE_UPDATE_BACKFILL)
        scenarios = [
            load.backfill_scenario(
                "e", "batched backfill (safe.backfill_in_batches)", batched, BATCHED_BACKFILL
            ),
            load.backfill_scenario("f", "single UPDATE", single, SINGLE_UPDATE_BACKFILL),
        ]
        app = Server(server.set(database=load.RUN_DB), size.web_workers)
        try:
            for scenario in scenarios:
                print(f"scenario {scenario.name}: {scenario.label} ...", flush=True)
                results.append(load.run_scenario(scenario, app=app, server=server, size=size, tokens=tokens))
        finally:
            app.stop()
            drop_database(server, load.RUN_DB)
            drop_database(server, load.SEED_DB)
    print("\n".join(backfill_table(results)))
    batched_rate, single_rate = (r.outcome["rows"] / r.outcome["seconds"] for r in results)
    print(f"batched / single UPDATE rows/s: {batched_rate / single_rate:.2f} (target >= 0.7)")
    return 0 if all(r.outcome.get("ok") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
