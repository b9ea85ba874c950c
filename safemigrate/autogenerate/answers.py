"""The answers autogenerate may need from a person: backfill values, renames, and drops that are not.

They come from `flask db migrate --backfill items.priority=0 --rename items.description:details`, or
from questions when the command runs in a terminal, and reach the hooks through
`config.attributes["autogenerate_answers"]`. Without answers (e.g. `flask db check`) nothing is asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from safemigrate.errors import EXIT_USAGE, SafeMigrateError

ATTRIBUTE = "autogenerate_answers"
_NAME = r"[A-Za-z_][A-Za-z0-9_$]*"
_BACKFILL = re.compile(rf"^(?P<table>{_NAME})\.(?P<column>{_NAME})=(?P<value>.*)$", re.S)
_RENAME = re.compile(rf"^(?P<table>{_NAME})(?:\.(?P<old>{_NAME}))?:(?P<new>{_NAME})$")
_DROP = re.compile(rf"^{_NAME}(?:\.{_NAME})?$")


class AutogenerateRefused(SafeMigrateError):
    """Autogenerate cannot write a revision that would work; the message is one line saying what
    to add. No file is written."""

    exit_code = EXIT_USAGE


@dataclass
class Answers:
    backfill: dict[str, str] = field(default_factory=dict)  # "table.column" -> value, as typed
    renames: dict[str, str] = field(
        default_factory=dict
    )  # "table.column" -> new column; "table" -> new table
    drops: set[str] = field(default_factory=set)  # "table.column" or "table": dropped on purpose
    interactive: bool = False
    # Filled by the hooks, printed by the command: questions answered, warnings, things to review.
    notes: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    @classmethod
    def parse(
        cls,
        backfill: tuple[str, ...] = (),
        renames: tuple[str, ...] = (),
        interactive: bool = False,
        drops: tuple[str, ...] = (),
    ):
        answers = cls(interactive=interactive)
        for given in backfill:
            match = _BACKFILL.match(given)
            if not match or not match["value"]:
                raise AutogenerateRefused(
                    f"--backfill {given!r}: expected TABLE.COLUMN=VALUE, e.g. items.priority=0"
                )
            answers.backfill[f"{match['table']}.{match['column']}"] = match["value"]
        for given in renames:
            match = _RENAME.match(given)
            if not match:
                raise AutogenerateRefused(
                    f"--rename {given!r}: expected TABLE.OLD:NEW (a column) or OLD:NEW (a table), "
                    "e.g. items.description:details"
                )
            key = f"{match['table']}.{match['old']}" if match["old"] else match["table"]
            answers.renames[key] = match["new"]
        for given in drops:
            if not _DROP.match(given):
                raise AutogenerateRefused(
                    f"--drop {given!r}: expected TABLE.COLUMN (a column) or TABLE (a table), "
                    "e.g. items.description"
                )
            if given in answers.renames:
                raise AutogenerateRefused(f"--drop {given} and --rename {given}:...: give one or the other")
            answers.drops.add(given)
        return answers

    def dropped_on_purpose(self, key: str) -> bool:
        """`--drop key` was given: the drop is not a rename, do not ask."""
        if key in self.drops:
            self.used.add(f"drop {key}")
            return True
        return False

    @classmethod
    def of(cls, config) -> Answers | None:
        given = config.attributes.get(ATTRIBUTE) if config is not None else None
        if isinstance(given, dict):
            given = cls(**given)
            config.attributes[ATTRIBUTE] = given
        return given

    def unused(self) -> list[str]:
        """Options given that matched nothing autogenerate found (a typo, or a wrong target)."""
        keys = [f"--backfill {k}" for k in self.backfill if k not in self.used]
        keys += [f"--rename {k}:{v}" for k, v in self.renames.items() if k not in self.used]
        keys += [f"--drop {k}" for k in sorted(self.drops) if f"drop {k}" not in self.used]
        return keys
