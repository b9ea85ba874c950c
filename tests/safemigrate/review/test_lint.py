"""`flask db lint` and `flask db status`: planted dangerous revisions are refused until acknowledged."""

from __future__ import annotations

import sys

import pytest

from config import MIGRATIONS_DIR
from safemigrate.review.newfiles import LintError, MigrationLinter
from safemigrate.state import script_directory
from tests.support.cli_helpers import PROJECT_ROOT, assert_clean_failure, flask, run
from tests.support.planting import plant

DROP_COLUMN = (
    "ban-drop-column",
    'op.drop_column("items", "description")',
    'op.add_column("items", sa.Column("description", sa.Text()))',
)
NOT_NULL_WITHOUT_DEFAULT = (
    "adding-required-field",
    'op.add_column("items", sa.Column("zz_priority", sa.Integer(), nullable=False))',
    'op.drop_column("items", "zz_priority")',
)
INDEX_WITHOUT_CONCURRENTLY = (
    "require-concurrent-index-creation",
    'op.create_index("ix_items_title", "items", ["title"])',
    'op.drop_index("ix_items_title", table_name="items")',
)
TYPE_CHANGE = (
    "changing-column-type",
    'op.alter_column("items", "owner_id", type_=sa.BigInteger(), existing_type=sa.Integer())',
    'op.alter_column("items", "owner_id", type_=sa.Integer(), existing_type=sa.BigInteger())',
)
DANGEROUS = [DROP_COLUMN, NOT_NULL_WITHOUT_DEFAULT, INDEX_WITHOUT_CONCURRENTLY, TYPE_CHANGE]
IDS = [case[0] for case in DANGEROUS]


def lint_one(directory, revision):
    linter = MigrationLinter(directory)
    [report] = linter.lint(linter.select(revision))
    return report


@pytest.mark.parametrize(("rule", "upgrade", "downgrade"), DANGEROUS, ids=IDS)
def test_dangerous_operation_on_an_existing_table_is_refused(directory, rule, upgrade, downgrade):
    plant(directory, "d1danger", upgrade=upgrade, downgrade=downgrade, message="dangerous")
    report = lint_one(directory, "d1danger")
    assert [f.rule for f in report.errors] == [rule]
    [error] = report.errors
    assert "items" in error.sql
    assert error.fix

    result = flask("db", "lint", "-d", str(directory), "d1danger")
    assert result.returncode == 1
    assert f"ERROR {rule}" in result.stdout
    assert f"# lint-ack: {rule}: <why it is safe>" in result.stdout


@pytest.mark.parametrize(("rule", "upgrade", "downgrade"), DANGEROUS, ids=IDS)
def test_acknowledged_with_a_reason_it_passes(directory, rule, upgrade, downgrade):
    plant(
        directory,
        "d2acked",
        upgrade=f"# lint-ack: {rule}: items is tiny and this was agreed in review\n{upgrade}",
        downgrade=downgrade,
        message="acknowledged",
    )
    report = lint_one(directory, "d2acked")
    assert report.errors == []
    assert [(f.rule, f.ack_reason) for f in report.findings if f.ack_reason] == [
        (rule, "items is tiny and this was agreed in review")
    ]
    assert flask("db", "lint", "-d", str(directory), "d2acked").returncode == 0


def test_acknowledgement_without_a_reason_is_an_error(directory):
    rule, upgrade, downgrade = DROP_COLUMN
    plant(directory, "d3noreason", upgrade=f"# lint-ack: {rule}\n{upgrade}", downgrade=downgrade)
    report = lint_one(directory, "d3noreason")
    assert sorted(f.rule for f in report.errors) == ["ack-without-reason", rule]


@pytest.mark.parametrize(("rule", "upgrade", "downgrade"), DANGEROUS, ids=IDS)
def test_same_operation_on_a_table_created_in_the_same_revision_passes(directory, rule, upgrade, downgrade):
    create = """
        op.create_table(
            "items2",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("title", sa.String(255), nullable=False),
            sa.Column("description", sa.Text()),
        )
    """
    plant(
        directory,
        "d4fresh",
        upgrade=create + "\n" + upgrade.replace('"items"', '"items2"'),
        downgrade='op.drop_table("items2")',
        message="new table",
    )
    report = lint_one(directory, "d4fresh")
    assert report.errors == [], [(f.rule, f.sql) for f in report.errors]


def test_empty_downgrade_is_an_error(directory):
    plant(
        directory, "d5oneway", upgrade='op.add_column("items", sa.Column("x", sa.Text()))', downgrade="pass"
    )
    assert [f.rule for f in lint_one(directory, "d5oneway").errors] == ["empty-downgrade"]


def test_missing_message_is_an_error(directory):
    plant(
        directory,
        "d6nomsg",
        message="empty message",
        upgrade='op.add_column("items", sa.Column("x", sa.Text()))',
        downgrade='op.drop_column("items", "x")',
    )
    assert [f.rule for f in lint_one(directory, "d6nomsg").errors] == ["missing-message"]


