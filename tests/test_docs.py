"""README.md and MIGRATIONS.md stay true: every command they name exists, `make help` agrees with
them, and the guide's example workflow really works (on a copy of the project)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import cli as flask_cli

from app.extensions import db as flask_db
from config import MIGRATIONS_DIR
from safemigrate.state import script_directory
from tests.support.cli_helpers import BIN, PROJECT_ROOT, assert_clean_failure, environment, flask, run
from tests.support.project_copy import copy_project

DOCS = {name: (PROJECT_ROOT / name).read_text() for name in ("README.md", "MIGRATIONS.md")}
DOCS_DATABASE_URL = "postgresql://docs@localhost/docs"  # never connected to: --help only
CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)


def code_in(text: str) -> str:
    """Only what the docs show as commands: fenced blocks and inline code."""
    return "\n".join(CODE.findall(text))


def named_make_targets(text: str) -> set[str]:
    return set(re.findall(r"(?:^|[\s`(])make ([a-z][\w-]*)", code_in(text), re.M))


def named_flask_commands(text: str) -> set[tuple[str, ...]]:
    commands = set()
    for group, sub in re.findall(r"(?:^|[\s`(])flask ([a-z][\w-]*)(?: ([a-z][\w-]*))?", code_in(text), re.M):
        commands.add((group, sub) if sub else (group,))
    return commands


def make_help_targets() -> list[str]:
    result = run(["make", "--no-print-directory", "help"])
    assert result.returncode == 0, result.stderr
    return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]


def test_docs_name_only_make_targets_that_exist():
    targets = set(make_help_targets())
    for name, text in DOCS.items():
        missing = named_make_targets(text) - targets
        assert not missing, f"{name} names make targets that do not exist: {sorted(missing)}"


def test_make_help_and_the_docs_agree():
    named = set().union(*(named_make_targets(text) for text in DOCS.values()))
    undocumented = set(make_help_targets()) - named
    assert not undocumented, f"make help lists targets no doc mentions: {sorted(undocumented)}"


def test_make_help_lists_the_guides_migration_table():
    table_targets = set(re.findall(r"^\| [^|]+ \| `make ([a-z][\w-]*)", DOCS["MIGRATIONS.md"], re.M))
    assert table_targets, "MIGRATIONS.md has no Common commands table"
    assert table_targets <= set(make_help_targets())


@pytest.mark.parametrize(
    "command", sorted(set().union(*(named_flask_commands(text) for text in DOCS.values()))), ids=" ".join
)
def test_docs_name_only_flask_commands_that_exist(command):
    # In process, through the very click group the `flask` script runs (flask.cli.main calls it):
    # the same proof as a subprocess per command, without a Python start-up each.
    result = CliRunner().invoke(
        flask_cli, [*command, "--help"], env={"FLASK_APP": "wsgi", "DATABASE_URL": DOCS_DATABASE_URL}
    )
    assert result.exit_code == 0, f"`flask {' '.join(command)}` does not exist: {result.output}"


def test_the_flask_script_itself_runs():
    result = flask("--help", database_url=DOCS_DATABASE_URL)
    assert result.returncode == 0, result.stderr
    assert " db " in result.stdout and " devdb " in result.stdout


def test_runner_options_in_the_docs_exist():
    help_text = run([sys.executable, "run_migration.py", "--help"]).stdout
    for name, text in DOCS.items():
        for option in set(re.findall(r"^\| `(--[a-z-]+)", text, re.M)):
            assert option in help_text, f"{name} documents {option}, which run_migration.py lacks"


# -- the modules the docs name, and the modules that exist ------------------------------------


PACKAGES = ("safemigrate", "devdb", "app")
# A path to a Python file anywhere in the docs' text, prose included: `safemigrate/review/compat.py`,
# not a placeholder (`migrations/versions/<date>_<rev>_<slug>.py`) nor `script.py.mako`.
PY_PATH = re.compile(r"(?<![\w./<>-])((?:[\w-]+/)+[\w-]+\.py)(?![\w-]|\.\w)")
BARE_MODULE = re.compile(r"`([\w-]+\.py)`")
SKIPPED_FOLDERS = {".venv", "instance", "__pycache__", "node_modules"}


def modules(package: str) -> set[str]:
    """The package's Python files, as paths from the project root. An `__init__.py` holding nothing
    but its docstring is named by its folder and needs no line of its own."""
    found = set()
    for path in (PROJECT_ROOT / package).rglob("*.py"):
        if path.name == "__init__.py" and all(
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            for node in ast.parse(path.read_text()).body
        ):
            continue
        found.add(path.relative_to(PROJECT_ROOT).as_posix())
    return found


def layout_section() -> str:
    return DOCS["README.md"].split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]


def layout_names() -> set[str]:
    """The files README's Layout table names, as paths from the project root: a row's first cell
    names files and folders; its second cell names files in the row's folder (when the first cell
    is one folder), else from the root."""
    named = set()
    for first, second in re.findall(r"^\| (.+?) \| (.+) \|$", layout_section(), re.M):
        paths = re.findall(r"`([^`]+)`", first)
        folder = paths[0] if len(paths) == 1 and paths[0].endswith("/") else ""
        named.update(p for p in paths if p.endswith(".py"))
        named.update(folder + name for name in re.findall(r"`((?:[\w-]+/)*[\w-]+\.py)`", second))
    return named


def project_file_names() -> set[str]:
    names = set()
    for _, folders, files in os.walk(PROJECT_ROOT):
        folders[:] = [f for f in folders if f not in SKIPPED_FOLDERS and not f.startswith(".")]
        names.update(files)
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_the_readme_layout_names_every_module(package):
    missing = modules(package) - layout_names()
    assert not missing, f"README.md's Layout table does not name {sorted(missing)}"


def test_the_guide_names_every_module_of_the_toolkit():
    named = set(PY_PATH.findall(DOCS["MIGRATIONS.md"]))
    missing = modules("safemigrate") - named
    assert not missing, f"MIGRATIONS.md does not name {sorted(missing)}"


def test_the_docs_name_only_python_files_that_exist():
    for name, text in DOCS.items():
        gone = {path for path in PY_PATH.findall(text) if not (PROJECT_ROOT / path).is_file()}
        assert not gone, f"{name} names files that do not exist: {sorted(gone)}"
    gone = {path for path in layout_names() if not (PROJECT_ROOT / path).is_file()}
    assert not gone, f"README.md's Layout table names files that do not exist: {sorted(gone)}"
    # A bare name (`rerunnable.py`) must at least be some file of the project.
    existing = project_file_names()
    for name, text in DOCS.items():
        gone = set(BARE_MODULE.findall(text)) - existing
        assert not gone, f"{name} names files that do not exist: {sorted(gone)}"


# -- the guide's workflows, for real ----------------------------------------------------------


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path / "project")


def make(project, *args, database_url, **env):
    return run(["make", "--no-print-directory", "-C", str(project), *args], database_url=database_url, **env)


def flask_in(project, *args, database_url, **env):
    """`flask ARGS` in the copy: what the make targets run, without make's second process."""
    return run([str(BIN / "flask"), *args], database_url=database_url, cwd=project, **env)


