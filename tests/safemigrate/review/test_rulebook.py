"""Every rule the review can emit is in its catalogue, and MIGRATIONS.md documents each one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from safemigrate import review
from safemigrate.review import RULES
from tests.support.cli_helpers import PROJECT_ROOT

GUIDE = (PROJECT_ROOT / "MIGRATIONS.md").read_text()


def emitted_rule_names() -> set[str]:
    """String literals the review's code passes as a rule name (first argument of report(),
    _finding(), Finding(), or assigned to .rule)."""
    names = set()
    for path in Path(review.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                func = (
                    node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                )
                if func in ("report", "_finding", "Finding"):
                    names.add(node.args[0].value)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple):
                for target in node.targets:
                    if isinstance(target, ast.Tuple) and any(
                        isinstance(t, ast.Attribute) and t.attr == "rule" for t in target.elts
                    ):
                        names.add(node.value.elts[0].value)
    return names


def test_every_rule_the_code_emits_is_in_the_catalogue():
    emitted = emitted_rule_names()
    assert len(emitted) > 20
    assert emitted <= set(RULES), emitted - set(RULES)
    assert set(RULES) <= emitted, f"catalogued but never emitted: {set(RULES) - emitted}"


def test_migrations_md_documents_every_rule_with_its_fix():
    rows = re.findall(r"^\| ([^|]+) \| [^|]+ \| ([^|]+) \|$", GUIDE, re.M)
    documented = {name: fix for names, fix in rows for name in re.findall(r"`([a-z-]+)`", names)}
    missing = set(RULES) - set(documented)
    assert not missing, f"MIGRATIONS.md lacks rules: {sorted(missing)}"
    assert all(documented[rule].strip() for rule in RULES)
