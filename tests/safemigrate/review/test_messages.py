"""Findings read as sentences: every name in a message is the statement's, never a placeholder."""

from __future__ import annotations

from safemigrate.review.newfiles import MigrationLinter
from tests.support.cli_helpers import assert_clean_failure, flask
from tests.support.planting import plant


def test_set_not_null_names_the_column_in_the_check_it_asks_for(directory):
    plant(
        directory,
        "n1notnull",
        upgrade='op.alter_column("items", "description", nullable=False, existing_type=sa.Text())',
        downgrade='op.alter_column("items", "description", nullable=True, existing_type=sa.Text())',
    )
    linter = MigrationLinter(directory)
    [report] = linter.lint(linter.select("n1notnull"))
    [error] = report.errors
    assert error.rule == "adding-not-nullable-field"
    assert error.message == (
        "SET NOT NULL on items.description scans the whole table under an ACCESS EXCLUSIVE lock "
        "(no valid CHECK (description IS NOT NULL) exists)"
    )


def duplicate_names(directory, revision: str):
    """The duplicate-name findings of `revision`, linted in its history."""
    linter = MigrationLinter(directory)
    [report] = [r for r in linter.lint(linter.select()) if r.script.revision == revision]
    return [(f.rule, f.message) for f in report.errors if f.rule == "duplicate-name"]


def test_an_index_named_like_one_an_earlier_revision_built_is_a_duplicate_name(directory):
    plant(
        directory,
        "n2dup",
        upgrade="""
            with op.get_context().autocommit_block():
                op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_items_title")
                op.execute("CREATE INDEX CONCURRENTLY ix_items_owner_id ON items (title)")
        """,
    )
    assert duplicate_names(directory, "n2dup") == [
        (
            "duplicate-name",
            "the name ix_items_owner_id is already taken by an index or constraint on items: the revision "
            "fails (relation or constraint already exists)",
        )
    ]


def test_a_name_dropped_first_is_free_again(directory):
    plant(
        directory,
        "n3again",
        upgrade="""
            with op.get_context().autocommit_block():
                op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_items_owner_id")
                op.execute("CREATE INDEX CONCURRENTLY ix_items_owner_id ON items (owner_id, title)")
        """,
    )
    assert duplicate_names(directory, "n3again") == []


def test_a_revision_that_cannot_be_imported_is_named_and_the_rest_still_reviewed(directory):
    missing = plant(
        directory,
        "i1missing",
        upgrade="pass",
        message="needs a package",
        preamble="import no_such_package_xyz\n",
    )
    plant(
        directory,
        "i2after",
        down_revision=missing,
        upgrade='op.drop_column("items", "description")',
        downgrade='op.add_column("items", sa.Column("description", sa.Text()))',
    )
    linter = MigrationLinter(directory)
    reports = {r.script.revision: r for r in linter.lint(linter.select())}
    assert [(f.rule, f.message) for f in reports["i1missing"].errors] == [
        (
            "module-import-failed",
            "the revision cannot be imported (versions/29990101_0000_i1missing_planted.py: "
            "ModuleNotFoundError: No module named 'no_such_package_xyz'); nothing in it was reviewed",
        )
    ]
    assert [f.rule for f in reports["i2after"].errors] == ["ban-drop-column"]
    assert all(not r.errors for revision, r in reports.items() if revision not in ("i1missing", "i2after"))

    result = flask("db", "lint", "-d", str(directory))
    assert_clean_failure(
        result, "ERROR module-import-failed", "No module named 'no_such_package_xyz'", code=1
    )
