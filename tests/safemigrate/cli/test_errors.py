"""`flask db ...` failing as a person meets it: one line that says what to do, the exit code, and
nothing applied. Flask-Migrate's commands (upgrade, current, stamp) as well as the toolkit's."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from safemigrate.errors import EXIT_FAILED, EXIT_REFUSED, EXIT_UNREACHABLE
from tests.support.cli_helpers import flask
from tests.support.planting import HEAD, plant
from tests.support.project_copy import copy_project


def one_line(result, exit_code: int) -> str:
    """The command's only line of output besides Alembic's INFO lines, after checking the exit code."""
    output = result.stdout + result.stderr
    assert result.returncode == exit_code, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("INFO ")]
    assert len(lines) == 1, output
    return lines[0]


def database_revisions(engine) -> list[str]:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()


@pytest.mark.parametrize("command", [("current",), ("upgrade",), ("migrate", "-m", "x"), ("validate",)])
def test_a_revision_file_that_does_not_parse_is_named_with_its_line(directory, database_url, command):
    path = directory / "versions" / "29990101_0000_5e1f00000001_planted.py"
    path.write_text('revision = "5e1f00000001"\ndown_revision = None\n\ndef upgrade(:\n    pass\n')
    result = flask("db", *command, "-d", str(directory), database_url=database_url)
    assert one_line(result, EXIT_FAILED) == f"Error: cannot load {path}:4: SyntaxError: invalid syntax"


# `current` and `status` say how far ahead such a database is instead (safemigrate/cli/current.py).
@pytest.mark.parametrize("command", [("upgrade",), ("drift",), ("stamp", "head")])
def test_a_database_at_a_revision_the_checkout_lacks_says_how_to_recover(
    directory, database_url, engine, command
):
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f0e1d2c3b4a5'"))
    result = flask("db", *command, "-d", str(directory), database_url=database_url)
    assert one_line(result, EXIT_REFUSED) == (
        "Error: the database is at revision f0e1d2c3b4a5, which migrations/versions does not have (applied "
        "from another branch or checkout): check that code out and `flask db downgrade` to a revision both "
        "share, or, on a development database whose schema matches a revision here, "
        "`flask db stamp --purge <revision>`"
    )
    assert database_revisions(engine) == ["f0e1d2c3b4a5"]


def test_the_recovery_it_names_works(directory, database_url, engine):
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f0e1d2c3b4a5'"))
    result = flask("db", "stamp", "--purge", HEAD, "-d", str(directory), database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert database_revisions(engine) == [HEAD]


def test_a_revision_named_that_does_not_exist(directory, database_url):
    result = flask("db", "upgrade", "-d", str(directory), "--", "nosuch", database_url=database_url)
    assert one_line(result, EXIT_FAILED) == (
        "Error: no revision 'nosuch' in migrations/versions (`flask db history` lists them)"
    )


def test_migrate_on_a_database_behind_says_upgrade_first(directory, database_url):
    plant(directory, "5e1f00000002", "pass")
    result = flask("db", "migrate", "-m", "x", "-d", str(directory), database_url=database_url)
    assert one_line(result, EXIT_FAILED) == (
        f"Error: the database is behind the revisions (at {HEAD}, head is 5e1f00000002): "
        "apply them first with `flask db upgrade` (make upgrade)"
    )
    assert sorted(p.name for p in (directory / "versions").glob("*.py"))[-1].startswith("29990101")


@pytest.mark.parametrize(
    ("command", "then"),
    [(("upgrade",), "or name the one to use"), (("migrate", "-m", "x"), "then run `flask db migrate` again")],
)
def test_several_heads_say_merge_them(directory, database_url, engine, command, then):
    plant(directory, "5e1f0000000a", "op.execute('CREATE TABLE planted_a (id int)')")
    (directory / "versions" / "29990101_0000_5e1f0000000a_planted.py").rename(
        directory / "versions" / "29990101_0000_5e1f0000000a_a.py"
    )
    plant(directory, "5e1f0000000b", "pass")
    result = flask("db", *command, "-d", str(directory), database_url=database_url)
    assert one_line(result, EXIT_REFUSED) == (
        "Error: the revisions have several heads (5e1f0000000a, 5e1f0000000b): "
        f"merge them with `flask db merge heads` (make merge), {then}"
    )
    assert database_revisions(engine) == [HEAD]


def test_a_revision_that_fails_under_upgrade_is_one_line_and_rolled_back(directory, database_url, engine):
    plant(
        directory,
        "5e1f00000003",
        "op.execute('CREATE TABLE planted_ok (id int)')\nop.execute('SELECT * FROM nope')",
    )
    path = directory / "versions" / "29990101_0000_5e1f00000003_planted.py"
    result = flask("db", "upgrade", "-d", str(directory), database_url=database_url)
    assert one_line(result, EXIT_FAILED) == (
        f'Error: {path}:17: ProgrammingError: relation "nope" does not exist (that revision was rolled back; '
        "`flask db current` shows the last one applied)"
    )
    assert database_revisions(engine) == [HEAD]
    assert not sa.inspect(engine).has_table("planted_ok")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("errors") / "project")


@pytest.mark.parametrize(
    "command", [("db", "current"), ("db", "upgrade"), ("db", "drift"), ("db", "migrate", "-m", "x")]
)
def test_the_stopped_development_database_says_make_db(project, command):
    # No DATABASE_URL: the copy's own embedded server, which nothing has started.
    result = flask(*command, cwd=project)
    line = one_line(result, result.returncode)
    assert result.returncode in (EXIT_UNREACHABLE, 2), line  # drift's own "cannot read" is a usage exit
    assert line.startswith("Error: the development database is not running: start it with `make db` ("), line
    assert not (project / "instance" / "pgdata" / "postmaster.pid").exists()


def test_an_unreachable_database_url_gets_no_make_db_hint():
    result = flask("db", "current", database_url="postgresql://app:hunter2@127.0.0.1:9/app")
    line = one_line(result, EXIT_UNREACHABLE)
    assert line.startswith("Error: cannot connect to postgresql+psycopg2://app:***@127.0.0.1:9/app: "), line
    assert "make db" not in line and "hunter2" not in line


def test_a_broken_models_file_is_named_with_its_line(project, database_url):
    models = project / "app" / "models.py"
    source = models.read_text()
    models.write_text(source.replace("mapped_column(sa.Text)", "mapped_column(sa.Txt)", 1))
    line_number = source[: source.index("mapped_column(sa.Text)")].count("\n") + 1
    expected = f"app/models.py:{line_number}: AttributeError: module 'sqlalchemy' has no attribute 'Txt'"
    try:
        for command in (("flask", "db", "current"), ("flask", "db", "upgrade"), ("flask", "users", "--help")):
            result = flask(*command[1:], database_url=database_url, cwd=project)
            assert one_line(result, EXIT_FAILED) == f"cannot load the app: {expected}"
        runner = run_migration(project, database_url)
        assert runner.returncode == EXIT_FAILED, runner.stderr
        [error] = [line for line in runner.stderr.splitlines() if " ERROR " in line]
        assert error.endswith(f"ERROR the migration environment cannot load: {expected}"), runner.stderr
        assert "changed" not in runner.stderr
    finally:
        models.write_text(source)


def run_migration(project, database_url):
    from tests.support.cli_helpers import BIN, run

    return run([str(BIN / "python"), "run_migration.py"], database_url, cwd=project)


def test_check_names_an_enum_value_left_to_a_person_in_words(project, database_url, engine):
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TYPE zz_state AS ENUM ('new', 'old', 'gone')"))
        connection.execute(sa.text("ALTER TABLE items ADD COLUMN zz_state zz_state"))
    models = project / "app" / "models.py"
    source = models.read_text()
    anchor = "    owner_id: Mapped[int] = mapped_column("
    field = '    zz_state: Mapped[str | None] = mapped_column(sa.Enum("new", "old", name="zz_state"))\n'
    models.write_text(source.replace(anchor, field + anchor, 1))
    try:
        result = flask("db", "check", database_url=database_url, cwd=project)
    finally:
        models.write_text(source)
    assert one_line(result, EXIT_FAILED) == (
        "Error: the models differ from the migrations: enum zz_state loses ['gone']: PostgreSQL cannot drop "
        "or rename an enum value in place. (`flask db migrate` writes what to do)"
    )
