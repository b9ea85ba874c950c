"""The release runner's failures on real PostgreSQL: a killed runner, a failing revision (rolled
back, or partly committed by a zero-downtime helper and said so), a revision raising in Python,
missing privileges, refused plans."""

from __future__ import annotations

import signal
import time
import uuid

import pytest
import sqlalchemy as sa

from tests.support.cli_helpers import assert_clean_failure
from tests.support.planting import HEAD, copy_migrations, plant
from tests.support.release_helpers import columns, runner, spawn_runner, version_rows, written


def test_sigkill_mid_revision_leaves_nothing_half_applied(engine, database_url, tmp_path):
    directory = copy_migrations(tmp_path)
    slow = plant(
        directory,
        "a1b2c3d4slow",
        upgrade="""
            op.add_column("items", sa.Column("slow_col", sa.Integer()))
            seconds = float(os.environ.get("SLOW_SECONDS", "0"))
            op.execute(sa.text("SELECT pg_sleep(:s)").bindparams(s=seconds))
        """,
        downgrade='op.drop_column("items", "slow_col")',
        preamble="import os\n",
    )
    process = spawn_runner(
        "--directory", str(directory), database_url=database_url, capture=False, SLOW_SECONDS="60"
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                sleeping = connection.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")
                ).scalar_one()
            if sleeping:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the slow revision never started")
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)

    assert version_rows(engine) == [HEAD]
    assert "slow_col" not in columns(engine, "items")

    result = runner("--directory", str(directory), database_url=database_url, SLOW_SECONDS="0")
    assert result.returncode == 0, result.stderr
    assert version_rows(engine) == [slow]
    assert "slow_col" in columns(engine, "items")


def test_failing_revision_leaves_the_database_at_the_previous_one(engine, database_url, tmp_path):
    directory = copy_migrations(tmp_path)
    good = plant(directory, "b1good", upgrade='op.add_column("items", sa.Column("good_col", sa.Integer()))')
    plant(
        directory,
        "b2bad",
        down_revision=good,
        message="divides by zero",
        upgrade="""
            op.add_column("items", sa.Column("bad_col", sa.Integer()))
            op.execute("SELECT 1/0")
        """,
    )
    result = runner("--directory", str(directory), database_url=database_url)
    assert_clean_failure(
        result, "revision b2bad (divides by zero) failed and was rolled back", "division by zero", code=1
    )
    assert version_rows(engine) == [good]
    assert {"good_col"} <= columns(engine, "items")
    assert "bad_col" not in columns(engine, "items")


def test_two_heads_are_refused_with_a_hint(engine, database_url, tmp_path):
    directory = copy_migrations(tmp_path)
    plant(directory, "c1left", upgrade='op.add_column("items", sa.Column("left_col", sa.Integer()))')
    plant(directory, "c2right", upgrade='op.add_column("items", sa.Column("right_col", sa.Integer()))')
    result = runner("--directory", str(directory), database_url=database_url)
    assert_clean_failure(result, "2 heads", "flask db merge heads", code=6)
    assert version_rows(engine) == [HEAD]
    assert not {"left_col", "right_col"} & columns(engine, "items")


def test_database_newer_than_the_code_is_refused(engine, database_url):
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f00dfeed1234'"))
    before = written(engine)
    result = runner(database_url=database_url)
    assert_clean_failure(result, "f00dfeed1234", "code is older than the database", code=6)
    assert written(engine) == before


# -- partly committed revisions ---------------------------------------------------------------

MIXED = """
    op.add_column("items", sa.Column("plain_col", sa.Integer()))
    safe.create_index_concurrently("ix_items_title_mixed", "items", ["title"])
    op.execute("SELECT 1/0")
"""


def index_exists(engine, name: str) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(sa.text("SELECT to_regclass(:n)"), {"n": name}).scalar())


