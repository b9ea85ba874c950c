"""The migration history, checked on real PostgreSQL: pytest-alembic's standard checks plus a
stairway and the data-survival guarantee of the guide's own example revision."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pytest_alembic import Config as PytestAlembicConfig
from pytest_alembic import runner
from pytest_alembic import tests as standard

from app.extensions import db
from config import MIGRATIONS_DIR
from safemigrate.ledger.recorder import TABLE as LEDGER_TABLE
from safemigrate.ledger.recorder import not_the_ledger
from safemigrate.state import alembic_config as project_alembic_config
from safemigrate.state import script_directory
from safemigrate.testing.stairway import walk_stairway
from tests.support.db_helpers import run_alembic

REVISIONS = [rev.revision for rev in reversed(list(script_directory(MIGRATIONS_DIR).walk_revisions()))]
INTERNAL_DESCRIPTION_REV = next(
    rev.revision
    for rev in script_directory(MIGRATIONS_DIR).walk_revisions()
    if "internal_description" in (rev.doc or "")
)


@pytest.fixture
def alembic_engine(empty_database_url):
    engine = sa.create_engine(empty_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def alembic_runner(alembic_engine):
    config = PytestAlembicConfig.from_raw_config(
        PytestAlembicConfig(alembic_config=project_alembic_config(directory=MIGRATIONS_DIR))
    )
    with runner(config=config, engine=alembic_engine) as context:
        yield context


def test_single_head_revision(alembic_runner):
    standard.test_single_head_revision(alembic_runner)


def test_upgrade_base_to_head(alembic_runner):
    standard.test_upgrade(alembic_runner)


def test_model_definitions_match_ddl(alembic_runner):
    standard.test_model_definitions_match_ddl(alembic_runner)


def test_up_down_consistency(alembic_runner):
    standard.test_up_down_consistency(alembic_runner)


def _run(engine, fn, *args):
    run_alembic(engine, fn, *args)


def _current(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version", LEDGER_TABLE}


def test_head_to_base_leaves_an_empty_schema(alembic_engine):
    _run(alembic_engine, command.upgrade, "head")
    assert _tables(alembic_engine) == {"users", "items"}
    _run(alembic_engine, command.downgrade, "base")
    assert _tables(alembic_engine) == set()
    assert _current(alembic_engine) is None


def test_stairway(alembic_engine):
    """Each revision goes up, down and up again (downgrades really undo their upgrade), walked once
    on one database and one parsed script directory: linear in the history's length."""
    assert walk_stairway(alembic_engine, MIGRATIONS_DIR) == REVISIONS
    assert _current(alembic_engine) == REVISIONS[-1]


def test_models_match_head(alembic_engine):
    """What `flask db check` asks: autogenerate finds nothing to do at head."""
    _run(alembic_engine, command.upgrade, "head")
    with alembic_engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": True, "include_name": not_the_ledger},
        )
        assert compare_metadata(context, db.metadata) == []


def test_rows_survive_the_internal_description_revision(alembic_engine):
    before = script_directory(MIGRATIONS_DIR).get_revision(INTERNAL_DESCRIPTION_REV).down_revision
    _run(alembic_engine, command.upgrade, before)
    with alembic_engine.begin() as connection:
        user_id = connection.execute(
            sa.text("INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x') RETURNING id")
        ).scalar_one()
        connection.execute(
            sa.text("INSERT INTO items (title, description, owner_id) VALUES ('kept', 'public', :u)"),
            {"u": user_id},
        )

    _run(alembic_engine, command.upgrade, INTERNAL_DESCRIPTION_REV)
    with alembic_engine.connect() as connection:
        row = connection.execute(sa.text("SELECT title, description, internal_description FROM items")).one()
    assert tuple(row) == ("kept", "public", None)

    _run(alembic_engine, command.downgrade, before)
    with alembic_engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT title, description FROM items")).all()
    assert [tuple(r) for r in rows] == [("kept", "public")]