PRIORITY_FIELD = "    priority: Mapped[int | None] = mapped_column(sa.Integer)\n"


def test_the_guides_example_workflow(project, empty_database_url):
    if "priority" in flask_db.metadata.tables["items"].c:
        pytest.skip("the models already have the example's items.priority: the guide was followed here")
    url = empty_database_url
    assert make(project, "upgrade", database_url=url).returncode == 0

    models = project / "app" / "models.py"
    source = models.read_text()
    anchor = "    owner_id: Mapped[int] = mapped_column("
    models.write_text(source.replace(anchor, PRIORITY_FIELD + anchor, 1))
    versions = project / "migrations" / "versions"
    before = set(versions.glob("*.py"))

    migrate = make(project, "migrate", "m=add priority to items", database_url=url)
    assert migrate.returncode == 0, migrate.stderr
    [new_file] = set(versions.glob("*.py")) - before
    assert new_file.name.endswith("_add_priority_to_items.py")
    assert (
        "op.add_column('items', sa.Column('priority', sa.Integer(), nullable=True), if_not_exists=True)"
        in new_file.read_text()
    )
    assert "Running post write hook 'migration_lint'" in migrate.stdout + migrate.stderr
    revision = new_file.name.split("_")[2]

    lint = make(project, "lint-migrations", database_url=url)
    assert lint.returncode == 0, lint.stdout

    assert make(project, "upgrade", database_url=url).returncode == 0
    current = make(project, "current", database_url=url)
    assert f"{revision} (head)" in current.stdout

    assert make(project, "downgrade", database_url=url).returncode == 0
    current = flask_in(project, "db", "current", database_url=url)  # `make current` ran above
    assert current.returncode == 0 and revision not in current.stdout

    engine = sa.create_engine(url)
    try:
        assert "priority" not in {c["name"] for c in sa.inspect(engine).get_columns("items")}
    finally:
        engine.dispose()


