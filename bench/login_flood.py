"""A login flood's cost to a signed-in user: `GET /api/v1/users/me` latency while anonymous clients
hammer `POST /api/v1/auth/token` with wrong passwords (scrypt is deliberately slow).

Serves the project in --project (default: this checkout) with its Procfile's gunicorn on 127.0.0.1,
against DATABASE_URL (a database at head; `flask db upgrade` first), for --seconds per phase:
quiet, then flooded. Prints the signed-in user's p50 / p99 and what the flood got back.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "login-flood-bench-secret-of-32-bytes"  # noqa: S105 (signs throwaway tokens)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(base: str, method: str, path: str, body=None, token: str | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, method=method, data=data)  # noqa: S310 (http://127.0.0.1 only)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, {}


def serve(project: Path, port: int) -> subprocess.Popen:
    web = shlex.split((project / "Procfile").read_text().split("web: ", 1)[1].splitlines()[0])
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": SECRET,
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    env.setdefault("WEB_CONCURRENCY", "2")
    return subprocess.Popen(
        [str(BIN / web[0]), *web[1:]],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def measure(base: str, token: str, seconds: float) -> list[float]:
    latencies, stop = [], time.monotonic() + seconds
    while time.monotonic() < stop:
        started = time.perf_counter()
        status, _ = call(base, "GET", "/api/v1/users/me", token=token)
        latencies.append((time.perf_counter() - started) * 1000)
        assert status == 200, status
        time.sleep(0.01)
    return latencies


def flood(base: str, stop: threading.Event, seen: Counter, n: int) -> None:
    while not stop.is_set():
        status, _ = call(
            base, "POST", "/api/v1/auth/token", {"email": f"victim{n}@example.com", "password": "guess 1"}
        )
        seen[status] += 1


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[max(int(len(ordered) * 0.99) - 1, 0)]
    return f"p50 {statistics.median(ordered):.0f} ms, p99 {p99:.0f} ms ({len(ordered)} requests)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    port = free_port()
    server = serve(args.project, port)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                call(base, "GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        user = {"email": f"bench{port}@example.com", "password": "bench pass 123"}
        call(base, "POST", "/api/v1/users", user)
        token = call(base, "POST", "/api/v1/auth/token", user)[1]["access_token"]
        quiet = measure(base, token, args.seconds)
        stop, seen = threading.Event(), Counter()
        threads = [threading.Thread(target=flood, args=(base, stop, seen, n)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        flooded = measure(base, token, args.seconds)
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(f"project: {args.project}")
    print(f"signed-in GET /users/me, quiet:   {summary(quiet)}")
    print(f"signed-in GET /users/me, flooded: {summary(flooded)}  ({args.clients} anonymous login clients)")
    print(f"flood answers: {dict(sorted(seen.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
