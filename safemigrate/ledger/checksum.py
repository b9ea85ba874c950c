"""What a revision does, as a checksum: of its rendered SQL, or of its source when it cannot render.

The SQL comes from the offline renderer (safemigrate/offline.py): one offline (`--sql`) pass
over the revisions with the caller's parsed ScriptDirectory, sliced per revision. Each slice is
normalised with PostgreSQL's own scanner (pglast): comments and
whitespace do not count, and neither do the transaction brackets and the `alembic_version`
bookkeeping, which depend on where the revision sits rather than on what it does.

A revision whose Python cannot render offline (it raises) gets a checksum of its source's
syntax tree instead (docstrings and comments excluded). Checksums carry their kind as a prefix
(`sql:` / `py:`), so the two never compare equal by accident.

Alembic's `context` and `op` are module-level proxies: rendering while an online migration is
in progress would clobber them, so `render_checksums` puts the caller's proxy back afterwards.
"""

from __future__ import annotations

import ast
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from alembic import context as alembic_context
from alembic.script import ScriptDirectory
from pglast import parser as pg_parser

from safemigrate.library_compat import proxy_restored, versioned_down_revisions
from safemigrate.offline import render
from safemigrate.review.compat import ColumnTypes, TypesThrough, Verdict, declared, judge, unknown

_BOOKKEEPING = ("BEGIN", "COMMIT")


def normalise_sql(sql: str) -> str:
    """The statements of `sql`, one per line, tokens joined by one space, comments dropped."""
    try:
        tokens = pg_parser.scan(sql)
    except pg_parser.ParseError:
        return " ".join(sql.split())  # an unterminated literal: whitespace-only normalisation
    statements: list[list[str]] = []
    current: list[str] = []
    for token in tokens:
        if token.name in ("SQL_COMMENT", "C_COMMENT"):
            continue
        # '%%' counts as '%': until 2026-11-24 the offline pass printed every % doubled, and the
        # checksums recorded then must still match the same revisions.
        text = sql[token.start : token.end + 1].replace("%%", "%")
        if text == ";":
            statements.append(current)
            current = []
        else:
            current.append(text)
    statements.append(current)
    kept = []
    for words in statements:
        line = " ".join(words)
        if not line or line.upper() in _BOOKKEEPING or _is_version_table(words):
            continue
        kept.append(line)
    return "\n".join(kept)


def _is_version_table(words: list[str]) -> bool:
    """Alembic's own statements on alembic_version (CREATE/INSERT INTO/UPDATE/DELETE FROM/DROP)."""
    return any(word.lower() == "alembic_version" for word in words[1:3])


def sql_checksum(sql: str) -> str:
    return "sql:" + hashlib.sha256(normalise_sql(sql).encode()).hexdigest()


def source_checksum(path: str | Path) -> str:
    """Checksum of a revision file's syntax tree, without docstrings (comments are not in it)."""
    tree = ast.parse(Path(path).read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            body.pop(0)
    return "py:" + hashlib.sha256(ast.dump(tree).encode()).hexdigest()


def _is_docstring(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def render_checksums(
    scripts: ScriptDirectory, destination: str = "heads", starting_rev: str | tuple | None = None
) -> dict[str, str]:
    """{revision: checksum} for the upgrades after `starting_rev` (None: base) up to `destination`.

    One offline pass; a revision that cannot render gets its source checksum and the pass resumes
    after it. Safe to call while an online migration is running (its `context` proxy is restored).
    """
    return {
        revision: found.checksum
        for revision, found in render_upgrades(scripts, destination, starting_rev).items()
    }


@dataclass(frozen=True)
class RenderedRevision:
    checksum: str
    verdict: Verdict  # what it means for the release before it (safemigrate/review/compat.py)


def render_upgrades(
    scripts: ScriptDirectory,
    destination: str | tuple[str, ...] = "heads",  # a tuple: the heads a database is at
    starting_rev: str | tuple | None = None,
    column_types: ColumnTypes | None = None,
) -> dict[str, RenderedRevision]:
    """Like render_checksums, with each revision's compatibility verdict judged on the same SQL.

    `column_types` gives a column's type before the first revision; later revisions see the types
    the earlier ones of the pass set."""
    # The offline pass would log "Running upgrade A -> B" for revisions that are not being run.
    migration_log = logging.getLogger("alembic.runtime.migration")
    was_disabled, migration_log.disabled = migration_log.disabled, True
    try:
        with proxy_restored(alembic_context):
            return _render(scripts, destination, starting_rev, column_types)
    finally:
        migration_log.disabled = was_disabled


def _render(
    scripts: ScriptDirectory,
    destination: str | tuple[str, ...],
    starting_rev: str | tuple | None,
    column_types: ColumnTypes | None = None,
) -> dict[str, RenderedRevision]:
    """The one-pass offline renderer (safemigrate/offline.py), checksummed and judged."""
    rendered = render(scripts, "upgrade", starting_rev, destination)
    types = TypesThrough(column_types)
    found = {}
    for revision in _in_order(scripts, rendered.sql.keys() | rendered.failed.keys()):
        if revision in rendered.failed:
            why = f"it does not render offline ({rendered.failed[revision]})"
            script = scripts.get_revision(revision)
            found[revision] = RenderedRevision(
                source_checksum(script.path), declared(script.module) or unknown(why)
            )
            continue
        sql = rendered.sql[revision]
        stated = declared(scripts.get_revision(revision).module)
        found[revision] = RenderedRevision(sql_checksum(sql), stated or judge(sql, types))
        types.after(sql)
    return found


def _in_order(scripts: ScriptDirectory, revisions: Iterable[str]) -> list[str]:
    """Oldest first, as they run (the verdicts follow the column types through the pass)."""
    order = {script.revision: n for n, script in enumerate(reversed(list(scripts.walk_revisions())))}
    return sorted(revisions, key=lambda revision: order.get(revision, 0))


def checksum_of(scripts: ScriptDirectory, revision: str) -> str:
    """The checksum of one revision, rendered on its own (from its down revisions to it).

    Also restores Alembic's `op` proxy, so it can run between two steps of an online migration.
    """
    from alembic import op

    script = scripts.get_revision(revision)
    with proxy_restored(op):
        found = render_checksums(scripts, script.revision, versioned_down_revisions(script) or None)
    return found.get(script.revision) or source_checksum(script.path)
