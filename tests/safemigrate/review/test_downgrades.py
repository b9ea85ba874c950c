"""Downgrades that can never run are errors; a downgrade that raises Irreversible is a decision, which
`flask db downgrade` and the stairway report as such (issue #23, item 5)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from safemigrate.review.newfiles import MigrationLinter
from safemigrate.testing.stairway import walk_stairway
from tests.support.cli_helpers import assert_clean_failure, flask
from tests.support.planting import HEAD, plant

ADD_COLUMN = 'op.add_column("items", sa.Column("gone_col", sa.Integer()))'
IRREVERSIBLE = 'raise Irreversible("the merged rows cannot be split again")'
IMPORT = "from safemigrate.errors import Irreversible\n"


def downgrade_findings(directory, revision: str) -> list[tuple[str, str, str]]:
    linter = MigrationLinter(directory)
    [report] = linter.lint(linter.select(revision))
    return [
        (f.rule, f.level, f.message) for f in report.findings if "downgrade" in f.rule or "offline" in f.rule
    ]


@pytest.mark.parametrize(
    ("downgrade", "message"),
    [
        (
            'op.drop_constraint(None, "items", type_="foreignkey")',
            "op.drop_constraint(None, 'items', type_='foreignkey') names no constraint: PostgreSQL "
            "cannot drop it by no name, on any database: `flask db downgrade` through this revision "
            "fails every time",
        ),
        (
            "op.execute(sa.schema.DropConstraint(sa.CheckConstraint('gone_col > 0')))",
            "downgrade() cannot be compiled to SQL for any database (CompileError: Can't emit DROP "
            "CONSTRAINT for constraint CheckConstraint(",
        ),
        (
            'raise NotImplementedError("no way back")',
            "downgrade() always raises NotImplementedError: `flask db downgrade` through this revision "
            "fails every time",
        ),
    ],
    ids=["unnamed-constraint", "compile-error", "raise"],
)
def test_a_downgrade_that_can_never_run_is_an_error(directory, downgrade, message):
    plant(directory, "g1never", upgrade=ADD_COLUMN, downgrade=downgrade)
    [(rule, level, text)] = downgrade_findings(directory, "g1never")
    assert (rule, level) == ("downgrade-cannot-run", "error")
    assert text.startswith(message)


def test_a_declared_irreversible_downgrade_is_no_finding(directory):
    plant(directory, "g2irrev", upgrade=ADD_COLUMN, downgrade=IRREVERSIBLE, preamble=IMPORT)
    assert downgrade_findings(directory, "g2irrev") == []


def test_flask_db_downgrade_stops_on_an_irreversible_revision_in_one_line(directory, database_url, engine):
    plant(directory, "g2irrev", upgrade=ADD_COLUMN, downgrade=IRREVERSIBLE, preamble=IMPORT)
    up = flask("db", "upgrade", "-d", str(directory), database_url=database_url)
    assert up.returncode == 0, up.stderr
    result = flask("db", "downgrade", "-d", str(directory), database_url=database_url)
    assert_clean_failure(
        result,
        "revision g2irrev is irreversible: the merged rows cannot be split again; the downgrade stopped "
        "there (revisions undone before it stay undone)",
        code=6,
    )
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [
            "g2irrev"
        ]
        assert "gone_col" in {c["name"] for c in sa.inspect(connection).get_columns("items")}


def test_the_stairway_walks_an_irreversible_revision_up_only_and_says_so(directory, empty_database_url):
    plant(directory, "g2irrev", upgrade=ADD_COLUMN, downgrade=IRREVERSIBLE, preamble=IMPORT)
    heard = []
    engine = sa.create_engine(empty_database_url)
    try:
        walked = walk_stairway(
            engine, directory, on_irreversible=lambda s, why: heard.append((s.revision, why))
        )
    finally:
        engine.dispose()
    assert walked[-2:] == [HEAD, "g2irrev"]
    assert heard == [("g2irrev", "the merged rows cannot be split again")]
