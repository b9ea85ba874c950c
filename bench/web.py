"""The app under load: gunicorn serving wsgi:app on 127.0.0.1, and the API request mix sent to it."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa

from bench.openloop import Send

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "bench-secret-of-at-least-32-bytes"  # noqa: S105 (signs the benchmark's own throwaway tokens)
MIX = "55% list, 25% get, 15% create, 5% update"
WRITES = ("create", "update")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port: int, method: str, path: str, body=None, token: str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Server:
    """gunicorn as the Procfile's web line runs it (preloaded app, threaded workers), on a free port.

    `root` is the release's code (the project, or a copy of another release of it); `environ` the
    environment to start from (this process's by default); `log` a file for gunicorn's output."""

    def __init__(
        self,
        url: sa.URL,
        workers: int,
        *,
        root: Path = ROOT,
        environ: Mapping[str, str] | None = None,
        log: Path | None = None,
    ):
        self.port = free_port()
        env = {
            **(os.environ if environ is None else environ),
            "APP_ENV": "production",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(workers),
        }
        output = log.open("ab") if log else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "wsgi:app"], cwd=root, env=env, stdout=output, stderr=output
            )
        finally:
            if log:
                output.close()  # the child has its own copy
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:  # it exits on a bad config
            try:
                if request(self.port, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def api_mix(port: int, tokens: dict[int, str], ids: dict[int, list[int]]) -> Send:
    """One request of the mix per call, as a random user: (kind, answered below 500)."""
    owners = list(tokens)

    def send(rng: random.Random) -> tuple[str, bool]:
        owner = rng.choice(owners)
        token = tokens[owner]
        roll = rng.random()
        if roll < 0.55:
            kind, method, path, body = "list", "GET", "/api/v1/items?limit=20", None
        elif roll < 0.80:
            kind, method, path, body = "get", "GET", f"/api/v1/items/{rng.choice(ids[owner])}", None
        elif roll < 0.95:
            kind, method, path = "create", "POST", "/api/v1/items"
            body = {"title": "load", "description": "written under load"}
        else:
            kind, method, path = "update", "PATCH", f"/api/v1/items/{rng.choice(ids[owner])}"
            body = {"title": "patched under load"}
        return kind, request(port, method, path, body, token)[0] < 500

    return send
