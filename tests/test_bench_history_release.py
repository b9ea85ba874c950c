"""bench/history_release.py at a toy size, so it cannot silently rot (its numbers live in make bench)."""

from __future__ import annotations

from bench import history_release


def test_history_release_benchmark_runs_and_reports(server_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", server_url.render_as_string(hide_password=False))
    assert history_release.main(["--sizes", "2", "--runs", "1", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "history_release.md").read_text()
    row = next(line for line in report.splitlines() if line.startswith("| 2 |"))
    assert len(row.split("|")) == 8, report
