"""Which columns an index covers, as the history built and dropped them: a collation change rebuilds
every index on its column (alter_table.py), and a column without one changes instantly."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

_unnamed = itertools.count()


@dataclass
class IndexCoverage:
    # "schema.name" of an index, or of the constraint an index backs -> (table, the columns it covers)
    by_name: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    # The keys of by_name that are unique over exactly their plain columns (primary keys, unique
    # constraints, unique indexes without expressions or WHERE): an equality on all of them pins a row.
    unique: set[str] = field(default_factory=set)

    def add(self, table: str, name: str | None, columns, *, unique: bool = False) -> None:
        key = f"{table.split('.')[0]}.{name}" if name else f"{table}#{next(_unnamed)}"  # PostgreSQL names it
        self.by_name[key] = (table, frozenset(columns))
        if unique:
            self.unique.add(key)
        else:
            self.unique.discard(key)

    def unique_keys(self, table: str) -> list[frozenset[str]]:
        return [c for k, (t, c) in self.by_name.items() if t == table and k in self.unique]

    def covers(self, table: str, column: str) -> bool:
        return any(t == table and column in columns for t, columns in self.by_name.values())

    def drop(self, schema: str, name: str) -> None:
        self.by_name.pop(f"{schema}.{name}", None)

    def drop_table(self, table: str) -> None:
        self.by_name = {k: v for k, v in self.by_name.items() if v[0] != table}

    def drop_column(self, table: str, column: str) -> None:
        """PostgreSQL drops every index that uses the column with it."""
        self.by_name = {k: v for k, v in self.by_name.items() if not (v[0] == table and column in v[1])}

    def rename(self, schema: str, old: str, new: str) -> None:
        if f"{schema}.{old}" in self.by_name:
            self.by_name[f"{schema}.{new}"] = self.by_name.pop(f"{schema}.{old}")
            if f"{schema}.{old}" in self.unique:
                self.unique.discard(f"{schema}.{old}")
                self.unique.add(f"{schema}.{new}")

    def rename_table(self, old: str, new: str) -> None:
        self.by_name = {k: ((new if t == old else t), c) for k, (t, c) in self.by_name.items()}

    def rename_column(self, table: str, old: str, new: str) -> None:
        self.by_name = {
            k: (t, (c - {old}) | {new} if t == table and old in c else c)
            for k, (t, c) in self.by_name.items()
        }

    def copy(self) -> IndexCoverage:
        return IndexCoverage(dict(self.by_name), set(self.unique))
