"""`flask db reset-migrations --yes` when it cannot finish: nothing is lost, nothing is left behind."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from safemigrate.errors import EXIT_FAILED, EXIT_UNREACHABLE
from tests.support.cli_helpers import flask
from tests.support.planting import HEAD
from tests.support.project_copy import copy_project


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path / "project")


def revision_files(project) -> list[str]:
    return sorted(p.name for p in (project / "migrations" / "versions").glob("*.py"))


def backups(project) -> list:
    return list((project / "instance").glob("migrations-backup-*"))


def test_a_database_that_does_not_answer_moves_no_file(project):
    before = revision_files(project)
    for _ in range(2):  # a retry leaves nothing behind either
        result = flask(
            "db",
            "reset-migrations",
            "--yes",
            database_url="postgresql://app:hunter2@127.0.0.1:9/app",
            cwd=project,
        )
        output = result.stdout + result.stderr
        assert result.returncode == EXIT_UNREACHABLE, output
        assert "Traceback" not in output and "hunter2" not in output, output
        assert output.splitlines()[-1].startswith("Error: cannot connect to the database: "), output
        assert revision_files(project) == before
        assert backups(project) == []


def test_a_revision_that_fails_to_apply_puts_files_and_database_back(project, database_url, server_url):
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO users (email, password_hash) VALUES ('keep@example.com', 'x')")
        )
    engine.dispose()
    before = revision_files(project)
    models = project / "app" / "models.py"
    # A server default PostgreSQL rejects: the new initial revision is written, then fails to apply.
    models.write_text(
        models.read_text().replace(
            "mapped_column(sa.Text)", 'mapped_column(sa.Text, server_default=sa.text("nonsense()"))', 1
        )
    )

    result = flask("db", "reset-migrations", "--yes", database_url=database_url, cwd=project)

    output = result.stdout + result.stderr
    assert result.returncode == EXIT_FAILED, output
    assert "Traceback" not in output
    assert "reset undone: the old revision files and database are back" in output
    assert "ProgrammingError: function nonsense() does not exist" in output.splitlines()[-1], output
    assert revision_files(project) == before
    assert backups(project) == []
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT email FROM users")).scalars().all() == [
                "keep@example.com"
            ]
            assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [
                HEAD
            ]
    finally:
        engine.dispose()
    server = sa.create_engine(server_url)
    try:
        with server.connect() as connection:
            left = connection.execute(
                sa.text("SELECT datname FROM pg_database WHERE datname LIKE :name"),
                {"name": f"{database_url.database}_before_reset_%"},
            )
            assert left.scalars().all() == []
    finally:
        server.dispose()
