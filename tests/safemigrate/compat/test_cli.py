"""`flask db compat --against REF` as a developer and a CI gate type it."""

from __future__ import annotations

import shutil
import subprocess

import sqlalchemy as sa

from config import MIGRATIONS_DIR, PROJECT_ROOT
from safemigrate.state import script_directory
from tests.support.cli_helpers import flask, run
from tests.support.planting import copy_migrations, plant


def databases(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(sa.text("SELECT datname FROM pg_database")).scalars())


def one_line(result) -> str:
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_against_the_release_before_the_newest_revision_of_this_project(database_url):
    """The project's own history: the release that added the newest revision, against the one before."""
    newest = script_directory(MIGRATIONS_DIR).get_revision("head")
    added = subprocess.run(
        [shutil.which("git") or "git", "log", "--diff-filter=A", "--format=%H", "--", str(newest.path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    result = flask("db", "compat", "--against", f"{added}^", database_url=database_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(
        f"runs on every one of 1 revision(s) from {newest.down_revision} to {newest.revision}"
    )


def test_a_directory_holding_a_previous_release_with_a_breaking_revision_after_it(
    database_url, tmp_path, engine
):
    previous = tmp_path / "previous"
    (previous / "app").mkdir(parents=True)
    (previous / "app" / "models.py").write_text((PROJECT_ROOT / "app" / "models.py").read_text())
    copy_migrations(previous)
    current = copy_migrations(tmp_path / "current")
    plant(current, "cpcli0000001", 'op.drop_column("items", "description")', message="drop items.description")
    before = databases(engine)
    result = flask("db", "compat", "--against", str(previous), "-d", str(current), database_url=database_url)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(
        "incompatible: revision cpcli0000001 (drop items.description): Item: select: ProgrammingError: "
        "column items.description does not exist"
    )
    found = [line for line in lines if line.startswith("incompatible: revision cpcli0000001 ")]
    assert found == lines[:-1] and len(found) >= 2  # the read and the writes of Item
    assert lines[-1] == (
        f"{len(found)} incompatibilit(ies) with the previous release ({previous}) in 1 revision(s) from "
        f"{script_directory(MIGRATIONS_DIR).get_current_head()} to cpcli0000001"
    )
    assert databases(engine) == before  # the scratch database is gone, nothing else written


def test_make_compat_against_a_folder_holding_the_release_before_the_newest_revision(
    database_url, tmp_path, engine
):
    """`make compat ref=...` as README and MIGRATIONS.md show it, on the project itself."""
    usage = run(["make", "--no-print-directory", "compat"], database_url=database_url)
    assert usage.returncode == 2
    # The line, then make's own note of the recipe's exit status.
    [line, *_] = usage.stderr.splitlines()
    assert line == "usage: make compat ref=<git ref or folder of the previous release>"

    previous = tmp_path / "previous"
    (previous / "app").mkdir(parents=True)
    (previous / "app" / "models.py").write_text((PROJECT_ROOT / "app" / "models.py").read_text())
    newest = script_directory(MIGRATIONS_DIR).get_revision("head")
    (copy_migrations(previous) / "versions" / newest.path.split("/")[-1]).unlink()
    before = databases(engine)
    result = run(["make", "--no-print-directory", "compat", f"ref={previous}"], database_url=database_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        f"compatible: the previous release ({previous}) runs on every one of 1 revision(s) from "
        f"{newest.down_revision} to {newest.revision}"
    )
    assert databases(engine) == before


def test_against_naming_nothing_is_one_line(database_url):
    result = flask("db", "compat", "--against", "", database_url=database_url)
    assert result.returncode == 2
    assert (
        one_line(result) == "Error: --against names nothing: give a git ref (e.g. origin/main) or a directory"
    )


def test_against_an_unknown_ref_is_one_line(database_url):
    result = flask("db", "compat", "--against", "no-such-ref-xyz", database_url=database_url)
    assert result.returncode == 2
    assert one_line(result) == (
        f"Error: --against 'no-such-ref-xyz' is neither a directory nor a git ref of {PROJECT_ROOT}"
    )


def test_a_directory_without_models_is_one_line(database_url, tmp_path):
    copy_migrations(tmp_path)
    result = flask("db", "compat", "--against", str(tmp_path), database_url=database_url)
    assert result.returncode == 2
    assert one_line(result) == f"Error: {tmp_path} has no models at app/models.py"


def test_models_that_do_not_load_are_one_line(database_url, tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text("import sqlalchemy as sa\nclass Broken(:\n")
    copy_migrations(tmp_path)
    result = flask("db", "compat", "--against", str(tmp_path), database_url=database_url)
    assert result.returncode == 2
    assert one_line(result).startswith(
        f"Error: the models of {tmp_path} (app/models.py, line 2) do not load: SyntaxError"
    )


def test_a_previous_release_on_another_branch_is_one_line(database_url, tmp_path, engine):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text((PROJECT_ROOT / "app" / "models.py").read_text())
    plant(copy_migrations(tmp_path), "cpother00001", "pass", message="elsewhere")
    before = databases(engine)
    result = flask("db", "compat", "--against", str(tmp_path), database_url=database_url)
    assert result.returncode == 2
    assert one_line(result) == (
        "Error: the previous release's head cpother00001 is not in this history: it is on another branch"
    )
    assert databases(engine) == before
