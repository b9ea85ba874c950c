"""Releases in both directions: the previous release runs on a database its successor migrated.

Release N's code is the project's migrations; release N+1's is a copy with one more revision. N+1's
release phase migrates; then N's release phase runs again (Heroku runs it on a rollback) and N's
processes keep serving: both must work when the revision keeps N working, and be refused in one
line naming the revision when it does not.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.support.cli_helpers import flask
from tests.support.planting import HEAD, copy_migrations, plant
from tests.support.release_helpers import runner, version_rows

ADD_NULLABLE = 'op.add_column("items", sa.Column("tw_note", sa.Text(), nullable=True))'
DROP_TITLE_DEFAULT = 'op.alter_column("items", "description", server_default=None)'
DROP_COLUMN = 'op.drop_column("items", "description")'


@pytest.fixture
def next_release(tmp_path):
    """(directory of N+1's migrations, plant(revision, upgrade) adding revisions to it)."""
    directory = copy_migrations(tmp_path / "next")

    def add(revision: str, upgrade: str, down_revision: str = HEAD) -> str:
        return plant(directory, revision, upgrade, down_revision=down_revision, message=f"planted {revision}")

    return directory, add


def release_phase(database_url, directory=None):
    args = ["--wait", "5"] + (["--directory", str(directory)] if directory else [])
    return runner(*args, database_url=database_url)


def error_lines(stderr: str) -> list[str]:
    return [line.split(" ERROR ", 1)[1] for line in stderr.splitlines() if " ERROR " in line]


def test_a_rollback_over_a_compatible_revision_exits_0_with_one_line(database_url, next_release, engine):
    directory, add = next_release
    add("tw0000000001", ADD_NULLABLE)
    assert release_phase(database_url, directory).returncode == 0  # N+1's release phase

    rollback = release_phase(database_url)  # N's release phase, on the rollback
    assert rollback.returncode == 0, rollback.stderr
    assert (
        "database is 1 revision(s) ahead of this code; all of them keep this release working"
        in rollback.stderr
    )
    assert error_lines(rollback.stderr) == []
    assert version_rows(engine) == ["tw0000000001"]  # nothing undone, nothing applied
    check = runner("--check", "--wait", "5", database_url=database_url)
    assert check.returncode == 0, check.stderr


def test_several_compatible_revisions_ahead_are_counted(database_url, next_release):
    directory, add = next_release
    add("tw0000000001", ADD_NULLABLE)
    add(
        "tw0000000002",
        'op.create_index("ix_items_tw_note", "items", ["tw_note"])',
        down_revision="tw0000000001",
    )
    assert release_phase(database_url, directory).returncode == 0
    rollback = release_phase(database_url)
    assert rollback.returncode == 0, rollback.stderr
    assert (
        "database is 2 revision(s) ahead of this code; all of them keep this release working"
        in rollback.stderr
    )


@pytest.mark.parametrize(
    ("upgrade", "why"),
    [
        (DROP_COLUMN, "drops column items.description, which the previous release still reads and writes"),
        (
            'op.add_column("items", sa.Column("tw_rank", sa.Integer(), nullable=False))',
            "adds items.tw_rank NOT NULL without a default: the previous release's inserts do not set it",
        ),
    ],
    ids=["drop-column", "required-column"],
)
def test_a_rollback_over_a_breaking_revision_is_refused_naming_it(
    database_url, next_release, engine, upgrade, why
):
    directory, add = next_release
    if "tw_rank" in upgrade:
        # A table with no rows: the NOT NULL column is added (the old release's inserts then fail).
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM items"))
    add("tw0000000001", ADD_NULLABLE)
    add("tw0000000002", upgrade, down_revision="tw0000000001")
    assert release_phase(database_url, directory).returncode == 0
    before = version_rows(engine)

    rollback = release_phase(database_url)
    assert rollback.returncode == 6, rollback.stderr
    assert error_lines(rollback.stderr) == [
        "the database is 2 revision(s) ahead of this code, and revision tw0000000002 breaks this release: "
        f"it {why}; deploy a release that has tw0000000002, or downgrade the database to {HEAD} with the "
        "newer code first"
    ]
    assert version_rows(engine) == before


def test_a_database_on_another_branch_stays_refused(database_url, next_release, tmp_path, engine):
    directory, add = next_release
    add("tw0000000001", ADD_NULLABLE)
    other = copy_migrations(tmp_path / "other")
    plant(other, "tw00000000b1", ADD_NULLABLE.replace("tw_note", "tw_other"), message="other branch")
    assert release_phase(database_url, other).returncode == 0  # the database follows another line

    refused = release_phase(database_url, directory)
    assert refused.returncode == 6, refused.stderr
    [line] = error_lines(refused.stderr)
    assert line.startswith(
        "the database is at revisions this code does not know (tw00000000b1), on another branch"
    )
    assert version_rows(engine) == ["tw00000000b1"]


def test_a_database_ahead_without_ledger_ancestry_stays_refused(database_url, next_release, engine):
    directory, add = next_release
    add("tw0000000001", ADD_NULLABLE)
    assert release_phase(database_url, directory).returncode == 0
    with engine.begin() as connection:  # a ledger from before the ancestry was recorded
        connection.execute(sa.text("UPDATE migration_ledger SET down_revisions = NULL"))
    refused = release_phase(database_url)
    assert refused.returncode == 6
    assert error_lines(refused.stderr) == [
        "the database is at revision tw0000000001, which this code does not know and the ledger does not "
        "place in the history: the code is older than the database (deploy the newer code, or downgrade "
        "with it)"
    ]


def test_the_ledger_records_each_revisions_verdict_and_ancestry(database_url, next_release, engine):
    directory, add = next_release
    add("tw0000000001", ADD_NULLABLE)
    add("tw0000000002", DROP_TITLE_DEFAULT, down_revision="tw0000000001")
    assert release_phase(database_url, directory).returncode == 0
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT revision, down_revisions, keeps_previous, compat_reason FROM migration_ledger "
                "WHERE revision LIKE 'tw%' ORDER BY id"
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("tw0000000001", HEAD, True, None),
        (
            "tw0000000002",
            "tw0000000001",
            False,
            "drops the default of items.description: the previous release's inserts may rely on it",
        ),
    ]


