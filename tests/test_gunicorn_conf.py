"""gunicorn as the Procfile runs it: slow clients cannot starve it, request lines fit the API."""

from __future__ import annotations

import json
import runpy
import shlex
import signal
import socket
import time
import urllib.error
import urllib.request

import pytest

from app.api.pagination import CURSOR_PATTERN
from tests.support.cli_helpers import BIN, PROJECT_ROOT, spawn
from tests.test_procfile import free_port, procfile

CONF = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
SECRET = "gunicorn-test-secret-of-32-bytes-or-more"
LONGEST_URL = "/api/v1/items?limit=100&cursor=" + "9" * 16 + "." + "9" * 10


def test_longest_legitimate_request_line_fits():
    assert CURSOR_PATTERN == r"^[0-9]{1,16}\.[0-9]{1,10}$"  # LONGEST_URL follows the cursor's longest form
    assert len(f"GET {LONGEST_URL} HTTP/1.1") < CONF["limit_request_line"]


def test_workers_are_threaded():
    assert CONF["worker_class"] == "gthread"
    assert CONF["threads"] >= 4


def get(base: str, path: str, timeout: float):
    try:
        with urllib.request.urlopen(base + path, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def gunicorn(database_url):
    port = free_port()
    web = shlex.split(procfile()["web"])
    server = spawn(
        [str(BIN / web[0]), *web[1:]],
        database_url,
        APP_ENV="production",
        SECRET_KEY=SECRET,
        PORT=str(port),
        HOST="127.0.0.1",
        WEB_CONCURRENCY="1",  # one worker: only its threads stand between slow clients and /healthz
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            get(base, "/healthz", timeout=5)
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
    yield base, port
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)


def slow_client(port: int) -> socket.socket:
    """Announces a 100-byte body and sends 4 bytes of it, then goes quiet."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(
        b"POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"em'
    )
    return sock


def still_connected(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""  # b"" would mean the server closed it
    except BlockingIOError:
        return True  # nothing to read, still open
    finally:
        sock.setblocking(True)


def test_healthz_answers_while_slow_clients_hold_connections(gunicorn):
    base, port = gunicorn
    slow = [slow_client(port) for _ in range(2)]
    try:
        time.sleep(0.5)  # let the worker pick them up
        # sync workers would make this wait for the 30 s worker timeout
        status, _, body = get(base, "/healthz", timeout=5)
        assert status == 200, body
        assert all(still_connected(sock) for sock in slow), "the slow clients were dropped, not outlasted"
    finally:
        for sock in slow:
            sock.close()


def test_request_line_limit_and_json_errors(gunicorn):
    base, _ = gunicorn
    status, headers, body = get(base, LONGEST_URL, timeout=5)
    assert status == 401 and json.loads(body)["error"] == "unauthorized"  # reached the app
    # gunicorn refuses an over-long request line itself, before the app sees it (HTML: see README)
    status, _, _ = get(base, "/api/v1/items?cursor=" + "9" * CONF["limit_request_line"], timeout=5)
    assert status == 414
    status, headers, body = get(base, "/nowhere", timeout=5)
    assert status == 404 and headers["Content-Type"] == "application/json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    request = urllib.request.Request(base + "/api/v1/items", method="OPTIONS")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 204 and "text/html" not in (response.headers["Content-Type"] or "")
