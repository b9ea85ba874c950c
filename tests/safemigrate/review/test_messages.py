"""Findings read as sentences: every name in a message is the statement's, never a placeholder."""

from __future__ import annotations

from safemigrate.review.newfiles import MigrationLinter
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
