"""Revisions whose module cannot be imported (a package missing where the review runs): named, each
in one line, while the rest of the history is still reviewed.

Alembic imports every revision file to build the revision graph, and one ImportError stops it for
the whole history. The review then works on a copy of the migration scripts in which each such file
is replaced by a stand-in with the same identifiers (read from its source without running it), so
the graph holds and every other revision is rendered and judged.
"""

from __future__ import annotations

import ast
import importlib.util
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_IDENTIFIERS = ("revision", "down_revision", "branch_labels", "depends_on")


@dataclass
class StandIns:
    directory: Path  # the copy to review
    why: dict[str, str] = field(default_factory=dict)  # revision -> "versions/<file>.py: <error>"
    _folder: tempfile.TemporaryDirectory | None = None


def stand_ins(directory: Path, one_line) -> StandIns | None:
    """A reviewable copy of `directory`, or None when a revision file cannot even be read (the
    caller's error stands). `one_line` formats an exception."""
    failed: dict[Path, str] = {}
    for path in sorted((directory / "versions").glob("*.py")):
        try:
            spec = importlib.util.spec_from_file_location(f"_safemigrate_probe_{path.stem}", path)
            assert spec is not None and spec.loader is not None  # a .py file: the source loader's
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
        except Exception as exc:  # noqa: BLE001 (any import-time error: named, not raised)
            failed[path] = one_line(exc)
    if not failed:
        return None
    folder = tempfile.TemporaryDirectory(prefix="lint-")
    copy = Path(folder.name) / directory.name
    shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("__pycache__"))
    result = StandIns(copy, _folder=folder)
    for path, why in failed.items():
        identifiers = _identifiers(path)
        if identifiers is None:
            folder.cleanup()
            return None
        (copy / "versions" / path.name).write_text(
            "".join(f"{name} = {identifiers.get(name)!r}\n" for name in _IDENTIFIERS)
            + "\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
        )
        result.why[identifiers["revision"]] = f"versions/{path.name}: {why}"
    return result


def _identifiers(path: Path) -> dict | None:
    """revision, down_revision, ... as the file assigns them (literals), without running it."""
    try:
        tree = ast.parse(path.read_text())
        found = {
            node.targets[0].id: ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in _IDENTIFIERS
        }
    except (SyntaxError, ValueError):
        return None
    return found if "revision" in found else None
