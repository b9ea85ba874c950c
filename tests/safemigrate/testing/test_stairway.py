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


def test_a_branched_history_is_refused_before_touching_the_database(empty_engine, tmp_path):
    directory = copy_migrations(tmp_path)
    plant(directory, "d4left", upgrade="pass")
    plant(directory, "d5right", upgrade="pass")
    with pytest.raises(StairwayError, match="linear history"):
        walk_stairway(empty_engine, directory)
    assert sa.inspect(empty_engine).get_table_names() == []
