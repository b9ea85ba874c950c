"""Throttling counted across processes: the Procfile's web line (gunicorn, two workers) with its counters
in a real Redis, and what a store that cannot work does to the server's start."""

from __future__ import annotations

import collections
import json
import shlex
import signal
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from itertools import count

import pytest

from tests.support.cli_helpers import BIN, run, spawn
from tests.support.redis_server import closed_port
from tests.test_procfile import free_port, procfile

SECRET = "throttling-test-secret-of-32-bytes-or-more"
REGISTER_BUDGET = 10  # config.py's REGISTER_LIMIT_PER_IP: "10 per hour", per client IP
# Rounds of concurrent registrations, until both workers have answered some (bounded).
ROUND, MAX_ROUNDS = 8, 20


def web_command(*extra: str) -> list[str]:
    web = shlex.split(procfile()["web"])
    return [str(BIN / web[0]), *web[1:], *extra]


def post(base: str, path: str, body: dict) -> int:
    headers = {"Content-Type": "application/json"}
    data = json.dumps(body).encode()
    request = urllib.request.Request(base + path, method="POST", data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_until_serving(base: str, server) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5):
                return
        except (ConnectionError, urllib.error.URLError):
            assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)


def workers_that_registered(access_log) -> collections.Counter:
    """pid -> registrations it answered, from the access log ("<pid> <method> <path> <status>")."""
    lines = access_log.read_text().splitlines() if access_log.exists() else []
    return collections.Counter(line.split()[0] for line in lines if " POST /api/v1/users " in line)


def test_two_workers_share_one_registration_budget(database_url, redis_server, tmp_path):
    access_log = tmp_path / "access.log"
    port = free_port()
    server = spawn(
        web_command("--access-logfile", str(access_log), "--access-logformat", "%(p)s %(m)s %(U)s %(s)s"),
        database_url,
        capture=True,
        APP_ENV="production",
        SECRET_KEY=SECRET,
        PORT=str(port),
        HOST="127.0.0.1",
        WEB_CONCURRENCY="2",
        RATELIMIT_STORAGE_URI=redis_server.uri(),
    )
    base = f"http://127.0.0.1:{port}"
    emails = (f"user{n}@example.com" for n in count())
    statuses: list[int] = []
    try:
        wait_until_serving(base, server)
        with ThreadPoolExecutor(ROUND) as pool:
            for _ in range(MAX_ROUNDS):
                body = [{"email": next(emails), "password": "shared budget 1"} for _ in range(ROUND)]
                statuses += pool.map(lambda b: post(base, "/api/v1/users", b), body)
                if len(workers_that_registered(access_log)) == 2 and len(statuses) > REGISTER_BUDGET:
                    break
    finally:
        server.send_signal(signal.SIGTERM)
        output = "".join(server.communicate(timeout=30))
    workers = workers_that_registered(access_log)
    assert len(workers) == 2, f"one worker answered every request: {workers}"
    # Every worker counted in the same Redis: the budget holds across them, not once per worker.
    assert collections.Counter(statuses) == {201: REGISTER_BUDGET, 429: len(statuses) - REGISTER_BUDGET}
    assert "Traceback" not in output, output


@pytest.mark.parametrize(
    ("uri", "exit_code", "line"),
    [
        (
            "redis//:hunter2@127.0.0.1:6379",
            1,
            "configuration error: RATELIMIT_STORAGE_URI=redis//:***@127.0.0.1:6379 cannot be used: "
            "unknown scheme: use memory://, redis://, rediss:// or memcached://",
        ),
        (
            "redis://:hunter2@127.0.0.1:{closed}/0",
            3,
            "configuration error: RATELIMIT_STORAGE_URI=redis://:***@127.0.0.1:{closed}/0 does not answer: "
            "Error 111 connecting to 127.0.0.1:{closed}. Connection refused.",
        ),
    ],
    ids=["malformed", "unreachable"],
)
def test_a_store_that_cannot_work_stops_the_server_in_one_line(database_url, uri, exit_code, line):
    closed = closed_port()
    uri, line = uri.format(closed=closed), line.format(closed=closed)
    result = run(
        web_command(),
        database_url,
        timeout=60,
        APP_ENV="production",
        SECRET_KEY=SECRET,
        PORT=str(free_port()),
        HOST="127.0.0.1",
        RATELIMIT_STORAGE_URI=uri,
    )
    assert result.returncode == exit_code, result.stderr
    errors = [text for text in result.stderr.splitlines() if "[INFO]" not in text]  # gunicorn's own start
    assert errors == [line]
    assert "hunter2" not in result.stdout + result.stderr
