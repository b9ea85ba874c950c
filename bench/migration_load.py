"""Zero-downtime benchmark: what a schema change costs live API traffic.

Seeds a database (default 1,000,000 items), serves the app with gunicorn on 127.0.0.1, drives a
steady mixed API load (bounded in time and count) and, in the middle of it, applies a realistic
change set (bench/change_set.py) in four scenarios, each on a fresh copy of the seeded database:

  a  run_migration.py
  b  run_migration.py while a session sits idle in a transaction on items
  c  stock `flask db upgrade`, same blocker as b
  d  no-op release: run_migration.py vs flask db upgrade on a database at head (wall time)

Reports failed requests and p50/p99/max latency before, during and after each migration window,
writes bench/results/migration_load.md and .png. Targets are reported, not asserted.

    python bench/migration_load.py            # the full run (a few minutes on 2 cores)
    python bench/migration_load.py --quick    # a smoke run; `make test` runs it
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer
from werkzeug.security import generate_password_hash

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.api.auth import TOKEN_SALT  # noqa: E402
from app.database_admin import create_database, drop_database  # noqa: E402
from app.schema.state import MIGRATIONS_DIR  # noqa: E402
from bench.change_set import plant_change_set  # noqa: E402
from bench.release_noop import measure_noop  # noqa: E402
from config import config_from_env, normalise_database_url  # noqa: E402

BIN = Path(sys.executable).parent
SECRET = "bench-secret"  # noqa: S105 (signs the benchmark's own throwaway tokens)
LOCK_TIMEOUT_MS = 200


@dataclass
class Size:
    items: int
    users: int
    rate: float  # requests per second, all load threads together
    before: float  # seconds of load measured before the migration starts
    after: float
    blocker: float  # how long the idle transaction holds its lock (scenarios b, c)
    noop_runs: int


FULL = Size(items=1_000_000, users=100, rate=80, before=5, after=5, blocker=5, noop_runs=5)
QUICK = Size(items=5_000, users=10, rate=40, before=1, after=1, blocker=2, noop_runs=2)


@dataclass
class Sample:
    at: float  # time.monotonic() when the request was sent
    latency: float
    ok: bool


@dataclass
class Result:
    name: str
    label: str
    samples: list[Sample] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    migration_ok: bool = True

    def window(self, which: str) -> list[Sample]:
        bounds = {
            "before": (float("-inf"), self.started),
            "during": (self.started, self.ended),
            "after": (self.ended, float("inf")),
        }[which]
        return [s for s in self.samples if bounds[0] <= s.at < bounds[1]]


# -- database ----------------------------------------------------------------------------------
def server_url() -> sa.URL:
    configured = config_from_env().SQLALCHEMY_DATABASE_URI
    if configured:
        return normalise_database_url(configured).set(database="postgres")
    from app.embedded_db import dev_server

    server = dev_server()
    server.start()
    return server.url("postgres")


def seed(server: sa.URL, name: str, size: Size) -> None:
    drop_database(server, name)
    create_database(server, name)
    url = server.set(database=name)
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)}
    subprocess.run([sys.executable, "run_migration.py"], cwd=ROOT, env=env, check=True, capture_output=True)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO users (email, password_hash, full_name) "
                "SELECT 'user' || n || '@bench.example', :hash, 'Bench ' || n "
                "FROM generate_series(1, :users) n"
            ),
            {"hash": generate_password_hash("bench password 1"), "users": size.users},
        )
        connection.execute(
            sa.text(
                "INSERT INTO items (title, description, owner_id, created_at, updated_at) "
                "SELECT 'item ' || n, CASE WHEN n % 10 = 0 THEN NULL ELSE 'description ' || n END, "
                "1 + n % :users, now() - n * interval '1 second', now() FROM generate_series(1, :items) n"
            ),
            {"users": size.users, "items": size.items},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


def item_ids(url: sa.URL, users: int) -> dict[int, list[int]]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT owner_id, (array_agg(id))[1:50] FROM items WHERE owner_id <= :n GROUP BY owner_id"
            ),
            {"n": users},
        ).all()
    engine.dispose()
    return {owner: ids for owner, ids in rows}


# -- the app under load --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, url: sa.URL):
        self.port = free_port()
        env = {
            **os.environ,
            "APP_ENV": "production",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "4",
        }
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if request(self.port, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def request(port: int, method: str, path: str, body=None, token: str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Load:
    """A steady mix of reads and writes from several threads; stops by itself at `max_seconds`."""

    THREADS = 8

    def __init__(
        self, port: int, tokens: dict[int, str], ids: dict[int, list[int]], rate: float, max_seconds: float
    ):
        self.port, self.tokens, self.ids = port, tokens, ids
        self.interval = self.THREADS / rate
        self.deadline = time.monotonic() + max_seconds
        self.max_requests = int(rate * max_seconds)
        self.samples: list[Sample] = []
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(self.THREADS)
        ]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def _one(self, rng: random.Random) -> tuple[str, str, dict | None, str]:
        owner = rng.choice(list(self.tokens))
        token = self.tokens[owner]
        roll = rng.random()
        if roll < 0.55:
            return "GET", "/api/v1/items?limit=20", None, token
        if roll < 0.80:
            return "GET", f"/api/v1/items/{rng.choice(self.ids[owner])}", None, token
        if roll < 0.95:
            return "POST", "/api/v1/items", {"title": "load", "description": "written under load"}, token
        return "PATCH", f"/api/v1/items/{rng.choice(self.ids[owner])}", {"title": "patched under load"}, token

    def _run(self, n: int) -> None:
        rng = random.Random(n)  # noqa: S311 (a repeatable request mix, not security)
        next_at = time.monotonic() + n * self.interval / self.THREADS
        while not self.stop_event.is_set() and time.monotonic() < self.deadline:
            with self.lock:
                if len(self.samples) >= self.max_requests:
                    return
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += self.interval
            method, path, body, token = self._one(rng)
            sent = time.monotonic()
            try:
                status = request(self.port, method, path, body, token)[0]
                ok = status < 500
            except OSError:
                ok = False
            with self.lock:
                self.samples.append(Sample(at=sent, latency=time.monotonic() - sent, ok=ok))


def hold_items_lock(url: sa.URL, seconds: float) -> threading.Thread:
    """An idle-in-transaction session that has read items: it holds ACCESS SHARE for `seconds`."""
    ready = threading.Event()

    def blocker():
        connection = psycopg2.connect(url.render_as_string(hide_password=False).replace("+psycopg2", ""))
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM items WHERE id = 1")
                ready.set()
                time.sleep(seconds)
            connection.rollback()
        finally:
            connection.close()

    thread = threading.Thread(target=blocker, daemon=True)
    thread.start()
    ready.wait(timeout=30)
    return thread


# -- scenarios ---------------------------------------------------------------------------------
def run_scenario(name, label, command, *, server, seed_db, directory, size, tokens, blocked) -> Result:
    db_name = f"bench_run_{name}"
    drop_database(server, db_name)
    create_database(server, db_name, template=seed_db)
    url = server.set(database=db_name)
    result = Result(name=name, label=label)
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)}
    app = Server(url)
    ids = item_ids(url, size.users)
    try:
        budget = size.before + size.after + 600  # the load stops by itself, whatever happens
        with Load(app.port, tokens, ids, size.rate, budget) as load:
            time.sleep(size.before)
            blocker = hold_items_lock(url, size.blocker) if blocked else None
            result.started = time.monotonic()
            migration = subprocess.run(
                [*command, str(directory)], cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
            result.ended = time.monotonic()
            result.migration_ok = migration.returncode == 0
            if not result.migration_ok:
                print(f"[{name}] migration failed:\n{migration.stderr[-2000:]}", file=sys.stderr)
            time.sleep(size.after)
            if blocker:
                blocker.join()
        result.samples = sorted(load.samples, key=lambda s: s.at)
    finally:
        app.stop()
        drop_database(server, db_name)
    return result


def stats(samples: list[Sample]) -> dict[str, float]:
    latencies = sorted(s.latency * 1000 for s in samples)
    if not latencies:
        return {"n": 0, "failed": 0, "p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    return {
        "n": len(latencies),
        "failed": sum(not s.ok for s in samples),
        "p50": statistics.median(latencies),
        "p99": p99,
        "max": latencies[-1],
    }


def report(results: list[Result], noop: dict[str, list[float]], size: Size, out: Path) -> str:
    lines = [
        f"Load: {size.rate:g} requests/s (55% list, 25% get, 15% create, 5% update) against gunicorn "
        f"(4 workers) on {size.items:,} items; lock_timeout {LOCK_TIMEOUT_MS} ms; "
        f"blocker: idle in transaction on items for {size.blocker:g} s. Latency in ms.",
        "",
        "| scenario | migration | requests | failed | before p50 / p99 / max | during p50 / p99 / max "
        "| after p50 / p99 / max | target met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        before, during, after = (stats(r.window(w)) for w in ("before", "during", "after"))
        failed = sum(not s.ok for s in r.samples)
        target = "n/a (stock)"
        if r.name in "ab":
            limit = before["p99"] + LOCK_TIMEOUT_MS + 100
            met = failed == 0 and during["max"] <= limit
            target = f"{'yes' if met else 'NO'} (max ≤ {limit:.0f})"
        status = f"{r.ended - r.started:.1f} s" + ("" if r.migration_ok else " (FAILED)")
        lines.append(
            f"| {r.name}: {r.label} | {status} | {len(r.samples)} | {failed} | "
            + " | ".join(f"{w['p50']:.0f} / {w['p99']:.0f} / {w['max']:.0f}" for w in (before, during, after))
            + f" | {target} |"
        )
    lines += ["", "d: no-op release (database at head), wall time in seconds:", ""]
    lines += ["| command | median | min | max |", "| --- | --- | --- | --- |"]
    for command, values in noop.items():
        lines.append(
            f"| `{command}` | {statistics.median(values):.3f} | {min(values):.3f} | {max(values):.3f} |"
        )
    text = "\n".join(lines) + "\n"
    (out / "migration_load.md").write_text(text)
    return text


def plot(results: list[Result], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(11, 5.5))
    for r, color in zip(results, ("tab:green", "tab:blue", "tab:red"), strict=False):
        xs = [s.at - r.started for s in r.samples]
        ys = [s.latency * 1000 for s in r.samples]
        axes.plot(xs, ys, ".", markersize=3, color=color, alpha=0.6)
        axes.plot([], [], "-", color=color, label=f"{r.name}: {r.label}")
        axes.axvspan(0, r.ended - r.started, color=color, alpha=0.08)
    axes.set_yscale("log")
    axes.set_xlabel("seconds since the migration started (shaded: each scenario's migration window)")
    axes.set_ylabel("request latency, ms (log)")
    axes.set_title("API latency while the schema changes")
    axes.legend(loc="upper right")
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(out / "migration_load.png", dpi=110)
    plt.close(figure)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a small, fast run (smoke test)")
    parser.add_argument("--items", type=int, help="number of items to seed")
    parser.add_argument("--rate", type=float, help="requests per second")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where results go")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    if args.items:
        size.items = args.items
    if args.rate:
        size.rate = args.rate
    args.out.mkdir(parents=True, exist_ok=True)

    server = server_url()
    seed_db = "bench_seed"
    started = time.monotonic()
    print(f"seeding {size.items:,} items ...", flush=True)
    seed(server, seed_db, size)
    signer = URLSafeTimedSerializer(SECRET, salt=TOKEN_SALT)
    tokens = {user: signer.dumps({"sub": user}) for user in range(1, min(size.users, 20) + 1)}
    runner = [sys.executable, "run_migration.py", f"--lock-timeout={LOCK_TIMEOUT_MS}", "--directory"]
    stock = [str(BIN / "flask"), "db", "upgrade", "-d"]
    scenarios = [
        ("a", "run_migration.py", runner, False),
        ("b", "run_migration.py, idle transaction on items", runner, True),
        ("c", "flask db upgrade, idle transaction on items", stock, True),
    ]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-migrations-") as folder:
        directory = plant_change_set(MIGRATIONS_DIR, Path(folder) / "migrations")
        try:
            for name, label, command, blocked in scenarios:
                print(f"scenario {name}: {label} ...", flush=True)
                results.append(
                    run_scenario(
                        name,
                        label,
                        command,
                        server=server,
                        seed_db=seed_db,
                        directory=directory,
                        size=size,
                        tokens=tokens,
                        blocked=blocked,
                    )
                )
            print("scenario d: no-op release ...", flush=True)
            env = {"DATABASE_URL": server.set(database=seed_db).render_as_string(hide_password=False)}
            noop = measure_noop(size.noop_runs, env)
        finally:
            drop_database(server, seed_db)
    print(report(results, noop, size, args.out))
    plot(results, args.out)
    print(f"written to {args.out} in {time.monotonic() - started:.0f} s")
    return 0 if all(r.migration_ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
