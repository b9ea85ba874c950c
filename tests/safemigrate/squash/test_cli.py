"""`make squash` as a developer runs it, on a copy of the project."""

from __future__ import annotations

from config import MIGRATIONS_DIR
from safemigrate.state import script_directory
from tests.safemigrate.squash.conftest import current, migrate
from tests.support.cli_helpers import run
from tests.support.project_copy import copy_project


def make(project, *args, database_url):
    return run(["make", "--no-print-directory", "-C", str(project), *args], database_url=database_url)


def test_make_squash_replaces_the_history_and_the_result_upgrades(
    tmp_path, empty_database_url, make_database
):
    project = copy_project(tmp_path / "project")
    head = script_directory(MIGRATIONS_DIR).get_current_head()

    usage = make(project, "squash", database_url=empty_database_url)
    assert usage.returncode == 2 and "usage: make squash rev=<B>" in usage.stderr

    result = make(
        project, "squash", f"rev={head}", "m=squash the first revisions", database_url=empty_database_url
    )
    assert result.returncode == 0, result.stderr
    assert "verified: the squash builds the replayed schema" in result.stdout
    versions = sorted(p.name for p in (project / "migrations" / "versions").glob("*.py"))
    assert len(versions) == 1 and versions[0].endswith(f"_{head}_squash_the_first_revisions.py")
    assert len(list((project / "migrations" / "squashed" / head).glob("*.py"))) == len(
        list(script_directory(MIGRATIONS_DIR).walk_revisions())
    )

    url = make_database()
    migrate(url, project / "migrations")
    assert current(url) == (head,)
    assert current(empty_database_url) == (), "the squash works on scratch databases only"


def test_a_squash_of_uncommitted_revisions_warns_and_names_no_commit(tmp_path, empty_database_url):
    project = copy_project(tmp_path / "project")
    head = script_directory(MIGRATIONS_DIR).get_current_head()
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q"], ["add", "app"], ["commit", "-q", "-m", "app only"]):
        assert run([*git, *args]).returncode == 0
    commit = run([*git, "rev-parse", "--short", "HEAD"]).stdout.strip()

    result = make(project, "squash", f"rev={head}", "m=squash", database_url=empty_database_url)

    assert result.returncode == 0, result.stderr
    count = len(list(script_directory(MIGRATIONS_DIR).walk_revisions()))
    assert (
        f"WARNING: {count} of the replaced revision files are not committed: commit {commit} does not hold "
        "them, so the squash names no commit; commit them first to be able to go back to them"
    ) in result.stdout
    [squash] = (project / "migrations" / "versions").glob("*.py")
    assert "squashed_from_commit = None" in squash.read_text()
