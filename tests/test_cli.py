"""`flask db ...` as developers type it, against real PostgreSQL."""

import shutil

import pytest
import sqlalchemy as sa
from alembic.autogenerate import produce_migrations
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext

from app.extensions import db
from config import MIGRATIONS_DIR
from safemigrate.ledger.recorder import not_the_ledger
from safemigrate.state import script_directory
from tests.support.cli_helpers import assert_clean_failure, flask


def test_upgrade_current_downgrade_round_trip(empty_database_url):
    head = script_directory(MIGRATIONS_DIR).get_current_head()
    assert flask("db", "upgrade", database_url=empty_database_url).returncode == 0
    current = flask("db", "current", database_url=empty_database_url)
    assert f"{head} (head)" in current.stdout

    assert flask("db", "downgrade", "--", "-1", database_url=empty_database_url).returncode == 0
    current = flask("db", "current", database_url=empty_database_url)
    assert head not in current.stdout


def test_migrate_at_head_writes_no_file(database_url, tmp_path):
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("__pycache__"))
    before = sorted(p.name for p in (directory / "versions").glob("*.py"))

    check = flask("db", "check", "-d", str(directory), database_url=database_url)
    assert check.returncode == 0, check.stderr
    result = flask("db", "migrate", "-d", str(directory), "-m", "nothing", database_url=database_url)

    assert result.returncode == 0, result.stderr
    assert "No changes in schema detected" in result.stderr
    assert sorted(p.name for p in (directory / "versions").glob("*.py")) == before


def test_one_new_nullable_column_autogenerates_exactly_one_add_column(engine):
    metadata = sa.MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["items"].append_column(sa.Column("zz_priority", sa.Integer, nullable=True))

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": True, "include_name": not_the_ledger},
        )
        upgrade_ops = produce_migrations(context, metadata).upgrade_ops

    [table_ops] = upgrade_ops.ops
    assert isinstance(table_ops, ops.ModifyTableOps)
    [op] = table_ops.ops
    assert isinstance(op, ops.AddColumnOp)
    assert (op.table_name, op.column.name, op.column.nullable) == ("items", "zz_priority", True)


@pytest.mark.parametrize(
    ("url", "line", "code"),
    [
        (
            "postgresql://app:hunter2@db:notaport/app",
            "configuration error: DATABASE_URL is not a valid database URL",
            1,
        ),
        (
            "mysql://app:hunter2@db/app",
            "configuration error: DATABASE_URL must be a PostgreSQL URL (postgres://, postgresql://), "
            "not mysql://",
            1,
        ),
        (
            # Exit 3, as the release runner's "could not connect"; no `make db` hint: not the dev server.
            "postgresql://app:hunter2@127.0.0.1:9/app",
            "Error: cannot connect to postgresql+psycopg2://app:***@127.0.0.1:9/app: "
            'connection to server at "127.0.0.1", port 9 failed: Connection refused',
            3,
        ),
    ],
)
def test_bad_database_url_gives_one_line_and_no_password(url, line, code):
    result = flask("db", "current", database_url=url)
    assert_clean_failure(result, line=line, code=code, secret="hunter2")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_production_without_secret_key_refuses_to_start():
    result = flask("db", "current", database_url="postgresql://app:hunter2@db/app", APP_ENV="production")
    line = "configuration error: SECRET_KEY must be set when APP_ENV=production"
    assert_clean_failure(result, line=line, code=1, secret="hunter2")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_devdb_url_masks_the_password():
    result = flask("devdb", "url", database_url="postgres://app:hunter2@db/app")
    assert result.returncode == 0
    assert result.stdout.strip() == "postgresql+psycopg2://app:***@db/app"


def test_alembics_info_lines_come_once_and_check_says_nothing_of_sequences(empty_database_url):
    for command in (("upgrade",), ("downgrade", "--", "-1"), ("current",)):
        result = flask("db", *command, database_url=empty_database_url)
        assert result.returncode == 0, result.stderr
        assert result.stderr.count("Context impl PostgresqlImpl.") == 1, result.stderr
    flask("db", "upgrade", database_url=empty_database_url)
    check = flask("db", "check", database_url=empty_database_url)
    assert check.returncode == 0, check.stderr
    assert "Detected sequence" not in check.stderr, check.stderr
