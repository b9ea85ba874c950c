"""Every private Alembic/SQLAlchemy access goes through safemigrate/library_compat.py, so an upgrade of either
library is checked in one module: no other module reaches past a leading underscore of an object it
does not own (`x._name`, `getattr(x, "_name")`) or imports a private name from Alembic or SQLAlchemy."""

from __future__ import annotations

import ast
from pathlib import Path

import safemigrate

PACKAGE = Path(safemigrate.__file__).parent
LIBRARIES = ("alembic", "sqlalchemy")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_accesses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append(f"{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
            "getattr",
            "hasattr",
            "setattr",
        ):
            name = node.args[1] if len(node.args) > 1 else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str) and _private(name.value):
                found.append(f"{node.lineno}: {node.func.id}(..., {name.value!r})")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in LIBRARIES:
            parts = (node.module or "").split(".")
            names = [alias.name for alias in node.names]
            if any(_private(part) for part in parts) or any(_private(name) for name in names):
                found.append(f"{node.lineno}: from {node.module} import {', '.join(names)}")
    return sorted(found, key=lambda site: int(site.split(":")[0]))


def test_private_library_apis_are_used_only_in_the_compatibility_module():
    found = {
        str(path.relative_to(PACKAGE)): sites
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "library_compat.py" and (sites := private_accesses(path))
    }
    assert found == {}


def test_the_check_sees_each_kind_of_private_access(tmp_path):
    module = tmp_path / "module.py"
    module.write_text(
        "from alembic.autogenerate.render import _render_column\n"
        "steps = scripts._upgrade_revs('head', None)\n"
        "saved = getattr(context, '_proxy', None)\n"
        "self._mine = cls._also_mine = object.__class__\n"
    )
    assert private_accesses(module) == [
        "1: from alembic.autogenerate.render import _render_column",
        "2: ._upgrade_revs",
        "3: getattr(..., '_proxy')",
    ]
