"""A throwaway copy of the project, sharing the real .venv, for tests that edit models or revisions."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.cli_helpers import PROJECT_ROOT

_SKIP = shutil.ignore_patterns(
    ".venv", "instance", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", "bench", "tests"
)


def copy_project(destination: Path) -> Path:
    """Copy the project (file times kept, so `make install` sees nothing to do) with .venv linked."""
    shutil.copytree(PROJECT_ROOT, destination, ignore=_SKIP)
    (destination / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    return destination
