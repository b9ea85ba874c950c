"""The release runner on histories as real projects write them: revisions that change the session's
timeouts, and merge revisions with the database at one side of the merge."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from safemigrate.release.errors import EXIT_PENDING
from tests.support.db_helpers import run_alembic
from tests.support.planting import copy_migrations, plant
from tests.support.release_helpers import columns, runner, version_rows


def test_a_revision_setting_its_own_timeouts_does_not_change_them_for_later_revisions(
    engine, database_url, tmp_path
):
    directory = copy_migrations(tmp_path)
    loose = plant(
        directory,
        "c1loose",
        message="sets session timeouts",
        upgrade="""
            op.execute("SET lock_timeout = '30s'")
            op.execute("SET statement_timeout = 0")
        """,
    )
    later = plant(
        directory,
        "c2later",
        down_revision=loose,
        message="records the timeouts it runs under",
        upgrade="""
            op.execute(
                "CREATE TABLE seen_timeouts AS SELECT current_setting('lock_timeout') AS lock_timeout, "
                "current_setting('statement_timeout') AS statement_timeout"
            )
        """,
    )
    result = runner("--directory", str(directory), "--lock-timeout", "250", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert version_rows(engine) == [later]
    with engine.connect() as connection:
        seen = connection.execute(sa.text("SELECT lock_timeout, statement_timeout FROM seen_timeouts")).one()
    assert tuple(seen) == ("250ms", "30min")


def plant_merge(directory) -> tuple[str, str, str]:
    """Two branches off the head (each adds a column to items) and the merge revision that joins them."""
    left = plant(
        directory,
        "m1left",
        message="left branch",
        upgrade='op.add_column("items", sa.Column("left_col", sa.Integer()))',
        downgrade='op.drop_column("items", "left_col")',
    )
    right = plant(
        directory,
        "m2right",
        message="right branch",
        upgrade='op.add_column("items", sa.Column("right_col", sa.Integer()))',
        downgrade='op.drop_column("items", "right_col")',
    )
    merge = plant(directory, "m3merge", message="merge heads", upgrade="pass", down_revision=(left, right))
    return left, right, merge


def test_the_runner_finishes_a_merge_with_the_database_at_one_side_of_it(engine, database_url, tmp_path):
    directory = copy_migrations(tmp_path)
    left, _right, merge = plant_merge(directory)
    run_alembic(engine, command.upgrade, left, directory=directory)
    assert version_rows(engine) == [left]

    check = runner("--directory", str(directory), "--check", database_url=database_url)
    assert check.returncode == EXIT_PENDING, check.stderr
    assert f"database at {left}: 2 pending revision(s) up to {merge}" in check.stderr

    result = runner("--directory", str(directory), database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("applied ") == 2
    assert version_rows(engine) == [merge]
    assert {"left_col", "right_col"} <= columns(engine, "items")