def test_reset_migrations_keeps_the_old_files_and_data(project, database_url):
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO users (email, password_hash) VALUES ('keep@example.com', 'x')")
        )
    engine.dispose()
    versions = project / "migrations" / "versions"
    old_files = sorted(p.name for p in versions.glob("*.py"))

    result = make(project, "reset-migrations", "yes=1", database_url=database_url)
    assert result.returncode == 0, result.stdout + result.stderr

    [backup] = (project / "instance").glob("migrations-backup-*")
    assert sorted(p.name for p in backup.glob("*.py")) == old_files
    [initial] = versions.glob("*.py")
    assert initial.name.endswith("_initial_migration.py")

    # What `make check` runs (tests/safemigrate/ledger/test_validate.py runs make targets of the same shape).
    for command in (("db", "check"), ("db", "lint")):
        check = flask_in(project, *command, database_url=database_url)
        assert check.returncode == 0, check.stdout + check.stderr
    old_name = re.search(r"old data in database '(\w+)'", result.stdout).group(1)
    old = sa.create_engine(database_url.set(database=old_name))
    try:
        with old.connect() as connection:
            emails = connection.execute(sa.text("SELECT email FROM users")).scalars().all()
    finally:
        old.dispose()
        from safemigrate.scratch import drop_database

        drop_database(database_url.set(database="postgres"), old_name)
    assert emails == ["keep@example.com"]


