"""Open-loop load: requests at a constant arrival rate, latency counted from when each was due.

A closed loop (N threads, each sending its next request when the last one returned) stops sending
while the server stalls, so the requests that should have gone out meanwhile are never made and
the stall shows up as a handful of slow samples (coordinated omission). Here request k is due at
`start + k / rate` whatever happened to the ones before it, as wrk2 and k6's constant-arrival-rate
executor schedule them; its latency runs from that due time to the response, so time spent waiting
for a free sender counts too. A stall of S seconds at R requests/s shows as about S * R delayed
requests, as users would feel it. Percentiles are exact, over every sample (a few thousand per
scenario: no histogram needed to bound memory).
"""

from __future__ import annotations

import math
import random
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

DELAY_THRESHOLDS = (0.25, 1.0)  # seconds: the "delayed over" counts of the report


@dataclass(frozen=True)
class Sample:
    due: float  # time.monotonic() at which the request was scheduled
    sent: float  # when a sender actually sent it
    done: float
    kind: str  # e.g. "list", "get", "create", "update"
    ok: bool

    @property
    def latency(self) -> float:
        """From the due time: what the user waiting for it felt."""
        return self.done - self.due


Send = Callable[[random.Random], tuple[str, bool]]  # sends one request: (kind, ok)


class OpenLoad:
    """Sends `send` at `rate` per second from a pool of `senders` threads until stopped (or for
    `max_seconds`); every request due before the stop is sent and recorded, late or not."""

    def __init__(self, send: Send, rate: float, max_seconds: float, senders: int = 64, seed: int = 0):
        self.send, self.rate, self.max_seconds = send, rate, max_seconds
        self.samples: list[Sample] = []
        self._next = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._seed = seed
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(senders)]
        self.start = self.stop_at = 0.0

    def __enter__(self) -> OpenLoad:
        self.start = time.monotonic()
        self.stop_at = self.start + self.max_seconds
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        for thread in self._threads:
            thread.join(timeout=120)
        self.samples.sort(key=lambda s: s.due)

    def stop(self) -> None:
        """No request due from now on is sent; the ones already due still are."""
        with self._lock:
            self.stop_at = min(self.stop_at, time.monotonic())
        self._stopped.set()

    def _take(self) -> float | None:
        with self._lock:
            due = self.start + self._next / self.rate
            if due >= self.stop_at:
                return None
            self._next += 1
            return due

    def _run(self, n: int) -> None:
        rng = random.Random(self._seed * 1000 + n)  # noqa: S311 (a repeatable request mix, not security)
        while (due := self._take()) is not None:
            wait = due - time.monotonic()
            if wait > 0 and self._stopped.wait(wait) and due >= self.stop_at:
                return
            sent = time.monotonic()
            try:
                kind, ok = self.send(rng)
            except OSError:
                kind, ok = "error", False
            sample = Sample(due=due, sent=sent, done=time.monotonic(), kind=kind, ok=ok)
            with self._lock:
                self.samples.append(sample)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def summary(samples: Iterable[Sample]) -> dict[str, float]:
    """Count, failures, p50 / p99 / max latency (ms) and the delayed-over counts of `samples`."""
    samples = list(samples)
    latencies = sorted(s.latency for s in samples)
    result = {
        "n": len(samples),
        "failed": sum(not s.ok for s in samples),
        "p50": statistics.median(latencies) * 1000 if latencies else math.nan,
        "p99": percentile(latencies, 0.99) * 1000,
        "max": latencies[-1] * 1000 if latencies else math.nan,
    }
    for threshold in DELAY_THRESHOLDS:
        result[f"over_{threshold:g}"] = sum(latency > threshold for latency in latencies)
    return result
