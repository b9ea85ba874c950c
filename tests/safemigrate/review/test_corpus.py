"""The corpus (corpus.py), each case planted alone on head: every dangerous revision is refused with
the right rule, every safe one passes, alone and within the whole history, with no traceback."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from safemigrate.review import MigrationLinter, format_report
from tests.safemigrate.review.corpus import plant_case
from tests.safemigrate.review.corpus_dangerous import DANGEROUS
from tests.safemigrate.review.corpus_safe import SAFE
from tests.support.db_helpers import run_alembic
from tests.support.planting import copy_migrations

CASES = DANGEROUS + SAFE


def test_the_corpus_is_big_enough():
    assert len(DANGEROUS) >= 30
    assert len(SAFE) >= 30
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_is_judged_right(tmp_path, case):
    directory = copy_migrations(tmp_path)
    revision = plant_case(directory, case)
    linter = MigrationLinter(directory)
    [alone] = linter.lint(linter.select(revision))
    [within_history] = [r for r in linter.lint(linter.select()) if r.script.revision == revision]
    for report in (alone, within_history):
        rules = sorted({f.rule for f in report.errors})
        text = format_report(report)
        if case.rule is None:
            assert rules == [], text
        else:
            assert case.rule in rules, text
            [finding] = [f for f in report.errors if f.rule == case.rule][:1]
            assert finding.message and "Traceback" not in text
            if finding.sql:
                assert finding.fix, text


def test_the_advice_for_a_type_in_another_schema_calls_the_helper_with_its_schema(tmp_path):
    [case] = [
        c for c in DANGEROUS if c.id == "enum-value-of-a-type-in-another-schema-used-in-same-transaction"
    ]
    directory = copy_migrations(tmp_path)
    linter = MigrationLinter(directory)
    [report] = linter.lint(linter.select(plant_case(directory, case)))
    [finding] = [f for f in report.errors if f.rule == case.rule]
    assert 'safe.add_enum_value("mood", "b", schema="extra")' in finding.fix


REWRITE_CASES = [c for c in CASES if c.rewrites]


@pytest.mark.parametrize("case", REWRITE_CASES, ids=[c.id for c in REWRITE_CASES])
def test_rewrite_judgement_is_postgresqls(tmp_path, database_url, case):
    """PostgreSQL 18 itself decides: the table's file node changes exactly when it is rewritten.
    The session is not in UTC: timestamp <-> timestamptz is metadata-only only in UTC sessions, and
    the review cannot know the production session's TimeZone."""
    engine = sa.create_engine(database_url, connect_args={"options": "-c TimeZone=Europe/Paris"})
    try:
        _check_rewrite(tmp_path, engine, case)
    finally:
        engine.dispose()


def _check_rewrite(tmp_path, engine, case):
    directory = copy_migrations(tmp_path)
    revision = plant_case(directory, case)
    scripts = MigrationLinter(directory).scripts
    parent = scripts.get_revision(revision).down_revision
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO users (email, password_hash) VALUES ('a@example.com', '!')"))
        connection.execute(sa.text("INSERT INTO items (title, owner_id) SELECT 'x', id FROM users"))
    run_alembic(engine, command.upgrade, parent, directory=directory)
    before = relfilenode(engine, case.rewrites)
    run_alembic(engine, command.upgrade, revision, directory=directory)
    assert (relfilenode(engine, case.rewrites) != before) is case.rewritten


RUN_CASES = [c for c in CASES if c.fails is not None]


@pytest.mark.parametrize("case", RUN_CASES, ids=[c.id for c in RUN_CASES])
def test_run_time_judgement_is_postgresqls(tmp_path, engine, case):
    """What the review says fails at run time fails on PostgreSQL 18 with that error; what it passes
    applies."""
    directory = copy_migrations(tmp_path)
    revision = plant_case(directory, case)
    parent = MigrationLinter(directory).scripts.get_revision(revision).down_revision
    run_alembic(engine, command.upgrade, parent, directory=directory)
    if not case.fails:
        run_alembic(engine, command.upgrade, revision, directory=directory)
        return
    with pytest.raises(sa.exc.DBAPIError, match=case.fails):
        run_alembic(engine, command.upgrade, revision, directory=directory)


def relfilenode(engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT relfilenode FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}
        ).scalar()
