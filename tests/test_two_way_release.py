"""Issue #22's proof, driven as a platform drives it: release N's gunicorn serving under open-loop load,
N+1's release phase, both serving, N stopped, a rollback (N's release phase, then N serving again) and
forward again. Each release is a copy of the project; each release phase is `python run_migration.py`
in its folder, a new process. The sequence is bench/two_way.py's, the one `make bench` reports at a
larger load; here it is small and the outcomes are asserted."""

from __future__ import annotations

import sqlalchemy as sa

from bench import two_way
from bench.openloop import summary
from bench.seeding import add_rows
from bench.two_way import NEXT, N
from tests.support.cli_helpers import environment
from tests.support.planting import HEAD
from tests.support.project_copy import copy_project
from tests.support.release_helpers import version_rows

SIZE = two_way.QUICK
AHEAD = "database is 1 revision(s) ahead of this code; all of them keep this release working"


def drive(sequence, database_url, engine, tmp_path, make_next) -> tuple[two_way.Run, str]:
    """Release N (the project) and N+1 (make_next's copy of it) through `sequence`, on a database at
    N's head holding a few users and items."""
    add_rows(engine, SIZE.items, SIZE.users)
    following = copy_project(tmp_path / "next")
    revision = make_next(following)
    releases = {N: copy_project(tmp_path / "n"), NEXT: following}
    with two_way.Platform(database_url, releases, SIZE, environ=environment()) as platform:
        return sequence(platform), revision


def served(run: two_way.Run) -> dict[tuple[str, str], tuple[bool, int]]:
    """(phase, release): (whether it answered requests, how many failed)."""
    return {
        (phase.name, release): (summary(samples)["n"] > 0, summary(samples)["failed"])
        for phase in run.phases
        for release, samples in phase.samples.items()
    }


def release_phases(run: two_way.Run) -> list[tuple[str, str, int]]:
    return [(p.name, p.release_phase.release, p.release_phase.code) for p in run.phases if p.release_phase]


def test_an_expand_only_release_keeps_both_releases_serving_through_a_rollback(
    database_url, engine, tmp_path
):
    run, revision = drive(two_way.two_way, database_url, engine, tmp_path, two_way.make_next_release)

    assert served(run) == {
        ("1. N serves", N): (True, 0),
        ("2. N+1's release phase", N): (True, 0),
        ("3. N and N+1 serve", N): (True, 0),
        ("3. N and N+1 serve", NEXT): (True, 0),
        ("4. N stopped, N+1 serves", NEXT): (True, 0),
        ("5. rollback: N's release phase", NEXT): (True, 0),
        ("6. rollback: N serves again, N+1 stopped", N): (True, 0),
        ("6. rollback: N serves again, N+1 stopped", NEXT): (True, 0),
        ("7. forward: N+1's release phase", N): (True, 0),
    }
    assert release_phases(run) == [
        ("2. N+1's release phase", NEXT, 0),
        ("5. rollback: N's release phase", N, 0),
        ("7. forward: N+1's release phase", NEXT, 0),
    ]
    rollback = run.phase("5. rollback: N's release phase").release_phase
    assert AHEAD in rollback.stderr
    assert (rollback.lines("ERROR"), rollback.wrote) == ([], False)
    ready_ahead = (200, {"status": "ready", "revision": revision, "head": HEAD, "ahead": 1})
    at_head = (200, {"status": "ready", "revision": revision, "head": revision})
    assert run.phase("3. N and N+1 serve").readyz == {N: ready_ahead, NEXT: at_head}
    assert run.phase("6. rollback: N serves again, N+1 stopped").readyz == {N: ready_ahead}
    assert run.phase("7. forward: N+1's release phase").readyz == {N: ready_ahead}
    assert version_rows(engine) == [revision]
    with engine.connect() as connection:  # N+1 wrote its column; N then served the rows (phase 6-7)
        notes = connection.execute(sa.text("SELECT count(*) FROM items WHERE note = :n"), {"n": two_way.NOTE})
        assert notes.scalar_one() > 0

    table = two_way.report([run], SIZE, tmp_path)
    rows = [line.split(" | ")[0][2:] for line in table.splitlines() if line.startswith("| ")]
    assert rows == ["phase", "---"] + [phase.name for phase in run.phases]


def test_a_rollback_over_a_revision_that_breaks_n_is_refused_in_one_line(database_url, engine, tmp_path):
    run, revision = drive(two_way.breaking, database_url, engine, tmp_path, two_way.make_breaking_release)

    assert release_phases(run) == [
        ("2. N+1's release phase", NEXT, 0),
        ("3. rollback: N stopped, N's release phase", N, 6),
    ]
    n_before, n_after = (run.phase(name).samples[N] for name in ("1. N serves", "2. N+1's release phase"))
    assert summary(n_before)["failed"] == 0
    # Once the column is gone N's requests fail: the load sees a revision that breaks N.
    assert summary(n_after)["failed"] > 0
    status, body = run.phase("2. N+1's release phase").readyz[N]
    assert (status, body["ahead"]) == (503, 1)

    rollback = run.phase("3. rollback: N stopped, N's release phase").release_phase
    assert rollback.lines("ERROR") == [
        f"the database is 1 revision(s) ahead of this code, and revision {revision} breaks this release: it "
        f"drops column items.{two_way.BROKEN_COLUMN}, which the previous release still reads and writes; "
        f"deploy a release that has {revision}, or downgrade the database to {HEAD} with the newer code first"
    ]
    assert "Traceback" not in rollback.stderr
    assert rollback.wrote is False
    assert version_rows(engine) == [revision]
