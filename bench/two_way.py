"""Releases in both directions, driven as a platform drives them, under open-loop load.

Release N is a copy of the project; release N+1 a copy with one more revision, expand-only (a nullable
`note` on items), whose models and API use it. Each release serves with real gunicorn on 127.0.0.1
(bench/web.py) under an open-loop load of its own request mix (bench/openloop.py), and each release
phase is `python run_migration.py` in that release's folder, a new process, as the Procfile's release
line runs it. The sequence is Heroku's for a release, a `heroku rollback`, then promoting N+1 again:

  1 N serves
  2 N+1's release phase, N serving
  3 N+1 starts: both serve (the overlap; N's /readyz is 200, "ahead": 1)
  4 N stopped: N+1 serves
  5 rollback: N's release phase, N+1 serving
  6 rollback: N serves again, N+1 stopped
  7 forward: N+1's release phase, N serving

Then the same start with a revision that breaks N (it drops a column N reads): N's requests fail from
the moment it is applied, and on the rollback N's release phase exits 6 in one line naming it, writing
nothing. Reports per phase each release's requests, failures and worst latency, each release phase's
exit code and each serving release's /readyz. tests/test_two_way_release.py drives it small in
`make test` and asserts the outcomes; `python -m bench.two_way` (in `make bench`) drives it at a larger
load and writes bench/results/two_way.md. Targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from app.api.auth import TOKEN_SALT
from bench.history import REVISION_TEMPLATE
from bench.openloop import OpenLoad, Sample, Send, summary
from bench.seeding import add_rows, item_ids, server_url
from bench.web import SECRET, Server, request
from safemigrate.ledger.recorder import TABLE as LEDGER
from safemigrate.scratch import create_database, drop_database
from safemigrate.state import script_directory

ROOT = Path(__file__).resolve().parent.parent
N, NEXT = "N", "N+1"
MIX = "55% list, 25% get, 15% create, 5% update"
NOTE = "written by N+1"
# A new revision of its own: the revision ids stay clear of the project's history (12 hex digits).
NOTE_REVISION, BREAKING_REVISION = "7e0a2b4c6d81", "7e0a2b4c6d82"
BROKEN_COLUMN = "internal_description"  # every query N makes of items reads it


@dataclass(frozen=True)
class Size:
    users: int
    items: int
    rate: float  # requests per second scheduled to each serving release (open loop)
    dwell: float  # seconds each phase keeps its load beyond the work it waits for
    web_workers: int
    senders: int  # threads sending each release's requests
    limit: float = 600  # no load runs longer: at most rate x limit requests per release served


FULL = Size(users=20, items=100_000, rate=40, dwell=10, web_workers=2, senders=32)
QUICK = Size(users=3, items=60, rate=12, dwell=0.6, web_workers=1, senders=6, limit=120)


# -- the two releases' code ------------------------------------------------------------------------

# Bytecode comes along (copytree keeps file times, so it stays valid), as a deployment has it compiled
# (`make bench` compiles first); the files make_next_release edits grow, so Python compiles those again.
_NOT_CODE = shutil.ignore_patterns(".venv", ".git", "instance", "tests", "bench", ".*_cache")


def copy_release(destination: Path, source: Path = ROOT) -> Path:
    """The project's code as a release ships it (no virtualenv, tests, benchmarks or local data)."""
    shutil.copytree(source, destination, ignore=_NOT_CODE)
    return destination


def _revision(root: Path, revision: str, message: str, upgrade: str, downgrade: str) -> None:
    head = _head(root)
    name = f"29990101_0000_{revision}_{message.replace(' ', '_')}.py"  # after every real one
    (root / "migrations" / "versions" / name).write_text(
        REVISION_TEMPLATE.format(
            message=message, revision=revision, down=head, upgrade=upgrade, downgrade=downgrade
        )
    )


def _head(root: Path) -> str:
    return script_directory(root / "migrations").get_current_head()


def _edit(path: Path, anchor: str, added: str) -> None:
    """Add `added` after every `anchor` line; the anchor must be there (the app was refactored otherwise,
    and N+1 would silently be N)."""
    text = path.read_text()
    if anchor not in text:
        raise SystemExit(f"{path}: {anchor.strip()!r} not found; update bench/two_way.py")
    path.write_text(text.replace(anchor, anchor + added))