def test_a_partly_committed_revision_is_reported_exactly(engine, database_url, tmp_path):
    directory = copy_migrations(tmp_path)
    plant(
        directory, "e1mixed", upgrade=MIXED, message="mixes steps", preamble="from safemigrate import safe\n"
    )
    # A generous lock_timeout: this test is about the failure, not about lock contention.
    result = runner("--directory", str(directory), "--lock-timeout", "20000", database_url=database_url)

    assert_clean_failure(
        result, "revision e1mixed (mixes steps) failed: division by zero", "PARTLY COMMITTED", code=1
    )
    assert "rolled back:" in result.stderr
    assert "failed and was rolled back" not in result.stderr
    # What the message says stays applied is what the database has; alembic_version did not move.
    line = next(line for line in result.stderr.splitlines() if "PARTLY COMMITTED" in line)
    assert "ALTER TABLE items ADD COLUMN plain_col INTEGER" in line
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_items_title_mixed" in line
    assert "plain_col" in columns(engine, "items")
    assert index_exists(engine, "ix_items_title_mixed")
    assert version_rows(engine) == [HEAD]


def test_a_revision_with_idempotent_steps_reruns_after_failing_at_any_point(engine, database_url, tmp_path):
    """The documented way to mix: every step before the last commit point is idempotent."""
    directory = copy_migrations(tmp_path)
    body = """
        import os
        fail_at = os.environ.get("FAIL_AT", "")
        op.execute("ALTER TABLE items ADD COLUMN IF NOT EXISTS rerun_col integer")
        if fail_at == "after_plain":
            raise RuntimeError("stop after the plain step")
        safe.create_index_concurrently("ix_items_rerun", "items", ["rerun_col"])
        if fail_at == "after_index":
            raise RuntimeError("stop after the index")
        op.add_column("items", sa.Column("tail_col", sa.Integer()))
        if fail_at == "at_the_end":
            op.execute("SELECT 1/0")
    """
    plant(directory, "e2rerun", upgrade=body, preamble="from safemigrate import safe\n")
    for point in ("after_plain", "after_index", "at_the_end"):
        failed = runner(
            "--directory", str(directory), "--lock-timeout", "20000", database_url=database_url, FAIL_AT=point
        )
        assert failed.returncode == 1, failed.stderr
        assert version_rows(engine) == [HEAD]
    done = runner(
        "--directory", str(directory), "--lock-timeout", "20000", database_url=database_url, FAIL_AT=""
    )
    assert done.returncode == 0, done.stderr
    assert version_rows(engine) == ["e2rerun"]
    assert {"rerun_col", "tail_col"} <= columns(engine, "items")
    assert index_exists(engine, "ix_items_rerun")


# -- Python errors and privileges ---------------------------------------------------------------


def test_a_revision_raising_in_python_names_the_type_file_and_line(engine, database_url, tmp_path):
    directory = copy_migrations(tmp_path)
    plant(directory, "f1typo", upgrade='op.add_column("items", sa.Column("x", sa.Integr()))', message="typo")
    planted = directory / "versions" / "29990101_0000_f1typo_planted.py"
    line = next(n for n, text in enumerate(planted.read_text().splitlines(), 1) if "sa.Integr(" in text)
    result = runner("--directory", str(directory), database_url=database_url)
    assert_clean_failure(
        result,
        "revision f1typo (typo) failed and was rolled back: AttributeError:",
        f"(at migrations/versions/{planted.name}:{line})",
        code=1,
    )
    assert version_rows(engine) == [HEAD]


@pytest.fixture
def limited_role(engine):
    """A role that may connect and use the schema but has no privilege on alembic_version."""
    name = f"limited_{uuid.uuid4().hex[:10]}"
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE ROLE {name} LOGIN PASSWORD 's3cret-pw'"))
        connection.execute(sa.text(f"GRANT USAGE ON SCHEMA public TO {name}"))
    yield name
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP OWNED BY {name}"))
        connection.execute(sa.text(f"DROP ROLE {name}"))


def test_a_missing_privilege_is_exit_2_naming_it_without_the_password(database_url, limited_role):
    url = database_url.set(username=limited_role, password="s3cret-pw")
    result = runner(database_url=url)
    assert_clean_failure(
        result,
        f"the database role {limited_role} lacks a privilege",
        "alembic_version",
        code=2,
        secret="s3cret-pw",
    )
    assert len([line for line in result.stderr.splitlines() if " ERROR " in line]) == 1, result.stderr
    assert "MIGRATION_DATABASE_URL" in result.stderr
