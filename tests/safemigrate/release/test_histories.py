"""The release runner on histories as real projects write them: revisions that change the session's
timeouts, and merge revisions with the database at one side of the merge."""

from __future__ import annotations

import sqlalchemy as sa

from tests.support.planting import copy_migrations, plant
from tests.support.release_helpers import runner, version_rows


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
