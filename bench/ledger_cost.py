"""What the ledger costs `flask db upgrade`: a long synthetic history applied in one run.

Builds `--count` synthetic revisions (bench/history.py), then times `flask db upgrade -d <copy>`
on a fresh database of a throwaway embedded server, once per size. Run it from any checkout to
compare (before the ledger: an older commit; after: this one):

    python -m bench.ledger_cost --count 100 250 500
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.history import build_history
from devdb.embedded import EmbeddedPostgres
from safemigrate.scratch import create_database

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")


def time_upgrade(server_url, directory: Path, name: str) -> float:
    create_database(server_url, name)
    url = server_url.set(database=name).render_as_string(hide_password=False)
    environ = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development"}
    started = time.perf_counter()
    subprocess.run(
        [FLASK, "db", "upgrade", "-d", str(directory)], cwd=ROOT, env=environ, check=True, capture_output=True
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, nargs="+", default=[100, 250, 500])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-cost-") as folder:
        server = EmbeddedPostgres(Path(folder) / "pgdata")
        server.start(database="postgres")
        try:
            print("| revisions | flask db upgrade (s) |\n| --- | --- |")
            for count in args.count:
                directory = build_history(Path(folder) / f"h{count}", count)
                seconds = time_upgrade(server.url("postgres"), directory, f"cost_{count}")
                print(f"| {count} | {seconds:.2f} |", flush=True)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
