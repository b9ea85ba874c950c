"""Development only: replace the whole migration history with one fresh initial revision.

Nothing is thrown away: the old revision files move to instance/, and the old database is
renamed, not dropped. It refuses, touching nothing, in production or on a non-local database; it
checks the server before moving anything, and a failure part-way puts back what was moved.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from psycopg2 import sql
from sqlalchemy.engine import URL, make_url

from safemigrate.errors import EXIT_FAILED, SafeMigrateError
from safemigrate.scratch import admin_connect, create_database, drop_database

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
    def database(self) -> str:
        """The database the reset empties."""
        assert self.url.database is not None, "check() refuses a URL that names no database"
        return self.url.database

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


def check(plan: ResetPlan) -> None:
    """Everything `set_aside` needs, before anything moves: the server answers (a connection error
    propagates for the command line to word), the database exists, the names it moves to are free."""
    if plan.backup_dir.exists():
        raise ResetRefused(f"{plan.backup_dir} already exists: nothing changed")
    conn = admin_connect(plan.url.set(database="postgres"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT datname FROM pg_database WHERE datname IN (%s, %s)",
                (plan.url.database, plan.old_database),
            )
            found = {row[0] for row in cur.fetchall()}
    finally:
        conn.close()
    if plan.url.database not in found:
        raise ResetRefused(f"database {plan.url.database!r} does not exist: nothing changed")
    if plan.old_database in found:
        raise ResetRefused(f"database {plan.old_database!r} already exists: nothing changed")


def set_aside(plan: ResetPlan) -> None:
    """Move the revision files away and swap in an empty database; the caller then autogenerates.

    Call `check` first. If the swap fails half-way, the files are put back before the error goes on.
    """
    plan.backup_dir.mkdir(parents=True, exist_ok=False)
    try:
        for path in sorted(plan.versions_dir.glob("*.py")):
            shutil.move(str(path), plan.backup_dir / path.name)
        _rename_database(plan, plan.database, plan.old_database)
    except BaseException:
        _put_back_files(plan)
        raise
    create_database(plan.url.set(database="postgres"), plan.database)


def restore(plan: ResetPlan) -> None:
    """Undo a `set_aside` whose new revision could not be written or applied: the revision files and
    the database are as they were before the reset, and the half-made revision is removed."""
    server = plan.url.set(database="postgres")
    drop_database(server, plan.database)
    _rename_database(plan, plan.old_database, plan.database)
    for path in plan.versions_dir.glob("*.py"):
        path.unlink()  # written by the failed reset: the old files are all in the backup folder
    _put_back_files(plan)


def _put_back_files(plan: ResetPlan) -> None:
    for path in plan.backup_dir.glob("*.py"):
        shutil.move(str(path), plan.versions_dir / path.name)
    plan.backup_dir.rmdir()


def _rename_database(plan: ResetPlan, old: str, new: str) -> None:
    conn = admin_connect(plan.url.set(database="postgres"))
    try:
        with conn.cursor() as cur:
            # Development only: close the dev server's own sessions so the rename can happen.
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (old,),
            )
            cur.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(old), sql.Identifier(new))
            )
    finally:
        conn.close()
