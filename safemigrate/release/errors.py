"""The release runner's failures: exit codes, one-line messages, and how a database or Python error
is classified. Every failure the operator sees is one line, with no SQL dump and no password."""

from __future__ import annotations

import traceback
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from safemigrate.errors import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PENDING,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    SafeMigrateError,
    error_summary,
)

# Exit codes of run_migration.py (documented in its --help, README.md and MIGRATIONS.md), under the
# names the runner's messages use.
EXIT_MIGRATION_FAILED = EXIT_FAILED
EXIT_CONNECT = EXIT_UNREACHABLE
EXIT_LOCK = EXIT_LOCKED
__all__ = ["EXIT_OK", "EXIT_PENDING", "EXIT_REFUSED", "EXIT_USAGE"]

LOCK_NOT_AVAILABLE = "55P03"
INSUFFICIENT_PRIVILEGE = "42501"
# Connection exceptions (08), the server shutting down or killing us (57P01-57P03).
_CONNECTION_LOST = ("08", "57P01", "57P02", "57P03")


class ReleaseError(SafeMigrateError):
    """A failure with an exit code and a one-line message for the operator."""

    exit_code = EXIT_MIGRATION_FAILED


class MigrationFailed(ReleaseError):
    exit_code = EXIT_MIGRATION_FAILED


class UsageError(ReleaseError):
    exit_code = EXIT_USAGE


class PrivilegeMissing(UsageError):
    """The runner's database role lacks a privilege: a configuration error, not a bad revision."""


class PoolerRefused(UsageError):
    """The URL goes through a transaction-pooling connection pooler."""


class ConnectFailed(ReleaseError):
    exit_code = EXIT_CONNECT


class LockNotAcquired(ReleaseError):
    exit_code = EXIT_LOCK


class LockLost(ReleaseError):
    exit_code = EXIT_LOCK


class PlanRefused(ReleaseError):
    exit_code = EXIT_REFUSED


def sqlstate(exc: BaseException) -> str | None:
    return getattr(getattr(exc, "orig", None), "pgcode", None)


def is_connection_lost(exc: BaseException) -> bool:
    """The session is gone (network, server restart, pg_terminate_backend), not the statement."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = sqlstate(exc) or ""
    return code.startswith(_CONNECTION_LOST) or (not code and "closed" in error_summary(exc))


def privilege_message(exc: BaseException, role: str | None, doing: str) -> str:
    return (
        f"the database role {role or '(default)'} lacks a privilege while {doing}: {error_summary(exc)} "
        "(grant it, or give the runner the schema owner's URL in MIGRATION_DATABASE_URL)"
    )


def classify_outside_revision(exc: BaseException, role: str | None, doing: str) -> ReleaseError:
    """A database error before or after the revisions, as a one-line ReleaseError."""
    if sqlstate(exc) == INSUFFICIENT_PRIVILEGE:
        return PrivilegeMissing(privilege_message(exc, role, doing))
    if is_connection_lost(exc):
        return ConnectFailed(f"lost the connection to the database while {doing}: {error_summary(exc)}")
    return MigrationFailed(f"database error while {doing}: {error_summary(exc)}")


def python_origin(exc: BaseException, revision_file: str | None) -> str:
    """`TypeError: message (at versions/x.py:12)`: the exception type and where the revision raised it.

    The frame is the deepest one in the revision file; failing that, the deepest one in any
    migrations folder; failing that, the deepest frame.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    target = Path(revision_file).resolve() if revision_file else None
    chosen = next((f for f in reversed(frames) if target and Path(f.filename).resolve() == target), None)
    chosen = chosen or next((f for f in reversed(frames) if "/versions/" in f.filename), None)
    chosen = chosen or (frames[-1] if frames else None)
    where = f" (at {_short(chosen.filename)}:{chosen.lineno})" if chosen else ""
    return f"{type(exc).__name__}: {error_summary(exc)}{where}"


def _short(filename: str) -> str:
    path = Path(filename)
    parts = path.parts
    if "versions" in parts:
        index = len(parts) - 1 - parts[::-1].index("versions")
        return str(Path(*parts[index - 1 :]))  # migrations/versions/<file>
    return str(path)
