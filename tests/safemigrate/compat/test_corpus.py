"""The compatibility gate on its corpus: every breaking revision caught, no safe one flagged.

For each case, the previous release (the project's models plus CompatThing, at the base revision)
is proved against a history with the case's revision on top (`prove`, as `flask db compat` runs it),
and the static verdict the ledger recorded as the proof applied it is compared with the case's. Each
proof starts from one database at the base revision, cloned.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from config import PROJECT_ROOT
from safemigrate.compat.previous import find_previous
from safemigrate.compat.proof import prove
from safemigrate.scratch import create_database, drop_database
from tests.conftest import upgrade
from tests.safemigrate.compat.corpus import BASE_REVISION, BASE_UPGRADE, BREAKING, EXTRA_MODELS, SAFE, Case
from tests.support.planting import copy_migrations, plant

CASE_REVISION = "cpcase000001"
MODELS = Path("app/models.py")


@pytest.fixture(scope="module")
def previous_release(tmp_path_factory):
    """A directory holding the previous release: app/models.py (with CompatThing) and migrations/."""
    root = tmp_path_factory.mktemp("previous")
    (root / "app").mkdir()
    (root / "app" / "models.py").write_text((PROJECT_ROOT / MODELS).read_text() + EXTRA_MODELS)
    plant(copy_migrations(root), BASE_REVISION, BASE_UPGRADE, message="compat corpus base")
    return root


@pytest.fixture(scope="module")
def at_base(previous_release, server_url):
    """The name of a database at the base revision (a template: nobody connects to it)."""
    name = f"compat_base_{id(previous_release)}"
    create_database(server_url, name)
    upgrade(server_url.set(database=name), BASE_REVISION, directory=previous_release / "migrations")
    sa.create_engine(server_url.set(database=name)).dispose()
    yield name
    drop_database(server_url, name)


def history_with(case: Case, previous_release, tmp_path) -> ScriptDirectory:
    directory = tmp_path / "next" / "migrations"
    shutil.copytree(previous_release / "migrations", directory)
    plant(directory, CASE_REVISION, case.upgrade, down_revision=BASE_REVISION, message=case.name)
    return ScriptDirectory(str(directory))


def proved(case: Case, previous_release, at_base, tmp_path, server_url):
    previous = find_previous(
        str(previous_release), previous_release, MODELS, Path("migrations"), folder=tmp_path
    )
    return prove(server_url, history_with(case, previous_release, tmp_path), previous, template=at_base)


@pytest.mark.parametrize("case", BREAKING, ids=[c.name for c in BREAKING])
def test_the_gate_catches_each_revision_that_breaks_the_previous_release(
    case, previous_release, at_base, tmp_path, server_url
):
    proof = proved(case, previous_release, at_base, tmp_path, server_url)
    assert proof.already_failing == []
    assert proof.incompatibilities, f"{case.name}: no incompatibility found"
    assert {i.revision for i in proof.incompatibilities} == {CASE_REVISION}
    assert all(
        i.line().startswith(f"revision {CASE_REVISION} ({case.name}): ") for i in proof.incompatibilities
    )


@pytest.mark.parametrize("case", SAFE, ids=[c.name for c in SAFE])
def test_the_gate_passes_each_revision_that_keeps_the_previous_release(
    case, previous_release, at_base, tmp_path, server_url
):
    proof = proved(case, previous_release, at_base, tmp_path, server_url)
    assert proof.already_failing == []
    assert [i.line() for i in proof.incompatibilities] == []
    assert proof.revisions == [CASE_REVISION]
    assert proof.static == {CASE_REVISION: case.static_keeps}  # what the ledger recorded on the way
