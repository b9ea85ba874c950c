"""Databases part-way through a squashed range: refused, with the release to deploy first.

A squash revision (written by `flask db squash`) keeps the identifier of the last revision it
replaces and lists the others in its module's `replaces`. Only two kinds of database may run it:
an empty one, and (trivially, since it is already applied) one at or beyond it. A database at one
of the replaced revisions, or before the squash's start, would otherwise get the squash's
CREATE statements on top of the tables it already has; `flask db upgrade` and the release runner
refuse it instead, naming the release that still holds the old revisions (see MIGRATIONS.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from alembic.script import Script, ScriptDirectory

from safemigrate.library_compat import all_down_revisions
from safemigrate.state import is_known_revision, replaced_by_squash, squash_revisions

__all__ = ["replaced_by_squash", "squash_refusal", "squash_revisions"]


def squash_refusal(scripts: ScriptDirectory, current: Iterable[str]) -> str | None:
    """One line saying why a database at `current` cannot be upgraded with these scripts, or None."""
    current = tuple(current)
    if not current:
        return None
    for squash in squash_revisions(scripts):
        before = _before(scripts, squash)
        for revision in current:
            replaced = revision in squash.module.replaces
            if not replaced and not (is_known_revision(scripts, revision) and revision in before):
                continue
            where = "one of the revisions" if replaced else "before the revisions"
            commit = getattr(squash.module, "squashed_from_commit", None)
            release = (
                f"a release from before the squash (git commit {commit} or earlier)"
                if commit
                else ("a release from before the squash")
            )
            return (
                f"the database is at revision {revision}, {where} that squash revision {squash.revision} "
                f"replaces: deploy {release} first so it migrates to {squash.revision}, then deploy this one"
            )
    return None


def _before(scripts: ScriptDirectory, squash: Script) -> set[str]:
    """Revisions below the squash's start (A of an A:B squash), A included."""
    downs = all_down_revisions(squash)
    if not downs:
        return set()
    return {s.revision for s in scripts.revision_map.iterate_revisions(downs, "base")}
