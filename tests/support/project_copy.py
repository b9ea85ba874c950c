"""A throwaway copy of the project, sharing the real .venv, for tests that edit models or revisions."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.cli_helpers import PROJECT_ROOT

_SKIP = {".venv", "instance", ".git", ".pytest_cache", ".ruff_cache", "bench", "tests"}
# Bytecode is copied (times are kept, so it stays valid) except for the models, which tests edit
# within the same second and often at the same size: Python would take the old .pyc for the new text.
_EDITED = "models."


def _skipping(skipped: set[str]):
    def skip(folder: str, names: list[str]) -> set[str]:
        if Path(folder).name == "__pycache__":
            return {name for name in names if name.startswith(_EDITED)}
        return skipped.intersection(names)

    return skip


def copy_project(destination: Path, *, with_tests: bool = False) -> Path:
    """Copy the project (file times kept, so `make install` sees nothing to do) with .venv linked;
    `with_tests`: its test suite too, to run the suite's own checks on an edited copy."""
    skipped = _SKIP - {"tests"} if with_tests else _SKIP
    shutil.copytree(PROJECT_ROOT, destination, ignore=_skipping(skipped))
    (destination / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    return destination
