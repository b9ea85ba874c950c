"""flask db validate / repair and the runner's refusal: applied revisions whose files changed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from safemigrate.ledger import recorder as ledger
from safemigrate.ledger.validate import validate
from tests.conftest import upgrade
from tests.support.cli_helpers import assert_clean_failure, flask, run
from tests.support.planting import HEAD, copy_migrations, plant

RUNNER = [sys.executable, "run_migration.py", "--wait", "5"]


@pytest.fixture
def planted(make_database, tmp_path):
    """(url, directory, file): a database upgraded through a planted revision `chk000000001`."""
    directory = copy_migrations(tmp_path)
    plant(directory, "chk000000001", 'op.execute("CREATE TABLE audit (a integer)")')
    url = make_database()
    upgrade(url, directory=directory)
    return url, directory, next((directory / "versions").glob("*chk000000001*"))


def findings(url, directory):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return validate(connection, ScriptDirectory(str(directory)))
    finally:
        engine.dispose()


def ledger_rows(url) -> list[ledger.Entry]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return ledger.entries(connection)
    finally:
        engine.dispose()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_an_untouched_history_validates(planted):
    url, directory, _ = planted
    assert findings(url, directory) == []
    result = flask("db", "validate", "-d", str(directory), database_url=url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "agree" in result.stdout


def test_a_comment_or_whitespace_edit_is_not_a_change(planted):
    url, directory, path = planted
    edit(path, "def upgrade():\n", "def upgrade():\n    # reviewed again\n")
    edit(path, '"CREATE TABLE audit (a integer)"', '"CREATE TABLE audit  (a integer) /* same */"')
    assert findings(url, directory) == []


def test_an_edited_revision_is_refused_by_validate_and_the_runner_until_repaired(planted):
    url, directory, path = planted
    edit(path, "(a integer)", "(a bigint)")
    [finding] = findings(url, directory)
    assert finding.kind == "changed" and finding.revision == "chk000000001"
    assert finding.recorded != finding.current

    result = flask("db", "validate", "-d", str(directory), database_url=url)
    assert result.returncode == 1
    assert path.name in result.stdout and finding.recorded[:16] in result.stdout
    assert finding.current[:16] in result.stdout

    refused = run([*RUNNER, "--directory", str(directory)], database_url=url)
    assert refused.returncode == 6, refused.stderr
    assert path.name in refused.stderr and "Traceback" not in refused.stderr

    accepted = run([*RUNNER, "--directory", str(directory)], database_url=url, MIGRATION_ACCEPT_CHANGED="1")
    assert accepted.returncode == 0, accepted.stderr
    assert "accepted by the operator" in accepted.stderr

    repaired = flask(
        "db", "repair", "--reason", "widened before release", "-d", str(directory), database_url=url
    )
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert findings(url, directory) == []
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        row = ledger.entries(connection, 1)[0]
    engine.dispose()
    assert (row.direction, row.reason) == ("repair", "widened before release")
    assert (row.previous_checksum, row.checksum) == (finding.recorded, finding.current)
    assert run([*RUNNER, "--directory", str(directory)], database_url=url).returncode == 0


def test_a_gone_file_and_a_skipped_revision_are_findings(planted):
    url, directory, path = planted
    plant(directory, "mid000000001", 'op.execute("SELECT 1")', down_revision=HEAD)
    edit(path, f"down_revision = {HEAD!r}", "down_revision = 'mid000000001'")
    assert [(f.kind, f.revision) for f in findings(url, directory)] == [("skipped", "mid000000001")]
    path.unlink()
    kinds = {(f.kind, f.revision) for f in findings(url, directory)}
    assert ("gone", "chk000000001") in kinds


def test_repair_needs_a_reason(planted):
    url, directory, _ = planted
    before = ledger_rows(url)
    result = flask("db", "repair", "-d", str(directory), database_url=url)
    assert_clean_failure(result, line="Error: Missing option '--reason'.", code=2)
    assert ledger_rows(url) == before


def test_a_database_migrated_before_the_ledger_adopts_it(planted):
    url, directory, _ = planted
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE {ledger.TABLE}")
    told = flask("db", "validate", "-d", str(directory), database_url=url)
    assert told.returncode == 0 and "adopts" in told.stdout

    result = run([*RUNNER, "--directory", str(directory)], database_url=url)
    assert result.returncode == 0, result.stderr
    applied = len(list(ScriptDirectory(str(directory)).walk_revisions()))  # the project's + the planted one
    assert f"adopted {applied} revision(s)" in result.stderr
    with engine.connect() as connection:
        latest = ledger.latest(connection)
    engine.dispose()
    assert {e.direction for e in latest.values()} == {"adopt"}
    assert "chk000000001" in latest
    assert findings(url, directory) == []


def test_status_shows_when_and_by_which_version(database_url):
    result = flask("db", "status", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert f"[X] {HEAD}" in result.stdout and "applied 2" in result.stdout


def test_make_validate_and_make_drift(database_url):
    from tests.support.cli_helpers import PROJECT_ROOT

    for target, says in (("validate", "agree"), ("drift", "no drift")):
        result = run(
            ["make", "--no-print-directory", "-C", str(PROJECT_ROOT), target], database_url=database_url
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert says in result.stdout
