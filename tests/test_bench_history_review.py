"""bench/history_review.py at its smallest: it works and reports (speed goals live in the benchmark)."""

import re
import sys

from tests.support.cli_helpers import run


def test_history_review_benchmark_runs_and_reports(server_url, tmp_path):
    out = tmp_path / "history_review.md"
    result = run(
        [sys.executable, "-m", "bench.history_review", "--sizes", "4", "--runs", "1", "--out", str(out)],
        database_url=server_url,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = re.findall(
        r"^\| this code \| 4 \|" + r" ([\d.]+) s \([\d.]+ s CPU\) \|" * 4 + "$",
        out.read_text(),
        re.M,
    )
    assert len(rows) == 1, out.read_text()
    assert all(float(seconds) > 0 for seconds in rows[0])
