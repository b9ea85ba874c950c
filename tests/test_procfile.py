"""The Procfile as a platform runs it: the release line migrates an empty database, then the web line
(gunicorn) serves the API over real HTTP on loopback."""

from __future__ import annotations

import json
import shlex
import signal
import socket
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.support.cli_helpers import BIN, PROJECT_ROOT, run, spawn


def procfile() -> dict[str, str]:
    lines = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(base: str, method: str, path: str, body=None, token: str | None = None):
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(body).encode() if body else None
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def production_env(empty_database_url):
    return {
        "APP_ENV": "production",
        "SECRET_KEY": "procfile-test-secret-of-32-bytes-or-more",
        "DATABASE_URL": empty_database_url.render_as_string(hide_password=False),
    }


def test_release_then_web_serve_the_api(production_env):
    lines = procfile()
    assert set(lines) == {"release", "web"}
    assert "run_migration" not in lines["web"] and "upgrade" not in lines["web"], "never migrate in web:"

    release = run([sys.executable, *shlex.split(lines["release"])[1:]], **production_env)
    assert release.returncode == 0, release.stderr

    port = free_port()
    web = shlex.split(lines["web"])
    server = spawn(
        [str(BIN / web[0]), *web[1:]],
        capture=True,
        **production_env,
        PORT=str(port),
        HOST="127.0.0.1",
        WEB_CONCURRENCY="2",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = call(base, "GET", "/readyz")
                break
            except (ConnectionError, urllib.error.URLError):
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        assert (status, body["status"]) == (200, "ready")

        assert (
            call(base, "POST", "/api/v1/users", {"email": "web@example.com", "password": "web pass 123"})[0]
            == 201
        )
        status, token = call(
            base, "POST", "/api/v1/auth/token", {"email": "web@example.com", "password": "web pass 123"}
        )
        assert status == 200
        status, item = call(base, "POST", "/api/v1/items", {"title": "served"}, token["access_token"])
        assert status == 201
        status, page = call(base, "GET", "/api/v1/items", token=token["access_token"])
        assert (status, [i["id"] for i in page["items"]]) == (200, [item["id"]])
        assert call(base, "GET", "/api/v1/items", token="forged")[0] == 401
        status, error = call(base, "GET", "/nowhere")
        assert (status, error["error"]) == (404, "not_found")
    finally:
        server.send_signal(signal.SIGTERM)
        output = "".join(server.communicate(timeout=30))
    assert "procfile-test-secret-of-32-bytes-or-more" not in output
    assert "Traceback" not in output