def test_readyz_of_the_previous_release_is_200_when_ahead_compatibly(database_url, next_release, client):
    directory, add = next_release
    add("tw0000000001", ADD_NULLABLE)
    assert release_phase(database_url, directory).returncode == 0
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json == {"status": "ready", "revision": "tw0000000001", "head": HEAD, "ahead": 1}


def test_readyz_of_the_previous_release_is_503_when_ahead_on_a_breaking_revision(
    database_url, next_release, client
):
    directory, add = next_release
    add("tw0000000001", DROP_TITLE_DEFAULT)
    assert release_phase(database_url, directory).returncode == 0
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["ahead"] == 1
    assert re.match(
        r"the database is 1 revision\(s\) ahead of this code, and revision tw0000000001 breaks",
        answer.json["reason"],
    )


def test_flask_db_current_and_status_say_how_far_ahead(database_url, next_release):
    directory, add = next_release
    add("tw0000000001", ADD_NULLABLE)
    assert release_phase(database_url, directory).returncode == 0
    current = flask("db", "current", database_url=database_url)
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip().splitlines()[-1] == (
        "tw0000000001 (ahead of this code: database is 1 revision(s) ahead of this code; all of them keep "
        "this release working)"
    )
    status = flask("db", "status", database_url=database_url)
    assert status.returncode == 0, status.stderr
    assert (
        "database is 1 revision(s) ahead of this code; all of them keep this release working" in status.stdout
    )


