"""The benchmark's smoke size runs in `make test`, so it cannot silently rot. It asserts that the
benchmark works and reports, not its numbers: speed goals live in `make bench`."""

import re
import sys

from bench.migration_load import QUICK
from tests.cli_helpers import run


def test_quick_benchmark_runs_and_reports(server_url, tmp_path):
    result = run(
        [sys.executable, "bench/migration_load.py", "--quick", "--out", str(tmp_path)],
        database_url=server_url,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    table = (tmp_path / "migration_load.md").read_text()
    rows = re.findall(
        r"^\| ([abc]): [^|]*\| [^|]* \| (\d+) \| (\d+) \|(?: [^|]* \|){3} (\d+) \| (\d+) \|", table, re.M
    )
    assert [name for name, *_ in rows] == ["a", "b", "c"], table
    for _, requests, failed, over_250ms, over_1s in rows:
        assert int(requests) > 0 and int(failed) <= int(requests), table
        assert int(requests) >= int(over_250ms) >= int(over_1s), table
    backfills = re.findall(r"^\| ([ef]): [^|]*\| ([\d,]+) \| [\d.]+ s \| ([\d,]+) \|", table, re.M)
    assert [name for name, *_ in backfills] == ["e", "f"], table
    assert all(int(rows.replace(",", "")) >= QUICK.items for _, rows, _ in backfills), table
    assert "`python run_migration.py`" in table and "`flask db upgrade`" in table
    assert (tmp_path / "migration_load.png").stat().st_size > 10_000


def test_the_benchmark_change_set_passes_the_review(tmp_path):
    from app.schema.lint import MigrationLinter
    from app.schema.state import MIGRATIONS_DIR
    from bench.change_set import REVISIONS, plant_change_set

    linter = MigrationLinter(plant_change_set(MIGRATIONS_DIR, tmp_path / "migrations"))
    reports = linter.lint([linter.scripts.get_revision(revision) for revision, *_ in REVISIONS])
    assert {r.script.revision: [f.rule for f in r.errors] for r in reports} == {
        revision: [] for revision, *_ in REVISIONS
    }
