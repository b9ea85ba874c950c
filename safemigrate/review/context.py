"""What the rules know while they read one revision's statements, and how they report."""

from __future__ import annotations

from dataclasses import dataclass, field

from safemigrate.review.history import Schema
from safemigrate.review.report import ERROR, Finding
from safemigrate.review.rulebook import RULES
from safemigrate.review.sql import Statement

SAFE = "from safemigrate import safe"
EXPAND_CONTRACT = (
    "expand/contract: add the new {what}, write both and backfill (safe.backfill_in_batches), switch "
    "reads in a release, drop the old one in a later release"
)


@dataclass
class Context:
    schema: Schema
    created: set[str] = field(default_factory=set)  # tables this revision creates: nobody uses them yet
    # Constraints added in the open transaction: (table, name), no name for an unnamed one.
    added_here: set[tuple[str, str | None]] = field(default_factory=set)
    enum_values_added: set[tuple[str, str]] = field(default_factory=set)  # the same, (type, value)
    enum_types_created: set[str] = field(default_factory=set)  # in the open transaction: usable at once
    findings: list[Finding] = field(default_factory=list)

    def existing(self, table: str) -> bool:
        return table not in self.created

    def report(self, rule: str, statement: Statement, message: str, fix: str = "") -> None:
        assert rule in RULES, rule  # every rule is documented (rulebook.py, MIGRATIONS.md)
        self.findings.append(Finding(rule, ERROR, message, sql=statement.sql, fix=fix))
