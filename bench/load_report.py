"""The load benchmark's tables (bench/results/migration_load.md) and plot (migration_load.png)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from bench.openloop import Sample, summary
from bench.web import MIX, WRITES

MIGRATIONS = "abc"
BACKFILLS = "ef"


@dataclass
class Result:
    name: str
    label: str
    samples: list[Sample] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    outcome: dict = field(default_factory=dict)

    def window(self, which: str) -> list[Sample]:
        """Requests by when they were due: before, during or after the change."""
        low, high = {
            "before": (float("-inf"), self.started),
            "during": (self.started, self.ended),
            "after": (self.ended, float("inf")),
        }[which]
        return [s for s in self.samples if low <= s.due < high]


def _latencies(stats: dict) -> str:
    return f"{stats['p50']:.0f} / {stats['p99']:.0f} / {stats['max']:.0f}" if stats["n"] else "-"


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0f} ms"


def migration_table(results: list[Result], lock_timeout_ms: int) -> list[str]:
    lines = [
        "| scenario | change | requests | failed | before p50 / p99 / max | during p50 / p99 / max "
        "| after p50 / p99 / max | delayed > 250 ms | delayed > 1 s | target met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in (r for r in results if r.name in MIGRATIONS):
        before, during, after = (summary(r.window(w)) for w in ("before", "during", "after"))
        total = summary(r.samples)
        target = "n/a (stock)"
        if r.name in "ab":
            limit = before["p99"] + lock_timeout_ms + 100
            met = total["failed"] == 0 and during["max"] <= limit
            target = f"{'yes' if met else 'NO'} (max ≤ {limit:.0f})"
        change = f"{r.ended - r.started:.1f} s" + ("" if r.outcome.get("ok") else " (FAILED)")
        lines.append(
            f"| {r.name}: {r.label} | {change} | {total['n']} | {total['failed']} | "
            f"{_latencies(before)} | {_latencies(during)} | {_latencies(after)} | "
            f"{total['over_0.25']} | {total['over_1']} | {target} |"
        )
    return lines


def backfill_table(results: list[Result]) -> list[str]:
    lines = [
        "| scenario | rows | time | rows/s | writes during | worst write stall | writes delayed > 250 ms "
        "| > 1 s | all requests delayed > 250 ms | > 1 s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in (r for r in results if r.name in BACKFILLS):
        writes = summary(s for s in r.window("during") if s.kind in WRITES)
        total = summary(r.samples)
        seconds, rows = r.outcome.get("seconds", float("nan")), r.outcome.get("rows", 0)
        lines.append(
            f"| {r.name}: {r.label} | {rows:,} | {seconds:.1f} s | {rows / seconds:,.0f} | {writes['n']} | "
            f"{_ms(writes['max'])} | {writes['over_0.25']} | {writes['over_1']} | "
            f"{total['over_0.25']} | {total['over_1']} |"
        )
    return lines


def report(results: list[Result], noop: dict[str, list[float]], size, lock_timeout_ms: int, out: Path) -> str:
    lines = [
        f"Open-loop load: {size.rate:g} requests/s scheduled ({MIX}) against gunicorn "
        f"({size.web_workers} workers) on {size.items:,} items; latency in ms from each request's "
        f"scheduled time; lock_timeout {lock_timeout_ms} ms; blocker: idle in transaction on items "
        f"for {size.blocker:g} s.",
        "",
        *migration_table(results, lock_timeout_ms),
        "",
        "Backfill of every item's new column under the same load: rows/s, and the worst latency of "
        "the creates and updates due while it ran.",
        "",
        *backfill_table(results),
        "",
        "d: no-op release (database at head), wall time in seconds:",
        "",
        "| command | median | min | max |",
        "| --- | --- | --- | --- |",
    ]
    for command, values in noop.items():
        lines.append(
            f"| `{command}` | {statistics.median(values):.3f} | {min(values):.3f} | {max(values):.3f} |"
        )
    text = "\n".join(lines) + "\n"
    (out / "migration_load.md").write_text(text)
    return text


COLORS = {"a": "tab:green", "b": "tab:blue", "c": "tab:red", "e": "tab:purple", "f": "tab:orange"}


def plot(results: list[Result], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(1, 2, figsize=(13, 5.5), sharey=True)
    for axes, names, title in (
        (panels[0], MIGRATIONS, "schema change"),
        (panels[1], BACKFILLS, "backfill of every row"),
    ):
        for r in (r for r in results if r.name in names):
            color = COLORS[r.name]
            xs = [s.due - r.started for s in r.samples]
            ys = [max(s.latency * 1000, 0.1) for s in r.samples]
            axes.plot(xs, ys, ".", markersize=3, color=color, alpha=0.6)
            axes.plot([], [], "-", color=color, label=f"{r.name}: {r.label}")
            axes.axvspan(0, r.ended - r.started, color=color, alpha=0.08)
        for threshold in (250, 1000):
            axes.axhline(threshold, color="grey", linestyle="--", linewidth=0.8)
        axes.set_yscale("log")
        axes.set_xlabel("seconds since the change started (shaded: its window)")
        axes.set_title(f"API latency during a {title}")
        axes.legend(loc="upper right", fontsize="small")
        axes.grid(True, which="both", alpha=0.3)
    panels[0].set_ylabel("latency from the scheduled send time, ms (log)")
    figure.tight_layout()
    figure.savefig(out / "migration_load.png", dpi=110)
    plt.close(figure)
