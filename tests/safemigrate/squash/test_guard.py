"""Which databases run the squash: empty ones use it, those at B or beyond never notice it, and one
part-way through the replaced range is refused by `flask db upgrade` and by the release runner."""

from __future__ import annotations

import importlib.util
import logging
import sys

import pytest
from alembic.script import ScriptDirectory

from app import create_app
from safemigrate.cli import squash as squash_cli
from safemigrate.cli.squash import guard_upgrade
from safemigrate.snapshot.dump import compare
from safemigrate.squash.guard import replaced_by_squash, squash_refusal
from tests.safemigrate.squash.conftest import BEYOND, PART_WAY, PROJECT_REVISIONS, TARGET, current, migrate
from tests.support.cli_helpers import assert_clean_failure, run
from tests.support.db_helpers import config_for


def applied_steps(caplog) -> list[str]:
    """The revisions Alembic ran, in order, from its "Running upgrade A -> B" log lines."""
    return [
        r.getMessage().split(" -> ")[1].split(",")[0]
        for r in caplog.records
        if r.getMessage().startswith("Running upgrade")
    ]


def test_an_empty_database_runs_the_squash_instead_of_the_replaced_revisions(
    long_history, make_database, caplog
):
    url = make_database()
    with caplog.at_level(logging.INFO, logger="alembic.runtime.migration"):
        migrate(url, long_history.squashed)
    scripts = ScriptDirectory(str(long_history.squashed))
    # The ledger's checksums render the same steps offline first: compare the set, not the count.
    assert set(applied_steps(caplog)) == {s.revision for s in scripts.walk_revisions()}
    assert applied_steps(caplog)[0] == TARGET
    assert current(url) == tuple(scripts.get_heads())


@pytest.mark.parametrize("reached", [TARGET, BEYOND])
def test_a_database_at_b_or_beyond_is_unaffected_and_keeps_upgrading(
    long_history, make_database, caplog, reached
):
    old, reference = make_database(), make_database()
    migrate(old, long_history.original, reached)
    with caplog.at_level(logging.INFO, logger="alembic.runtime.migration"):
        migrate(old, long_history.squashed)
    assert TARGET not in applied_steps(caplog)
    assert applied_steps(caplog), "the revisions after the squash still run"
    migrate(reference, long_history.original)
    assert current(old) == current(reference)
    assert compare(old, reference) == []


def test_flask_db_upgrade_refuses_a_database_part_way_and_names_the_release(long_history, make_database):
    url = make_database()
    migrate(url, long_history.original, PART_WAY)
    app = create_app(config_for(url))
    result = app.test_cli_runner().invoke(args=["db", "upgrade", "-d", str(long_history.squashed)])
    assert result.exit_code == 6, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert (
        f"the database is at revision {PART_WAY}, one of the revisions that squash revision {TARGET}"
        in lines[0]
    )
    assert "deploy a release from before the squash" in lines[0] and f"migrates to {TARGET}" in lines[0]
    assert current(url) == (PART_WAY,)


def test_the_release_runner_refuses_a_database_part_way(long_history, make_database):
    url = make_database()
    migrate(url, long_history.original, PART_WAY)
    result = run(
        [sys.executable, "run_migration.py", "--directory", str(long_history.squashed), "--wait", "10"],
        database_url=url,
    )
    assert_clean_failure(
        result, f"squash revision {TARGET} replaces", "deploy a release from before the squash", code=6
    )
    assert current(url) == (PART_WAY,)


def test_the_guard_lets_other_databases_through(long_history):
    scripts = ScriptDirectory(str(long_history.squashed))
    assert squash_refusal(scripts, ()) is None
    assert squash_refusal(scripts, (TARGET,)) is None
    assert squash_refusal(scripts, (BEYOND,)) is None
    # A revision nobody knows is the runner's "database newer than the code" case, not the squash's.
    assert squash_refusal(scripts, ("0123456789ab",)) is None
    assert squash_refusal(ScriptDirectory(str(long_history.original)), (PART_WAY,)) is None


def test_the_guard_wraps_flask_db_upgrade_once_however_many_apps_are_built(empty_database_url):
    from flask_migrate.cli import db as db_group

    create_app(config_for(empty_database_url))
    guarded = db_group.commands["upgrade"]
    create_app(config_for(empty_database_url))
    assert db_group.commands["upgrade"] is guarded and guarded.around is squash_cli._guarded_upgrade
    assert not hasattr(guarded.original, "around")  # Flask-Migrate's own command


def test_a_fresh_import_of_the_guard_wraps_the_original_not_the_old_guard(empty_database_url):
    """As in a copy of the project imported afresh: its guard replaces the old one."""
    from flask_migrate.cli import db as db_group

    create_app(config_for(empty_database_url))
    original = db_group.commands["upgrade"].original
    spec = importlib.util.spec_from_file_location("squash_cli_again", squash_cli.__file__)
    again = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(again)
    try:
        again.guard_upgrade(db_group)
        rewrapped = db_group.commands["upgrade"]
        assert rewrapped.around is again._guarded_upgrade and rewrapped.original is original
    finally:
        guard_upgrade(db_group)
    assert db_group.commands["upgrade"].around is squash_cli._guarded_upgrade
    assert db_group.commands["upgrade"].original is original


def test_the_revisions_a_squash_stands_for(long_history):
    covered = replaced_by_squash(ScriptDirectory(str(long_history.squashed)))
    assert covered[TARGET] == TARGET and covered[PART_WAY] == TARGET
    assert BEYOND not in covered and len(covered) == PROJECT_REVISIONS + 9
    assert replaced_by_squash(ScriptDirectory(str(long_history.original))) == {}