def reset_state(url) -> tuple[list[str], list[str]]:
    """What a reset would change in the database: its revision, and the copies set aside beside it."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            set_aside = connection.execute(
                sa.text("SELECT datname FROM pg_database WHERE datname LIKE :name"),
                {"name": f"{url.database}_before_reset_%"},
            )
            return versions, set_aside.scalars().all()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("env", "line"),
    [
        # A production-grade key: the app starts, and the command itself refuses.
        (
            {"APP_ENV": "production", "SECRET_KEY": "x" * 32},
            "Error: refusing to reset migrations: APP_ENV=production",
        ),
        (
            {"DATABASE_URL": "postgresql://app:hunter2@db.example.com/app"},
            "Error: refusing to reset migrations on a non-local database (host db.example.com)",
        ),
    ],
)
def test_reset_migrations_refuses_and_touches_nothing(project, database_url, env, line):
    versions = project / "migrations" / "versions"
    before = sorted(p.name for p in versions.glob("*.py"))
    database = reset_state(database_url)
    environment = {"database_url": env.pop("DATABASE_URL", database_url)}
    result = flask_in(project, "db", "reset-migrations", "--yes", **environment, **env)
    assert_clean_failure(result, line=line, code=1, secret="hunter2")
    assert sorted(p.name for p in versions.glob("*.py")) == before
    assert not (project / "instance").exists()
    assert reset_state(database_url) == database


def test_reset_migrations_asks_first(project, database_url):
    versions = project / "migrations" / "versions"
    before = sorted(p.name for p in versions.glob("*.py"))
    database = reset_state(database_url)
    result = flask_in(project, "db", "reset-migrations", database_url=database_url)
    # No answer (stdin is not a terminal) is a no: click aborts.
    assert_clean_failure(result, line="Aborted!", code=1)
    assert result.stdout.endswith("Go ahead? [y/N]: ")
    assert sorted(p.name for p in versions.glob("*.py")) == before
    assert not (project / "instance").exists()
    assert reset_state(database_url) == database


# A few of the suite's checks that plant revisions and edit models of their own: they must not collide
# with what a user adds (the complete example above adds items.priority).
SUITES_OWN_CHECKS = (
    "tests/test_cli.py::test_one_new_nullable_column_autogenerates_exactly_one_add_column",
    "tests/safemigrate/safe/test_safe.py::test_add_not_null_column_backfills_in_batches_then_sets_not_null",
    "tests/safemigrate/review/test_lint.py::test_dangerous_operation_on_an_existing_table_is_refused",
    "tests/safemigrate/snapshot/test_dump.py",
    "tests/safemigrate/testing/test_project_history.py::test_stairway",
)


def test_the_suite_passes_on_a_project_that_followed_the_complete_example(tmp_path, empty_database_url):
    project = copy_project(tmp_path / "project", with_tests=True)
    url = empty_database_url
    models = project / "app" / "models.py"
    anchor = "    owner_id: Mapped[int] = mapped_column("
    models.write_text(models.read_text().replace(anchor, PRIORITY_FIELD + anchor, 1))
    assert flask_in(project, "db", "upgrade", database_url=url).returncode == 0
    migrate = flask_in(project, "db", "migrate", "-m", "add priority to items", database_url=url)
    assert migrate.returncode == 0, migrate.stderr

    # The copy's own suite, in its own session: its own throwaway server (no DATABASE_URL), serially.
    env = {k: v for k, v in environment().items() if not k.startswith(("PYTEST_", "DATABASE_URL"))}
    result = subprocess.run(
        [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "-n", "0", *SUITES_OWN_CHECKS],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " failed" not in result.stdout and " passed" in result.stdout, result.stdout[-2000:]


def test_every_runner_option_and_variable_is_in_the_docs_tables():
    help_text = run([sys.executable, "run_migration.py", "--help"]).stdout
    options = set(re.findall(r"^  (--[a-z-]+)", help_text, re.M)) - {"--help"}
    variables = set(re.findall(r"\[(MIGRATION_[A-Z_]+)\]", help_text))
    assert options and variables
    for name, text in DOCS.items():
        tabled = set(re.findall(r"^\| `(--[a-z-]+)", text, re.M))
        assert options <= tabled, f"{name}'s runner table lacks {sorted(options - tabled)}"
    environment_table = DOCS["MIGRATIONS.md"].split("## Environment variables", 1)[1]
    missing = {v for v in variables | {"SOURCE_VERSION", "APP_VERSION"} if f"`{v}`" not in environment_table}
    assert not missing, f"MIGRATIONS.md's environment table lacks {sorted(missing)}"


def test_make_sql_of_a_range_needs_no_database(tmp_path):
    project = copy_project(tmp_path / "project")
    first = script_directory(MIGRATIONS_DIR).get_base()
    head = script_directory(MIGRATIONS_DIR).get_current_head()
    # No DATABASE_URL: the copy's embedded server, which must stay unstarted.
    result = run(["make", "--no-print-directory", "-C", str(project), "sql", f"rev={first}:{head}"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ALTER TABLE users ADD COLUMN" in result.stdout
    assert not (project / "instance" / "pgdata").exists()
