"""A real Redis (Debian's `redis-server` package) on 127.0.0.1, for the tests of throttling counted
across processes (RATELIMIT_STORAGE_URI=redis://...).

`ensure_redis()` finds the binary, or installs the package (tests/support/debian.py); otherwise the
tests that need it skip and say why. `RedisServer` starts one on a free port with nothing on disk, and
stops it; `stop()` then `start()` again brings it back on the same port (a store that goes away and
comes back).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.support.debian import ensure_binary
from tests.support.pgbouncer import free_port
from tests.support.processes import stop

DEBIAN_BINARY = "/usr/bin/redis-server"


def ensure_redis() -> tuple[str | None, str]:
    """(path of redis-server, "") or (None, why it is unavailable). Installs it when root and absent."""
    return ensure_binary("redis-server", DEBIAN_BINARY, "redis-server")


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused at once)."""
    return free_port()


class RedisServer:
    """redis-server on 127.0.0.1:<free port>: no persistence, no password, its files in a temp folder."""

    def __init__(self, binary: str):
        self.binary = binary
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="redis-"))
        self.process: subprocess.Popen | None = None

    def uri(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        args = [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.folder),
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "yes",
            "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 15
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited {self.process.returncode}: {self.log()}")
                try:
                    client.ping()
                    return self
                except (OSError, redis.ConnectionError):
                    time.sleep(0.05)
        finally:
            client.close()
        raise RuntimeError(f"redis-server did not answer within 15s: {self.log()}")

    def flush(self) -> None:
        client = redis.Redis(host="127.0.0.1", port=self.port)
        try:
            client.flushall()
        finally:
            client.close()

    def keys(self) -> list[str]:
        client = redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True)
        try:
            return sorted(client.keys("*"))
        finally:
            client.close()

    def log(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text()[-2000:] if path.exists() else ""

    def stop(self) -> None:
        stop(self.process)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
