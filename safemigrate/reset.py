"""Development only: replace the whole migration history with one fresh initial revision.

Nothing is thrown away: the old revision files move to instance/, and the old database is
renamed, not dropped. It refuses, touching nothing, in production or on a non-local database.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from psycopg2 import sql
from sqlalchemy.engine import URL, make_url

from safemigrate.errors import EXIT_FAILED, SafeMigrateError
from safemigrate.scratch import admin_connect, create_database

LOCAL_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}


class ResetRefused(SafeMigrateError):
    """The reset would be unsafe here; the message is one line."""

    exit_code = EXIT_FAILED


def refuse_unless_local_development(env_name: str, database_uri: str) -> URL:
    if env_name == "production":
        raise ResetRefused("refusing to reset migrations: APP_ENV=production")
    url = make_url(database_uri)
    host = url.host or url.query.get("host")
    # A unix-socket directory (the embedded server, a local postmaster) counts as local.
    if host not in LOCAL_HOSTS and not str(host).startswith("/"):
        raise ResetRefused(f"refusing to reset migrations on a non-local database (host {host})")
    return url


@dataclass(frozen=True)
class ResetPlan:
    url: URL
    versions_dir: Path
    stamp: str
    backup_root: Path

    @property
    def backup_dir(self) -> Path:
        return self.backup_root / f"migrations-backup-{self.stamp}"

    @property
    def old_database(self) -> str:
        return f"{self.url.database}_before_reset_{self.stamp}"

    def describe(self) -> str:
        files = sorted(p.name for p in self.versions_dir.glob("*.py"))
        return (
            f"This moves {len(files)} revision file(s) from {self.versions_dir} to {self.backup_dir},\n"
            f"renames database {self.url.database!r} to {self.old_database!r} (its data is kept there),\n"
            f"creates an empty {self.url.database!r} and autogenerates one initial revision "
            "from app/models.py."
        )


def new_plan(url: URL, versions_dir: Path, backup_root: Path) -> ResetPlan:
    """`backup_root`: where the old revision files go (the host's instance folder, never committed)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return ResetPlan(url=url, versions_dir=versions_dir, stamp=stamp, backup_root=backup_root)


def set_aside(plan: ResetPlan) -> None:
    """Move the revision files away and swap in an empty database; the caller then autogenerates."""
    plan.backup_dir.mkdir(parents=True, exist_ok=False)
    for path in plan.versions_dir.glob("*.py"):
        shutil.move(str(path), plan.backup_dir / path.name)
    server = plan.url.set(database="postgres")
    conn = admin_connect(server)
    try:
        with conn.cursor() as cur:
            # Development only: close the dev server's own sessions so the rename can happen.
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (plan.url.database,),
            )
            cur.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(plan.url.database), sql.Identifier(plan.old_database)
                )
            )
    finally:
        conn.close()
    create_database(server, plan.url.database)