def test_a_revision_declared_breaking_in_its_file_refuses_the_rollback(database_url, next_release, engine):
    """What `flask db compat` finds and the SQL cannot show (a CHECK old writes violate) is written in
    the revision file; the ledger records it and the rollback is refused."""
    directory, add = next_release
    path = directory / "versions" / "29990101_0000_tw0000000001_planted.py"
    add(
        "tw0000000001",
        'op.execute("ALTER TABLE items ADD CONSTRAINT ck_items_tw CHECK (length(title) < 50)")',
    )
    path.write_text(
        path.read_text() + '\nprevious_release = "breaks: the previous release writes titles up to 255"\n'
    )
    assert release_phase(database_url, directory).returncode == 0
    rollback = release_phase(database_url)
    assert rollback.returncode == 6
    assert error_lines(rollback.stderr) == [
        "the database is 1 revision(s) ahead of this code, and revision tw0000000001 breaks this release: "
        "it is declared breaking in its file: the previous release writes titles up to 255; deploy a release "
        f"that has tw0000000001, or downgrade the database to {HEAD} with the newer code first"
    ]


def test_flask_db_upgrade_of_the_previous_release_answers_as_the_runner(database_url, next_release, engine):
    directory, add = next_release
    add("tw0000000001", ADD_NULLABLE)
    assert release_phase(database_url, directory).returncode == 0
    upgrade = flask("db", "upgrade", database_url=database_url)
    assert upgrade.returncode == 0, upgrade.stderr
    assert upgrade.stdout.strip().splitlines()[-1] == (
        "nothing to do: database is 1 revision(s) ahead of this code; all of them keep this release working"
    )
    assert version_rows(engine) == ["tw0000000001"]


def test_flask_db_upgrade_of_the_previous_release_refuses_a_breaking_revision(
    database_url, next_release, engine
):
    directory, add = next_release
    add("tw0000000001", DROP_TITLE_DEFAULT)
    assert release_phase(database_url, directory).returncode == 0
    upgrade = flask("db", "upgrade", database_url=database_url)
    assert upgrade.returncode == 6
    assert (upgrade.stdout + upgrade.stderr).strip().splitlines() == [
        "Error: the database is 1 revision(s) ahead of this code, and revision tw0000000001 breaks this "
        "release: it drops the default of items.description: the previous release's inserts may rely on it; "
        f"deploy a release that has tw0000000001, or downgrade the database to {HEAD} with the newer code "
        "first"
    ]
    assert version_rows(engine) == ["tw0000000001"]


def test_a_repair_row_keeps_the_ancestry_of_a_newer_revision(database_url, next_release, engine):
    directory, add = next_release
    add("tw0000000001", ADD_NULLABLE)
    assert release_phase(database_url, directory).returncode == 0
    with engine.begin() as connection:  # as `flask db repair` writes it: today's file accepted, no ancestry
        connection.execute(
            sa.text(
                "INSERT INTO migration_ledger (revision, checksum, direction, reason) "
                "SELECT revision, checksum, 'repair', 'edited' FROM migration_ledger "
                "WHERE revision = 'tw0000000001'"
            )
        )
    rollback = release_phase(database_url)
    assert rollback.returncode == 0, rollback.stderr
    assert (
        "database is 1 revision(s) ahead of this code; all of them keep this release working"
        in rollback.stderr
    )


def test_newer_revisions_are_not_gone_for_the_previous_release_even_when_one_breaks_it(
    database_url, next_release
):
    directory, add = next_release
    add("tw0000000001", DROP_TITLE_DEFAULT)
    assert release_phase(database_url, directory).returncode == 0
    result = flask("db", "validate", database_url=database_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "ledger and revision files agree"


def test_a_rollback_with_check_drift_skips_the_drift_check(database_url, next_release):
    directory, add = next_release
    add("tw0000000001", ADD_NULLABLE)
    assert release_phase(database_url, directory).returncode == 0
    rollback = runner("--wait", "5", "--check-drift", database_url=database_url)
    assert rollback.returncode == 0, rollback.stderr
    assert "drift check skipped: this code's revisions cannot build a database ahead of it" in rollback.stderr
    assert error_lines(rollback.stderr) == []
