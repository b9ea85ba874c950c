"""`flask db compat` as a gate: how long the proof takes on its corpus, and what it catches.

The corpus (tests/safemigrate/compat/corpus.py) holds revisions that break the previous release and
revisions that do not. Each is proved as the gate proves it (safemigrate.compat.proof.prove): a
scratch database cloned from one at the base revision, upgraded to the case's revision, the previous
release's mappers probed before and after. The proofs run in two worker processes (the machine's two
cores); the report gives the wall time of the whole corpus, what the proof caught and flagged, and
what the ledger's static verdict said of the same revisions.

    python -m bench.compat_gate [--workers 2] [--out bench/results]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import database_server  # noqa: E402
from config import MIGRATIONS_DIR, PROJECT_ROOT  # noqa: E402
from safemigrate.compat.previous import find_previous  # noqa: E402
from safemigrate.compat.proof import prove  # noqa: E402
from safemigrate.scratch import create_database, drop_database  # noqa: E402
from safemigrate.state import alembic_config  # noqa: E402
from tests.safemigrate.compat.corpus import BASE_REVISION, BASE_UPGRADE, BREAKING, EXTRA_MODELS, SAFE  # noqa: E402
from tests.support.planting import plant  # noqa: E402

CASE = "cpcase000001"
MODELS = Path("app/models.py")


def build_previous(folder: Path) -> Path:
    root = folder / "previous"
    (root / "app").mkdir(parents=True)
    (root / "app" / "models.py").write_text((PROJECT_ROOT / MODELS).read_text() + EXTRA_MODELS)
    shutil.copytree(MIGRATIONS_DIR, root / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    plant(root / "migrations", BASE_REVISION, BASE_UPGRADE, message="compat corpus base")
    return root


def one(job: tuple) -> tuple[str, bool, bool, bool | None, float]:
    """(case, breaks, caught, static keeps, seconds) for one case, in a worker process."""
    name, upgrade, breaks, server, previous_root, template, folder = job
    started = time.monotonic()
    directory = Path(folder) / name / "migrations"
    shutil.copytree(Path(previous_root) / "migrations", directory)
    plant(directory, CASE, upgrade, down_revision=BASE_REVISION, message=name)
    previous = find_previous(
        str(previous_root), Path(previous_root), MODELS, Path("migrations"), folder=Path(folder)
    )
    proof = prove(sa.engine.make_url(server), ScriptDirectory(str(directory)), previous, template=template)
    return name, breaks, not proof.compatible, proof.static.get(CASE), time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a few cases only")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    cases = BREAKING + SAFE
    if args.quick:
        cases = BREAKING[:3] + SAFE[:3]
    with database_server() as server, tempfile.TemporaryDirectory(prefix="compat-gate-") as folder:
        previous_root = build_previous(Path(folder))
        template = "compat_gate_base"
        create_database(server, template)
        engine = sa.create_engine(server.set(database=template))
        with engine.connect() as connection:
            command.upgrade(alembic_config(connection, directory=previous_root / "migrations"), BASE_REVISION)
        engine.dispose()
        rendered = server.render_as_string(hide_password=False)
        jobs = [(c.name, c.upgrade, c.breaks, rendered, str(previous_root), template, folder) for c in cases]
        started = time.monotonic()
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            results = list(pool.map(one, jobs))
        wall = time.monotonic() - started
        drop_database(server, template)
    breaking = [r for r in results if r[1]]
    safe = [r for r in results if not r[1]]
    caught = sum(1 for r in breaking if r[2])
    flagged = sum(1 for r in safe if r[2])
    static_caught = sum(1 for r in breaking if r[3] is False)
    static_flagged = sum(1 for r in safe if r[3] is False)
    slowest = max(results, key=lambda r: r[4])
    lines = [
        f"{len(results)} revisions ({len(breaking)} that break the previous release, {len(safe)} that do "
        f"not), proved in {args.workers} worker processes:",
        "",
        "| | breaking revisions caught | safe revisions flagged | wall time |",
        "|---|---|---|---|",
        f"| `flask db compat` (the proof) | {caught} of {len(breaking)} | {flagged} of {len(safe)} "
        f"| {wall:.1f} s |",
        "| the ledger's static verdict (safemigrate/review/compat.py) "
        f"| {static_caught} of {len(breaking)} | "
        f"{static_flagged} of {len(safe)} | (recorded as each revision is applied) |",
        "",
        f"Slowest single proof: {slowest[0]}, {slowest[4]:.1f} s (scratch database cloned, one revision, "
        "two probes of every mapper).",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "compat_gate.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if caught == len(breaking) and flagged == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
