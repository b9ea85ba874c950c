"""Every error the toolkit raises on purpose derives from SafeMigrateError.

Each carries a one-line message that is safe to print (no password, no traceback), and the exit
code a command line should end with. Commands catch SafeMigrateError once, print the line and
exit with `exit_code`; anything else is a bug and says so.
"""

from __future__ import annotations

import sysconfig
import traceback
from pathlib import Path

# The exit codes the toolkit's commands share (run_migration.py --help documents them).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_LOCKED = 4
EXIT_PENDING = 5
EXIT_REFUSED = 6


class SafeMigrateError(Exception):
    """A failure the toolkit expected: one line for the operator, and an exit code."""

    exit_code = EXIT_FAILED


class ConfigError(SafeMigrateError):
    """The configuration cannot work (a bad database URL, a bad setting)."""

    exit_code = EXIT_USAGE


class Irreversible(SafeMigrateError):
    """Raised by a revision's downgrade() on purpose: the revision cannot be undone, and the message
    says why (`raise Irreversible("the old prices are gone")`). `flask db downgrade` reports it in one
    line, the stairway skips that revision's way back, and the review accepts it as a decision."""

    exit_code = EXIT_REFUSED


def error_summary(exc: BaseException) -> str:
    """The first line of a (database) error, as it may be printed: drivers put the detail in `orig`."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip()
    return text.splitlines()[0] if text else type(original).__name__


class DatabaseUnreachable(SafeMigrateError):
    """The database did not accept a connection (down, wrong host or port, not yet started)."""

    exit_code = EXIT_UNREACHABLE


class SourceError(SafeMigrateError):
    """The project's own Python (its models, env.py, a revision file) fails to load: where and why."""

    exit_code = EXIT_FAILED


def source_origin(exc: BaseException) -> str:
    """`app/models.py:62: AttributeError: message`: where the project's own code raised `exc`.

    A SyntaxError names its file and line itself; otherwise the deepest frame that is neither an
    installed package's nor the interpreter's is the line to fix.
    """
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{_relative(exc.filename)}:{exc.lineno}: "
        return f"{where}{type(exc).__name__}: {exc.msg}"
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if _is_project_file(frame.filename)]
    where = f"{_relative(frames[-1].filename)}:{frames[-1].lineno}: " if frames else ""
    return f"{where}{type(exc).__name__}: {error_summary(exc)}"


def _is_project_file(filename: str) -> bool:
    if filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return False
    path = Path(filename)
    installed = {Path(p) for p in (sysconfig.get_path("purelib"), sysconfig.get_path("platlib"))}
    stdlib = Path(sysconfig.get_path("stdlib"))
    return not any(parent in installed or parent == stdlib for parent in path.parents)


def _relative(filename: str) -> str:
    try:
        return str(Path(filename).resolve().relative_to(Path.cwd()))
    except ValueError:
        return filename