def make_next_release(root: Path) -> str:
    """Turn the copy at `root` into N+1: a revision adding items.note, and models and API using it."""
    _revision(
        root,
        NOTE_REVISION,
        "add note to items",
        'op.add_column("items", sa.Column("note", sa.Text(), nullable=True), if_not_exists=True)',
        'op.drop_column("items", "note")',
    )
    app = root / "app"
    _edit(
        app / "models.py",
        "    internal_description: Mapped[str | None] = mapped_column(sa.Text)\n",
        "    note: Mapped[str | None] = mapped_column(sa.Text)\n",
    )
    writable = "    internal_description = Text(max_length=DESCRIPTION_MAX, allow_none=True)\n"
    _edit(
        app / "api" / "schemas.py", writable, "    note = Text(max_length=DESCRIPTION_MAX, allow_none=True)\n"
    )
    _edit(
        app / "api" / "schemas.py",
        "    description = fields.String(allow_none=True)\n",
        "    note = fields.String(allow_none=True)\n",
    )
    return NOTE_REVISION


def make_breaking_release(root: Path) -> str:
    """Turn the copy at `root` into a release whose revision drops a column N reads."""
    _revision(
        root,
        BREAKING_REVISION,
        f"drop {BROKEN_COLUMN}",
        f'op.drop_column("items", "{BROKEN_COLUMN}")',
        f'op.add_column("items", sa.Column("{BROKEN_COLUMN}", sa.Text(), nullable=True))',
    )
    return BREAKING_REVISION


# -- load ------------------------------------------------------------------------------------------


def tokens_for(owners) -> dict[int, str]:
    signer = URLSafeTimedSerializer(SECRET, salt=TOKEN_SALT)
    return {owner: signer.dumps({"sub": owner, "ver": 0}) for owner in owners}


def release_mix(port: int, ids: dict[int, list[int]], *, uses_note: bool) -> Send:
    """One request of the mix per call, as a random user. It succeeds when answered with the status the
    API promises (200, or 201 for a create) and each item it returns has `note` exactly when the
    release knows it: N+1 writes it, N answers as it always did on rows N+1 wrote."""
    tokens = tokens_for(ids)
    owners = list(ids)

    def send(rng: random.Random) -> tuple[str, bool]:
        owner = rng.choice(owners)
        one_item = f"/api/v1/items/{rng.choice(ids[owner])}"
        extra = {"note": NOTE} if uses_note else {}
        roll = rng.random()
        if roll < 0.55:
            kind, method, path, body, expected = "list", "GET", "/api/v1/items?limit=20", None, 200
        elif roll < 0.80:
            kind, method, path, body, expected = "get", "GET", one_item, None, 200
        elif roll < 0.95:
            kind, method, path, expected = "create", "POST", "/api/v1/items", 201
            body = {"title": "load", "description": "written under load", **extra}
        else:
            kind, method, path, expected = "update", "PATCH", one_item, 200
            body = {"title": "patched under load", **extra}
        status, answer = request(port, method, path, body, tokens[owner])
        if status != expected:
            return kind, False
        found = json.loads(answer)
        items = found["items"] if kind == "list" else [found]
        ok = all(("note" in item) == uses_note for item in items)
        if uses_note and kind in ("create", "update"):
            ok = ok and found["note"] == NOTE
        return kind, ok

    return send


# -- the platform ----------------------------------------------------------------------------------


@dataclass
class ReleasePhase:
    """One `python run_migration.py` of a release: its exit code, its log, whether it changed anything."""

    release: str
    code: int
    stderr: str
    seconds: float
    wrote: bool  # alembic_version, the ledger or the schema differ after it

    def lines(self, level: str) -> list[str]:
        """The messages logged at `level` (the runner logs `<time> <LEVEL> <message>`)."""
        marker = f" {level} "
        return [line.split(marker, 1)[1] for line in self.stderr.splitlines() if marker in line]


@dataclass
class Phase:
    name: str
    started: float
    ended: float = float("inf")
    release_phase: ReleasePhase | None = None
    readyz: dict[str, tuple[int, dict]] = field(default_factory=dict)  # at its end, per serving release
    samples: dict[str, list[Sample]] = field(default_factory=dict)  # by due time, per release


@dataclass
class Run:
    title: str
    phases: list[Phase]

    def phase(self, name: str) -> Phase:
        return next(p for p in self.phases if p.name == name)