def test_data_destroying_downgrade_is_a_warning_not_an_error(directory):
    # The downgrade drops a column that was there before the revision: its data is gone for good.
    plant(
        directory,
        "d7safe",
        upgrade="op.execute(\"COMMENT ON COLUMN items.description IS 'x'\")",
        downgrade='op.drop_column("items", "description")',
    )
    report = lint_one(directory, "d7safe")
    assert report.errors == []
    assert [(f.rule, f.sql) for f in report.warnings] == [
        ("destructive-downgrade", "ALTER TABLE items DROP COLUMN description;")
    ]


def test_a_downgrade_that_undoes_what_the_upgrade_added_is_not_a_warning(directory):
    plant(
        directory,
        "d7undo",
        upgrade='op.add_column("items", sa.Column("x", sa.Text()), if_not_exists=True)\n'
        'op.create_table("zz_planted", sa.Column("id", sa.Integer(), primary_key=True))',
        downgrade='op.drop_table("zz_planted")\nop.drop_column("items", "x", if_exists=True)',
    )
    report = lint_one(directory, "d7undo")
    assert (report.errors, report.warnings) == ([], [])


def test_the_projects_history_is_clean():
    result = flask("db", "lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 unacknowledged error(s)" in result.stdout


def test_range_selects_revisions_after_the_lower_bound(directory):
    from tests.support.planting import HEAD

    first = plant(
        directory,
        "e1",
        upgrade='op.add_column("items", sa.Column("a", sa.Text()))',
        downgrade='op.drop_column("items", "a")',
    )
    second = plant(
        directory,
        "e2",
        down_revision=first,
        upgrade='op.add_column("items", sa.Column("b", sa.Text()))',
        downgrade='op.drop_column("items", "b")',
    )
    linter = MigrationLinter(directory)
    assert [s.revision for s in linter.select(f"{HEAD}:{second}")] == [first, second]


@pytest.mark.parametrize("spec", ["nosuchrev", "abc:def"])
def test_unknown_revision_is_a_clear_usage_error(spec):
    result = flask("db", "lint", spec)
    assert_clean_failure(result, "unknown revision", code=2)
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_revision_file_that_is_not_python_is_a_clear_error(directory):
    plant(directory, "g1broken", upgrade="op.add_column(", downgrade="pass")
    result = flask("db", "lint", "-d", str(directory))
    assert_clean_failure(
        result,
        line=f"Error: cannot load the revisions in {directory}: SyntaxError: '(' was never closed "
        "(29990101_0000_g1broken_planted.py, line 16)",
        code=2,
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_revision_that_raises_offline_is_one_finding_not_a_traceback(directory):
    plant(
        directory,
        "g2reads",
        # A recording connection stands in for the bind offline; the DBAPI connection does not exist.
        upgrade="op.get_bind().connection.dbapi_connection.cursor()",
        downgrade="pass",
    )
    result = flask("db", "lint", "-d", str(directory))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert (
        "ERROR offline-render-failed: upgrade() raised while rendering its SQL offline (AttributeError"
        in (result.stdout)
    )
    assert "if not op.get_context().as_sql:" in result.stdout


def test_missing_migrations_folder_is_a_clear_error(tmp_path):
    with pytest.raises(LintError, match="no migration scripts"):
        MigrationLinter(tmp_path)


def test_status_marks_applied_and_pending_revisions(engine, database_url, directory):
    planted = plant(
        directory,
        "f1pending",
        upgrade='op.add_column("items", sa.Column("z", sa.Text()))',
        downgrade='op.drop_column("items", "z")',
        message="add z",
    )
    result = flask("db", "status", "-d", str(directory), database_url=database_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("[X] ") and "create users and items" in line for line in lines)
    [pending] = [line for line in lines if planted in line]
    assert pending.startswith("[ ] ")
    assert "add z (head)" in pending
    assert "lint: ok" in pending
    applied = len(list(script_directory(MIGRATIONS_DIR).walk_revisions()))
    assert f"{applied} applied, 1 pending" in result.stdout


def test_status_without_a_database_still_lists_revisions():
    result = flask("db", "status", database_url="postgresql://app:hunter2@127.0.0.1:9/app")
    assert result.returncode == 0
    assert "database unreachable" in result.stdout
    assert "hunter2" not in result.stdout + result.stderr
    assert "create users and items" in result.stdout
    assert "[X]" not in result.stdout


def test_a_review_block_left_unwritten_is_an_error(directory):
    plant(
        directory,
        "d7todo",
        upgrade="# REVIEW: enum zz_state loses ['gone']: write it by hand\n"
        "pass  # REVIEW: written by hand, see above",
    )
    report = lint_one(directory, "d7todo")
    assert [f.rule for f in report.errors] == ["unwritten-review"]


def test_newfiles_run_as_a_module_reviews_the_files_in_the_migrations_folder_it_runs_beside(directory):
    _, upgrade, downgrade = DROP_COLUMN
    plant(directory, "d9module", upgrade=upgrade, downgrade=downgrade)
    [path] = directory.glob("versions/*_d9module_planted.py")
    result = run(
        [sys.executable, "-m", "safemigrate.review.newfiles", str(path)],
        cwd=directory.parent,
        fresh=True,  # a real interpreter started beside the folder, the project on its path
        PYTHONPATH=str(PROJECT_ROOT),
    )
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "ERROR ban-drop-column" in result.stderr
