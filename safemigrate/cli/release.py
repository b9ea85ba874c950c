"""Command line of the release runner: `python run_migration.py [options]`.

Every option can also come from an environment variable, for a Procfile's release line.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import overload

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from safemigrate.errors import ConfigError, SafeMigrateError, source_origin
from safemigrate.release.errors import (
    EXIT_MIGRATION_FAILED,
    EXIT_USAGE,
    classify_outside_revision,
)
from safemigrate.release.runner import Mode, Settings, release
from safemigrate.scratch import ScratchServer
from safemigrate.urls import normalise_database_url

EXIT_CODES_HELP = """exit codes:
  0  success, including nothing to do (--check: database at head)
  1  a revision failed; the message says what was rolled back (and what stayed committed,
     if the revision left its transaction); alembic_version is at the last applied revision;
     or a replica kept a long query past --retry-for, or did not replay a revision within
     --replica-wait (the message lists the revisions committed so far)
  2  usage or configuration error (bad option, bad or missing database URL, unknown --target,
     a missing privilege, a replica URL that is malformed or names a primary, or a URL through
     a connection pooler such as PgBouncer: use MIGRATION_DATABASE_URL)
  3  could not connect to the database within --wait, or lost the connection outside a revision;
     or a replica could not be reached within --wait, or stopped answering
  4  another runner still held the migration lock after --wait, or this runner lost the lock
  5  --check only: revisions are pending
  6  refused, nothing touched: the scripts have several heads, or the database is at a revision
     this code does not know (the code is older than the database), or an applied revision's file
     changed or is gone (see flask db validate), or --check-drift found drift