def snapshot(url: sa.URL) -> tuple:
    """What a release phase may write: the revision, the ledger, the schema (not the app's rows)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
            ledger = connection.execute(sa.text(f"SELECT * FROM {LEDGER} ORDER BY id")).all()
            schema = [
                (table, column["name"], str(column["type"]), column["nullable"])
                for table in sorted(inspector.get_table_names())
                for column in inspector.get_columns(table)
            ]
    finally:
        engine.dispose()
    return sorted(versions), ledger, schema


class Platform:
    """Starts and stops each release's gunicorn, sends it load while it serves, runs its release phase,
    and records every request, release phase and readiness answer in the phase where it happened."""

    def __init__(
        self,
        url: sa.URL,
        releases: Mapping[str, Path],
        size: Size,
        environ: Mapping[str, str] | None = None,
    ):
        self.url, self.releases, self.size = url, dict(releases), size
        self.environ = {
            **(os.environ if environ is None else environ),
            "APP_ENV": "production",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": url.render_as_string(hide_password=False),
        }
        self.ids = item_ids(url, size.users)
        self.servers: dict[str, Server] = {}
        self.loads: dict[str, OpenLoad] = {}
        self.samples: dict[str, list[Sample]] = {name: [] for name in releases}
        self.phases: list[Phase] = []

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *exc) -> None:
        for name in list(self.servers):
            self.stop(name)
        self._close_phase()

    def phase(self, name: str) -> None:
        self._close_phase()
        self.phases.append(Phase(name, time.monotonic()))

    def _close_phase(self) -> None:
        if not self.phases or self.phases[-1].ended != float("inf"):
            return
        current = self.phases[-1]
        for name, server in self.servers.items():
            status, body = request(server.port, "GET", "/readyz")
            current.readyz[name] = (status, json.loads(body))
        current.ended = time.monotonic()

    def serve(self, name: str) -> None:
        """Start the release's gunicorn, then send it its load."""
        root = self.releases[name]
        server = Server(
            self.url, self.size.web_workers, root=root, environ=self.environ, log=root / "web.log"
        )
        self.servers[name] = server
        send = release_mix(server.port, self.ids, uses_note=name == NEXT)
        seed = len(self.phases) * 10 + list(self.releases).index(name)
        load = OpenLoad(send, self.size.rate, self.size.limit, senders=self.size.senders, seed=seed)
        self.loads[name] = load.__enter__()

    def stop(self, name: str) -> None:
        """Stop routing to the release (its requests in flight finish), then stop its gunicorn."""
        load = self.loads.pop(name)
        load.__exit__(None, None, None)
        self.samples[name] += load.samples
        self.servers.pop(name).stop()

    def release_phase(self, name: str) -> ReleasePhase:
        before = snapshot(self.url)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "run_migration.py"],
            cwd=self.releases[name],
            env=self.environ,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        result = ReleasePhase(
            name, done.returncode, done.stderr, time.monotonic() - started, snapshot(self.url) != before
        )
        self.phases[-1].release_phase = result
        return result

    def dwell(self) -> None:
        time.sleep(self.size.dwell)

    def run(self, title: str) -> Run:
        """Ends the sequence (the releases still serving are stopped): its phases, each with the
        requests that were due during it."""
        self._close_phase()
        for name in list(self.servers):
            self.stop(name)
        for phase in self.phases:
            for name, samples in self.samples.items():
                due = [s for s in samples if phase.started <= s.due < phase.ended]
                if due:
                    phase.samples[name] = due
        return Run(title, self.phases)


def two_way(platform: Platform) -> Run:
    """Release, overlap, rollback, forward again: the sequence of the module's docstring."""
    p = platform
    p.phase("1. N serves")
    p.serve(N)
    p.dwell()
    p.phase("2. N+1's release phase")
    p.release_phase(NEXT)
    p.phase("3. N and N+1 serve")
    p.serve(NEXT)
    p.dwell()
    p.phase("4. N stopped, N+1 serves")
    p.stop(N)
    p.dwell()
    p.phase("5. rollback: N's release phase")
    p.release_phase(N)
    p.phase("6. rollback: N serves again, N+1 stopped")
    p.serve(N)
    p.stop(NEXT)
    p.dwell()
    p.phase("7. forward: N+1's release phase")
    p.release_phase(NEXT)
    return p.run("an expand-only revision (adds a nullable items.note, which N+1 reads and writes)")


def breaking(platform: Platform) -> Run:
    """The same start with a revision that breaks N; the rollback must be refused."""
    p = platform
    p.phase("1. N serves")
    p.serve(N)
    p.dwell()
    p.phase("2. N+1's release phase")
    p.release_phase(NEXT)
    p.dwell()  # N's requests now fail: the load sees a breaking revision
    p.phase("3. rollback: N stopped, N's release phase")
    p.stop(N)
    p.release_phase(N)
    return p.run(f"a revision that breaks N (drops items.{BROKEN_COLUMN}, which N reads)")


