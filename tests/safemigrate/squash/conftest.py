"""Histories to squash: the project's own, and a longer synthetic one (bench/history.py), each
squashed once per module on the session's server."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from bench.history import build_history, synthetic_revision_id
from config import MIGRATIONS_DIR
from safemigrate.squash.build import SquashResult, squash
from safemigrate.state import alembic_config, run_scripts

SYNTHETIC = 12
# Squash the project's revisions and synthetic 0..8; synthetic 9..11 stay after the squash.
TARGET = synthetic_revision_id(8)
PART_WAY = synthetic_revision_id(3)
BEYOND = synthetic_revision_id(10)
# The project's own revisions, under the synthetic ones (counted, so a new revision breaks nothing).
PROJECT_REVISIONS = len(list(ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()))


@dataclass(frozen=True)
class Squashed:
    original: Path  # the history before the squash
    squashed: Path  # the same history, squashed
    result: SquashResult


@pytest.fixture(scope="module")
def long_history(tmp_path_factory, server_url) -> Squashed:
    root = tmp_path_factory.mktemp("squash-long")
    original = build_history(root / "original", SYNTHETIC)
    squashed = build_history(root / "migrations", SYNTHETIC)
    result = squash(squashed, TARGET, "squash the early history", server_url)
    return Squashed(original, squashed, result)


@pytest.fixture(scope="module")
def project_history(tmp_path_factory, server_url) -> Squashed:
    root = tmp_path_factory.mktemp("squash-project")
    original = Path(
        shutil.copytree(MIGRATIONS_DIR, root / "original", ignore=shutil.ignore_patterns("__pycache__"))
    )
    squashed = Path(shutil.copytree(original, root / "migrations"))
    head = ScriptDirectory(str(original)).get_current_head()
    result = squash(squashed, head, "squash the whole history", server_url)
    return Squashed(original, squashed, result)


def migrate(url: URL, directory: Path, destination: str = "head", direction: str = "upgrade") -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            scripts = ScriptDirectory(str(directory))
            run_scripts(alembic_config(connection, directory=directory), scripts, direction, destination)
    finally:
        engine.dispose()


def current(url: URL) -> tuple[str, ...]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
