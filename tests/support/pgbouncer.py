"""A real PgBouncer (Debian's `pgbouncer` package) in front of the test server, for the tests of what
the project does behind a transaction pooler.

`ensure_pgbouncer()` finds the binary, or installs the package (tests/support/debian.py); otherwise
the tests that need it skip and say why. `PgBouncer` starts one on 127.0.0.1 on a free port,
pool_mode=transaction, in front of the server the tests use (over its unix socket, or its host and
port), and stops it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2
from sqlalchemy.engine import URL

from tests.support.debian import ensure_binary
from tests.support.processes import stop

DEBIAN_BINARY = "/usr/sbin/pgbouncer"
# PostgreSQL refuses root and so does PgBouncer: as root, run it as the embedded server's user.
SYSTEM_USER = "embedded_postgres"


def ensure_pgbouncer() -> tuple[str | None, str]:
    """(path of pgbouncer, "") or (None, why it is unavailable). Installs it when root and absent."""
    return ensure_binary("pgbouncer", DEBIAN_BINARY, "pgbouncer")


def system_user_exists() -> bool:
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PgBouncer:
    """pgbouncer on 127.0.0.1:<free port>, pool_mode=transaction, in front of `server`."""

    def __init__(self, binary: str, server: URL, pool_size: int = 2, **settings: str):
        self.binary = binary
        self.server = server
        self.pool_size = pool_size
        self.settings = settings  # more [pgbouncer] settings, e.g. server_round_robin="1"
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        self.process: subprocess.Popen | None = None

    def url(self, database: str) -> URL:
        return URL.create(
            self.server.drivername,
            username=self.server.username,
            host="127.0.0.1",
            port=self.port,
            database=database,
        )

    def _config(self) -> Path:
        host = self.server.host or self.server.query.get("host") or "127.0.0.1"
        port = self.server.port or int(self.server.query.get("port", 5432))
        user = self.server.username
        (self.folder / "userlist.txt").write_text(f'"{user}" "{self.server.password or ""}"\n')
        password = f" password={self.server.password}" if self.server.password else ""
        config = self.folder / "pgbouncer.ini"
        config.write_text(
            f"""[databases]
* = host={host} port={port} user={user}{password}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.folder / "userlist.txt"}
pool_mode = transaction
default_pool_size = {self.pool_size}
max_client_conn = 200
logfile = {self.folder / "pgbouncer.log"}
pidfile = {self.folder / "pgbouncer.pid"}
"""
            + "".join(f"{key} = {value}\n" for key, value in self.settings.items())
        )
        return config

    def start(self) -> PgBouncer:
        config = self._config()
        args = [self.binary, str(config)]
        if os.geteuid() == 0:
            shutil.chown(self.folder, user=SYSTEM_USER)
            for path in self.folder.iterdir():
                shutil.chown(path, user=SYSTEM_USER)
            args = [self.binary, "-u", SYSTEM_USER, str(config)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited {self.process.returncode}: {self.log()}")
            with contextlib.suppress(psycopg2.OperationalError):
                psycopg2.connect(
                    host="127.0.0.1", port=self.port, user=self.server.username, dbname="postgres"
                ).close()
                return self
            time.sleep(0.1)
        raise RuntimeError(f"pgbouncer did not accept connections within 15s: {self.log()}")

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text()[-2000:] if path.exists() else ""

    def stop(self) -> None:
        stop(self.process)
        shutil.rmtree(self.folder, ignore_errors=True)
