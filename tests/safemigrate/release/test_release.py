"""The release runner (run_migration.py) on real PostgreSQL: the happy paths and bad input.
Locks: test_locks.py; failures: test_failures.py; PgBouncer: test_pgbouncer.py."""

from __future__ import annotations

import sys
import time

import pytest
from alembic import command

from tests.support.cli_helpers import assert_clean_failure, run, spawn
from tests.support.db_helpers import run_alembic
from tests.support.planting import HEAD
from tests.support.release_helpers import FIRST, REVISIONS, empty_engine, runner, version_rows, written

__all__ = ["empty_engine"]  # a fixture


# -- the happy paths ----------------------------------------------------------------------------


def test_applies_everything_on_an_empty_database_and_then_has_nothing_to_do(empty_database_url, empty_engine):
    first = runner(database_url=empty_database_url)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("applied ") == len(REVISIONS)
    # Nothing else is connected: the concurrent index build must not wait on the runner's own lock
    # session (a session inside a query or a transaction holds a snapshot CONCURRENTLY waits out).
    assert "lock not available" not in first.stderr, first.stderr
    assert version_rows(empty_engine) == [HEAD]

    again = runner(database_url=empty_database_url)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stderr
    assert "applied " not in again.stderr


def test_eight_runners_at_once_apply_each_revision_once(empty_database_url, empty_engine):
    processes = [
        spawn([sys.executable, "run_migration.py"], empty_database_url, capture=True) for _ in range(8)
    ]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in processes]
    for process in processes:
        process.stdout.close()
        process.stderr.close()

    assert [code for code, _ in results] == [0] * 8, results
    assert sum(log.count("applied ") for _, log in results) == len(REVISIONS), results
    assert version_rows(empty_engine) == [HEAD]


def test_postgres_scheme_url_works(empty_database_url, empty_engine):
    heroku_style = empty_database_url.set(drivername="postgres").render_as_string(hide_password=False)
    result = runner(database_url=heroku_style)
    assert result.returncode == 0, result.stderr
    assert version_rows(empty_engine) == [HEAD]


def test_target_stops_at_the_given_revision(empty_database_url, empty_engine):
    result = runner("--target", FIRST, database_url=empty_database_url)
    assert result.returncode == 0, result.stderr
    assert version_rows(empty_engine) == [FIRST]


def test_check_reports_pending_and_at_head(empty_database_url, empty_engine):
    pending = runner("--check", database_url=empty_database_url)
    assert pending.returncode == 5
    assert f"{len(REVISIONS)} pending" in pending.stderr
    assert version_rows(empty_engine) == []

    run_alembic(empty_engine, command.upgrade, "head")
    assert runner("--check", database_url=empty_database_url).returncode == 0


def test_sql_prints_the_pending_sql_and_applies_nothing(engine, database_url):
    run_alembic(engine, command.downgrade, FIRST)
    result = runner("--sql", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "ALTER TABLE items ADD COLUMN internal_description TEXT" in result.stdout
    assert f"UPDATE alembic_version SET version_num='{HEAD}'" in result.stdout
    assert version_rows(engine) == [FIRST]


# -- bad input ----------------------------------------------------------------------------------


def test_unreachable_database_fails_after_wait_without_the_password():
    started = time.monotonic()
    result = runner("--wait", "1", database_url="postgresql://app:hunter2@127.0.0.1:9/app")
    elapsed = time.monotonic() - started
    assert_clean_failure(
        result, "could not connect to database 'app' on 127.0.0.1:9 within 1s", code=3, secret="hunter2"
    )
    assert 1 <= elapsed < 30, f"gave up after {elapsed:.1f}s"  # bounded by --wait, plus a loaded start


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_URL": "postgresql://app:hunter2@db:port/app"},
            "DATABASE_URL is not a valid database URL",
        ),
        ({"DATABASE_URL": "mysql://app:hunter2@db/app"}, "must be a PostgreSQL URL"),
        (
            {"DATABASE_URL": "postgres://x@h/app", "MIGRATION_DATABASE_URL": "nope://app:hunter2@"},
            "MIGRATION_DATABASE_URL",
        ),
    ],
)
def test_malformed_urls_fail_cleanly(env, message):
    result = run([sys.executable, "run_migration.py"], **env)
    assert_clean_failure(result, message, code=2, secret="hunter2")


@pytest.mark.parametrize(
    "args",
    [["--wait", "soon"], ["--lock-timeout", "-5"], ["--check", "--sql"], ["--bogus"]],
)
def test_bad_options_are_usage_errors(args, database_url):
    result = runner(*args, database_url=database_url)
    assert_clean_failure(result, "run_migration: error:", code=2)


def test_unknown_target_is_a_usage_error(database_url, engine):
    before = written(engine)
    result = runner("--target", "nosuchrev", database_url=database_url)
    assert_clean_failure(result, "unknown target revision 'nosuchrev'", code=2)
    assert written(engine) == before


def test_migration_database_url_overrides_database_url(empty_database_url, empty_engine):
    result = runner(
        database_url="postgresql://app:hunter2@127.0.0.1:9/unused",
        MIGRATION_DATABASE_URL=empty_database_url.render_as_string(hide_password=False),
    )
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stderr
    assert version_rows(empty_engine) == [HEAD]


def test_a_folder_without_migration_scripts_is_a_usage_error(empty_database_url, empty_engine, tmp_path):
    result = runner("--directory", str(tmp_path), database_url=empty_database_url)
    assert_clean_failure(result, line=f"run_migration ERROR no migration scripts in {tmp_path}", code=2)
    assert version_rows(empty_engine) == []