"""

log = logging.getLogger("run_migration")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # argparse would print the whole usage block; one line is enough.
        self.exit(EXIT_USAGE, f"run_migration: error: {message} (see --help)\n")


@overload
def _env(name: str, default: str) -> str: ...
@overload
def _env(name: str, default: None = None) -> str | None: ...
def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_flag(name: str) -> bool:
    return (_env(name, "") or "").lower() in ("1", "true", "yes", "on")


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"must not be negative: {text}")
        return value

    return parse


def build_parser(directory: Path) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="run_migration.py",
        description="Apply pending migrations safely: the release-phase command. "
        "Environment variables in brackets set the defaults.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        default=_env_flag("MIGRATION_CHECK"),
        help="apply nothing; exit 0 at head, 5 when revisions are pending [MIGRATION_CHECK]",
    )
    mode.add_argument(
        "--sql",
        action="store_true",
        default=_env_flag("MIGRATION_SQL"),
        help="print the pending revisions' SQL to stdout; apply nothing [MIGRATION_SQL]",
    )
    parser.add_argument(
        "--target",
        default=_env("MIGRATION_TARGET", "head"),
        help="revision to upgrade to (default: head) [MIGRATION_TARGET]",
    )
    parser.add_argument(
        "--wait",
        type=_positive(float),
        default=_env("MIGRATION_WAIT", "60"),
        metavar="SECONDS",
        help="how long to wait for the database to accept connections, and again for the "
        "migration lock (default: 60) [MIGRATION_WAIT]",
    )
    parser.add_argument(
        "--lock-timeout",
        type=_positive(int),
        default=_env("MIGRATION_LOCK_TIMEOUT", "200"),
        metavar="MS",
        help="lock_timeout for each migration statement: the longest live queries can queue "
        "behind it (default: 200) [MIGRATION_LOCK_TIMEOUT]",
    )
    parser.add_argument(
        "--statement-timeout",
        type=_positive(int),
        default=_env("MIGRATION_STATEMENT_TIMEOUT", str(30 * 60 * 1000)),
        metavar="MS",
        help="statement_timeout for migration statements (default: 1800000, 30 min) "
        "[MIGRATION_STATEMENT_TIMEOUT]",
    )
    parser.add_argument(
        "--retry-for",
        type=_positive(float),
        default=_env("MIGRATION_RETRY_FOR", "120"),
        metavar="SECONDS",
        help="total time to keep retrying a revision that hit lock_timeout (default: 120) "
        "[MIGRATION_RETRY_FOR]",
    )
    parser.add_argument(
        "--replica-url",
        action="append",
        default=None,
        metavar="URL",
        help="a read replica (hot standby) of the database, read-only: before each revision the runner "
        "waits while it has queries that would hold the revision's replay, after each one until it has "
        "replayed it; repeat for several (default: none) [MIGRATION_REPLICA_URLS, comma-separated]",
    )
    parser.add_argument(
        "--replica-wait",
        type=_positive(float),
        default=_env("MIGRATION_REPLICA_WAIT", "60"),
        metavar="SECONDS",
        help="how long to wait after each revision for every replica to replay it (default: 60) "
        "[MIGRATION_REPLICA_WAIT]",
    )
    parser.add_argument(
        "--accept-changed",
        action="store_true",
        default=_env_flag("MIGRATION_ACCEPT_CHANGED"),
        help="apply even though an applied revision's file changed or is gone (flask db validate) "
        "[MIGRATION_ACCEPT_CHANGED]",
    )
    parser.add_argument(
        "--check-drift",
        action="store_true",
        default=_env_flag("MIGRATION_CHECK_DRIFT"),
        help="refuse when the live schema differs from what its revisions build (flask db drift; "
        "off by default: it builds a scratch database) [MIGRATION_CHECK_DRIFT]",
    )
    parser.add_argument(
        "--directory",
        type=Path,
        default=Path(_env("MIGRATION_DIRECTORY", str(directory))),
        help=argparse.SUPPRESS,  # migration scripts folder; tests point it at planted copies
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=_env_flag("MIGRATION_VERBOSE"),
        help="also log every SQL statement [MIGRATION_VERBOSE]",
    )
    return parser


AppDatabaseUrl = Callable[[], "URL | str"]


def database_url(app_database_url: AppDatabaseUrl) -> URL:
    """MIGRATION_DATABASE_URL, else the URL the host app would use (DATABASE_URL or its dev server)."""
    override = _env("MIGRATION_DATABASE_URL")
    if override:
        return normalise_database_url(override, setting="MIGRATION_DATABASE_URL")
    url = app_database_url()
    return normalise_database_url(url) if isinstance(url, str) else url


def replica_urls(given: list[str] | None) -> tuple[URL, ...]:
    """--replica-url (repeated), else MIGRATION_REPLICA_URLS (comma-separated); each a PostgreSQL URL."""
    if given is not None:
        setting, raw = "--replica-url", given
    else:
        setting, raw = "MIGRATION_REPLICA_URLS", (_env("MIGRATION_REPLICA_URLS", "") or "").split(",")
    entries = [entry.strip() for entry in raw]
    if given is None:
        entries = [entry for entry in entries if entry]  # "a,b," and an empty variable name no replica
    return tuple(
        normalise_database_url(entry, setting=setting if len(entries) == 1 else f"{setting} (entry {number})")
        for number, entry in enumerate(entries, 1)
    )


def configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s run_migration %(levelname)s %(message)s"))
    # The runner's own lines, and the progress of the zero-downtime helpers (safemigrate/safe/).
    for name in ("run_migration", "safemigrate.safe"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    if verbose:
        sql_log = logging.getLogger("sqlalchemy.engine")
        sql_log.addHandler(handler)
        sql_log.setLevel(logging.INFO)


def main(
    argv: list[str] | None = None,
    *,
    app_database_url: AppDatabaseUrl,
    directory: Path,
    scratch_server: ScratchServer | None = None,
) -> int:
    """Parse, run the release (release/runner.py owns the sequence), print one line on failure.

    The host hands what the toolkit cannot know: how its app finds its database
    (`app_database_url`, called only when MIGRATION_DATABASE_URL is unset), its migrations folder,
    and in development only a throwaway server for --check-drift.
    """
    parser = build_parser(directory)
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        settings = Settings(
            url=database_url(app_database_url),
            target=args.target,
            wait=args.wait,
            lock_timeout_ms=args.lock_timeout,
            statement_timeout_ms=args.statement_timeout,
            retry_for=args.retry_for,
            directory=args.directory,
            accept_changed=args.accept_changed,
            check_drift=args.check_drift,
            scratch_server=scratch_server,
            replica_urls=replica_urls(args.replica_url),
            replica_wait=args.replica_wait,
        )
        mode = Mode.CHECK if args.check else Mode.SQL if args.sql else Mode.APPLY
        return release(settings, mode)
    except ConfigError as exc:
        log.error("configuration error: %s", exc)
        return EXIT_USAGE
    except SafeMigrateError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("interrupted: the revision in progress was rolled back")
        return EXIT_MIGRATION_FAILED
    except DBAPIError as exc:
        if args.verbose:
            raise
        error = classify_outside_revision(exc, None, "running")
        log.error("%s", error)
        return error.exit_code
    except (SyntaxError, ImportError) as exc:
        # A revision file (or a module it imports) that does not load: its file and line, nothing run.
        log.error("cannot load the migrations: %s", source_origin(exc))
        return EXIT_MIGRATION_FAILED
    except Exception as exc:
        if args.verbose:
            raise
        log.error("unexpected error: %s: %s (run with --verbose for details)", type(exc).__name__, exc)
        return EXIT_MIGRATION_FAILED
