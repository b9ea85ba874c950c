"""Every error the toolkit raises on purpose derives from SafeMigrateError.

Each carries a one-line message that is safe to print (no password, no traceback), and the exit
code a command line should end with. Commands catch SafeMigrateError once, print the line and
exit with `exit_code`; anything else is a bug and says so.
"""

from __future__ import annotations

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


def error_summary(exc: BaseException) -> str:
    """The first line of a (database) error, as it may be printed: drivers put the detail in `orig`."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip()
    return text.splitlines()[0] if text else type(original).__name__