# -- the report ------------------------------------------------------------------------------------


def _load(samples: list[Sample] | None) -> str:
    if not samples:
        return "-"
    stats = summary(samples)
    return f"{stats['n']} / {stats['failed']} / {stats['max']:.0f}"


def _readyz(answer: tuple[int, dict] | None) -> str:
    if answer is None:
        return "-"
    status, body = answer
    return f"{status}" + (f", ahead {body['ahead']}" if "ahead" in body else "")


def _release_phase(result: ReleasePhase | None) -> str:
    if result is None:
        return ""
    wrote = "" if result.wrote else ", wrote nothing"
    return f"{result.release}'s: exit {result.code} ({result.seconds:.1f} s{wrote})"


def table(run: Run) -> list[str]:
    lines = [
        f"**{run.title[0].upper()}{run.title[1:]}**",
        "",
        "| phase | release phase | N: requests / failed / worst ms | N+1: requests / failed / worst ms "
        "| N's /readyz | N+1's /readyz |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for phase in run.phases:
        lines.append(
            f"| {phase.name} | {_release_phase(phase.release_phase)} | {_load(phase.samples.get(N))} "
            f"| {_load(phase.samples.get(NEXT))} | {_readyz(phase.readyz.get(N))} "
            f"| {_readyz(phase.readyz.get(NEXT))} |"
        )
    for phase in run.phases:
        refused = phase.release_phase and phase.release_phase.code and phase.release_phase.lines("ERROR")
        if refused:
            lines += ["", f"{phase.name}: `{refused[-1]}`"]
    return lines


def report(runs: list[Run], size: Size, out: Path) -> str:
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    text = "\n".join(
        [
            f"Open-loop load: {size.rate:g} requests/s scheduled to each serving release ({MIX}; N+1's "
            f"writes set items.note), gunicorn ({size.web_workers} worker(s)) on {size.items:,} items; "
            "each release phase is `python run_migration.py` from that release's folder, a new process; "
            f"latency in ms from each request's scheduled time. Ran "
            f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load average (1 / 5 / 15 min) "
            f"{load} at the end.",
            "",
        ]
        + [line for run in runs for line in [*table(run), ""]]
    ).strip()
    (out / "two_way.md").write_text(text + "\n")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a small, fast run (smoke test)")
    parser.add_argument("--rate", type=float, help="requests per second to each serving release")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where results go")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    size = replace(size, rate=args.rate or size.rate)
    args.out.mkdir(parents=True, exist_ok=True)
    server = server_url()
    started = time.monotonic()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-two-way-") as folder:
        n = copy_release(Path(folder) / "n")
        sequences: list[tuple[str, Callable[[Platform], Run], Callable[[Path], str]]] = [
            ("bench_two_way", two_way, make_next_release),
            ("bench_two_way_breaking", breaking, make_breaking_release),
        ]
        for database, sequence, make_next in sequences:
            next_root = copy_release(Path(folder) / database)
            make_next(next_root)
            drop_database(server, database)
            create_database(server, database)
            url = server.set(database=database)
            try:
                print(f"{sequence.__name__}: migrating and seeding {size.items:,} items ...", flush=True)
                _first_release(url, n)
                engine = sa.create_engine(url)
                add_rows(engine, size.items, size.users)
                engine.dispose()
                with Platform(url, {N: n, NEXT: next_root}, size) as platform:
                    runs.append(sequence(platform))
            finally:
                drop_database(server, database)
    print(report(runs, size, args.out))
    print(f"written to {args.out} in {time.monotonic() - started:.0f} s")
    return 0 if expected(runs) else 1


def _first_release(url: sa.URL, root: Path) -> None:
    """Release N's first release phase on the empty database."""
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": SECRET}
    env["DATABASE_URL"] = url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "run_migration.py"], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"release N's first release phase failed:\n{done.stderr[-2000:]}")


def expected(runs: list[Run]) -> bool:
    """Whether each release phase ended as the sequence expects (exit 0, and 6 for the refused
    rollback over a breaking revision). Latencies are reported, not judged."""
    codes = [
        phase.release_phase.code for run in runs for phase in run.phases if phase.release_phase is not None
    ]
    return codes == [0, 0, 0, 0, 6][: len(codes)]


if __name__ == "__main__":
    sys.exit(main())
