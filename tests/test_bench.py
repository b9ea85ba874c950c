"""The benchmark's smoke size runs in `make test`, so it cannot silently rot. It asserts that the
benchmark works and reports, not its numbers: speed goals live in `make bench`."""

import re
import sys
from datetime import UTC, datetime

from bench.migration_load import QUICK
from tests.support.cli_helpers import run


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
    from bench.change_set import REVISIONS, plant_change_set
    from config import MIGRATIONS_DIR
    from safemigrate.review.newfiles import MigrationLinter

    linter = MigrationLinter(plant_change_set(MIGRATIONS_DIR, tmp_path / "migrations"))
    reports = linter.lint([linter.scripts.get_revision(revision) for revision, *_ in REVISIONS])
    assert {r.script.revision: [f.rule for f in r.errors] for r in reports} == {
        revision: [] for revision, *_ in REVISIONS
    }


def test_history_checks_benchmark_runs_and_reports(server_url, tmp_path, monkeypatch):
    from bench import history_tests

    monkeypatch.setenv("DATABASE_URL", server_url.render_as_string(hide_password=False))
    assert history_tests.main(["--count", "4", "--samples", "2", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "history_tests.md").read_text()
    assert re.search(
        r"^\| stairway .*\| \d+ s \(extrapolated from #1: .*\| [\d.]+ s \(one walk\) \|$", table, re.M
    )
    assert table.count("| pytest-alembic: ") == 3, table


def test_make_bench_rewrites_only_the_marked_readme_section(tmp_path, monkeypatch):
    from bench import run_all

    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nintro\n\n{run_all.BEGIN}\nold numbers\n{run_all.END}\n\n## Next\n")
    results = tmp_path / "results"
    results.mkdir()
    (results / "history_tests.md").write_text("| check | before | now |\n")
    monkeypatch.setattr(run_all, "README", readme)
    monkeypatch.setattr(run_all, "RESULTS", results)

    run_all.rewrite_readme(run_all.section({"history_tests": (True, 12.0)}, datetime.now(UTC), ("1", "2")))
    text = readme.read_text()
    assert text.startswith("# Title\n\nintro\n\n") and text.endswith("\n\n## Next\n")
    assert "old numbers" not in text and "| check | before | now |" in text
    assert "Last run: " in text and "load average" in text


def test_the_readme_says_whether_the_machine_was_quiet(monkeypatch):
    from bench import run_all

    monkeypatch.setattr(run_all.os, "cpu_count", lambda: 2)
    assert "nothing else of note ran" in run_all.load_verdict(("0.8 / 1.6 / 1.6", "1.0 / 1.5 / 1.7"))
    assert "pessimistic" in run_all.load_verdict(("0.8 / 1.6 / 1.6", "6.5 / 3.0 / 2.0"))
    assert run_all.load_verdict(("unknown", "unknown")) == "load unknown"
