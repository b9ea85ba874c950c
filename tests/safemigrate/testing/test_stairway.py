"""The stairway walker catches what it exists to catch, and names the revision."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from safemigrate.testing.stairway import StairwayError, walk_stairway
from tests.support.planting import HEAD, copy_migrations, plant


@pytest.fixture
def empty_engine(empty_database_url):
    engine = sa.create_engine(empty_database_url)
    yield engine
    engine.dispose()


def columns(engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_walks_a_good_revision_and_ends_at_head(empty_engine, tmp_path):
    directory = copy_migrations(tmp_path)
    good = plant(
        directory,
        "d1good",
        upgrade='op.add_column("items", sa.Column("good_col", sa.Integer()))',
        downgrade='op.drop_column("items", "good_col")',
    )
    walked = walk_stairway(empty_engine, directory)
    assert walked[-2:] == [HEAD, good]
    assert "good_col" in columns(empty_engine, "items")


def test_a_downgrade_that_does_not_undo_its_upgrade_fails_at_the_second_upgrade(empty_engine, tmp_path):
    directory = copy_migrations(tmp_path)
    plant(directory, "d2leaky", upgrade='op.add_column("items", sa.Column("leaky_col", sa.Integer()))')
    with pytest.raises(
        StairwayError, match=r"revision d2leaky: upgrade after its downgrade failed.*leaky_col"
    ):
        walk_stairway(empty_engine, directory)


def test_a_failing_downgrade_is_named(empty_engine, tmp_path):
    directory = copy_migrations(tmp_path)
    plant(
        directory,
        "d3broken",
        upgrade='op.add_column("items", sa.Column("broken_col", sa.Integer()))',
        downgrade='op.drop_column("items", "no_such_col")',
    )
    with pytest.raises(StairwayError, match=r"revision d3broken: downgrade failed.*no_such_col"):
        walk_stairway(empty_engine, directory)


def test_a_history_with_two_heads_is_refused_before_touching_the_database(empty_engine, tmp_path):
    directory = copy_migrations(tmp_path)
    plant(directory, "d4left", upgrade="pass")
    plant(directory, "d5right", upgrade="pass")
    with pytest.raises(
        StairwayError,
        match=r"^the history has 2 heads \(d4left, d5right\): the stairway walks a history with one head; "
        r"merge them first with `flask db merge heads",
    ):
        walk_stairway(empty_engine, directory)
    assert sa.inspect(empty_engine).get_table_names() == []


def plant_branches(directory, right_downgrade: str = 'op.drop_column("items", "right_col")') -> None:
    plant(
        directory,
        "d6left",
        upgrade='op.add_column("items", sa.Column("left_col", sa.Integer()))',
        downgrade='op.drop_column("items", "left_col")',
    )
    plant(
        directory,
        "d7right",
        upgrade='op.add_column("items", sa.Column("right_col", sa.Integer()))',
        downgrade=right_downgrade,
    )
    plant(
        directory,
        "d8merge",
        down_revision=("d6left", "d7right"),
        upgrade='op.add_column("items", sa.Column("merged_col", sa.Integer()))',
        downgrade='op.drop_column("items", "merged_col")',
    )


def test_a_merged_history_is_walked_through_both_branches_and_the_merge(empty_engine, tmp_path):
    directory = copy_migrations(tmp_path)
    plant_branches(directory)
    walked = walk_stairway(empty_engine, directory)
    assert walked[-4] == HEAD
    assert sorted(walked[-3:-1]) == ["d6left", "d7right"]
    assert walked[-1] == "d8merge"
    assert {"left_col", "right_col", "merged_col"} <= columns(empty_engine, "items")


def test_a_broken_downgrade_on_a_merged_branch_is_named(empty_engine, tmp_path):
    directory = copy_migrations(tmp_path)
    plant_branches(directory, right_downgrade="pass")
    broken = r"revision d7right: upgrade after its downgrade failed.*right_col"
    with pytest.raises(StairwayError, match=broken):
        walk_stairway(empty_engine, directory)
