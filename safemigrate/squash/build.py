"""`flask db squash [A:]B`: one revision that brings an empty database straight to B's schema.

How it is built (nothing is written until the last step):
1. plan (safemigrate/squash/plan.py): the revisions replaced, or a one-line refusal;
2. replay: a scratch database is migrated through the real revisions up to B;
3. render: the squash's upgrade() is that database's schema as PostgreSQL dumps it (the normalised
   `pg_dump --schema-only` of safemigrate/snapshot/dump.py, one statement per `op.execute`), so constraint
   and index names, enums, sequences, server defaults and NOT VALID states are the replayed ones,
   not what the models say; downgrade() drops what the catalogue holds;
4. verify: a copy of the history with the squash in place of the range builds a second scratch
   database whose catalogue must equal the replayed one, downgrades back to empty, and both
   databases then upgrade to head and must still be equal;
5. write: the squash keeps B's identifier, so databases at B or beyond never notice; the replaced
   files move to migrations/squashed/<B>/ where git and the reviewer still see them.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pglast
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from safemigrate.ledger import recorder as ledger
from safemigrate.scratch import ScratchUnavailable, scratch_database
from safemigrate.snapshot.dump import diff, schema_text
from safemigrate.squash.plan import SquashPlan, SquashRefused, plan_squash
from safemigrate.squash.render import render_squash
from safemigrate.state import alembic_config, run_scripts

SQUASHED_DIR = "squashed"


@dataclass(frozen=True)
class SquashResult:
    path: Path  # the new revision file
    archive: Path  # where the replaced files went
    plan: SquashPlan
    statements: int


def squash(
    directory: Path,
    revision_range: str,
    message: str,
    server_url: URL,
    *,
    exclude_tables: tuple[str, ...] = (),
    echo: Callable[[str], None] = lambda _line: None,
) -> SquashResult:
    """Squash `revision_range` of the history in `directory`, using scratch databases on the
    server of `server_url`. Raises SquashRefused (nothing written) when it cannot."""
    directory = Path(directory)
    # Every migrated database has the ledger (env.py creates it): it is bookkeeping, not schema.
    exclude_tables = (ledger.TABLE, *exclude_tables)
    if not message.strip():
        raise SquashRefused('a squash needs a message: -m "squash of the first N revisions"')
    scripts = ScriptDirectory(str(directory))
    plan = plan_squash(scripts, revision_range)
    if plan.base is not None:
        raise SquashRefused(
            "A:B is not supported: the squash would have to be the difference from A's schema, which pg_dump "
            "cannot print and autogenerate renders only in part; squash from the first revision (B or base:B)"
        )
    target = plan.target.revision
    archive = directory / SQUASHED_DIR / target
    if archive.exists():
        raise SquashRefused(f"{archive} already exists: a squash of {target} was made before")
    echo(f"squashing {len(plan.replaced)} revisions up to {target}")
    with _scratch_database(server_url) as replayed, _scratch_database(server_url) as rebuilt:
        _migrate(replayed, directory, scripts, "upgrade", target)
        schema = schema_text(replayed, exclude_tables=exclude_tables)
        if "\nINVALID INDEX: " in f"\n{schema}":
            raise SquashRefused("replaying the range leaves an INVALID index: fix that revision first")
        statements = [s for s in pglast.split(schema) if s.strip()]
        drops = _drop_statements(replayed, exclude_tables)
        commit = _git_commit(directory, [Path(script.path) for script in plan.replaced], echo)
        source = render_squash(plan, message, statements, drops, commit)
        with tempfile.TemporaryDirectory(prefix="squash-") as scratch_dir:
            candidate = _candidate_history(directory, Path(scratch_dir), plan, source)
            _verify(candidate, replayed, rebuilt, directory, scripts, target, schema, exclude_tables, echo)
    path = _write(directory, plan, source, message, archive)
    echo(f"wrote {path}; the replaced files moved to {archive}")
    return SquashResult(path=path, archive=archive, plan=plan, statements=len(statements))


# -- verification --------------------------------------------------------------------------------
def _verify(
    candidate: Path,
    replayed: URL,
    rebuilt: URL,
    directory: Path,
    scripts: ScriptDirectory,
    target: str,
    schema: str,
    exclude_tables: tuple[str, ...],
    echo: Callable[[str], None],
) -> None:
    candidate_scripts = ScriptDirectory(str(candidate))
    _migrate(rebuilt, candidate, candidate_scripts, "upgrade", target)
    _same(schema, schema_text(rebuilt, exclude_tables=exclude_tables), f"at {target}")
    echo(f"verified: the squash builds the replayed schema of {target}")
    _migrate(rebuilt, candidate, candidate_scripts, "downgrade", "base")
    left = schema_text(rebuilt, exclude_tables=exclude_tables)
    if left.strip():
        raise SquashRefused(
            f"the squash's downgrade leaves objects behind, first: {left.splitlines()[0][:100]}"
        )
    head = scripts.get_current_head()
    if head != target:
        _migrate(rebuilt, candidate, candidate_scripts, "upgrade", "head")
        _migrate(replayed, directory, scripts, "upgrade", "head")
        _same(
            schema_text(replayed, exclude_tables=exclude_tables),
            schema_text(rebuilt, exclude_tables=exclude_tables),
            "at head",
        )
        echo("verified: the revisions after it still upgrade to the same head schema")


def _same(expected: str, actual: str, where: str) -> None:
    lines = diff(expected, actual)
    differences = [line for line in lines if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    if differences:
        raise SquashRefused(
            f"the squash would not rebuild the replayed schema {where} ({len(differences)} line(s) differ, "
            f"first: {differences[0][:120]}); nothing written"
        )


def _migrate(url: URL, directory: Path, scripts: ScriptDirectory, direction: str, destination: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            run_scripts(alembic_config(connection, directory=directory), scripts, direction, destination)
    finally:
        engine.dispose()


@contextmanager
def _scratch_database(server_url: URL) -> Iterator[URL]:
    try:
        with scratch_database(server_url, "squash") as url:
            yield url
    except ScratchUnavailable as exc:
        raise SquashRefused(f"cannot create a scratch database on the server: {exc.detail}") from None


# -- the files -----------------------------------------------------------------------------------
def _candidate_history(directory: Path, scratch: Path, plan: SquashPlan, source: str) -> Path:
    """A copy of the history with the squash in place of the replaced revisions."""
    candidate = scratch / directory.name
    shutil.copytree(directory, candidate, ignore=shutil.ignore_patterns("__pycache__", SQUASHED_DIR))
    for script in plan.replaced:
        (candidate / Path(script.path).relative_to(directory)).unlink()
    (candidate / "versions" / f"squash_{plan.target.revision}.py").write_text(source)
    return candidate


def _write(directory: Path, plan: SquashPlan, source: str, message: str, archive: Path) -> Path:
    archive.mkdir(parents=True)
    for script in plan.replaced:
        old = Path(script.path)
        shutil.move(old, archive / old.name)
    now = dt.datetime.now()
    slug = re.sub(r"\W+", "_", message.lower()).strip("_")[:48].rstrip("_")
    path = directory / "versions" / f"{now:%Y%m%d_%H%M}_{plan.target.revision}_{slug}.py"
    path.write_text(source)
    return path


def _git_commit(directory: Path, replaced: list[Path], echo: Callable[[str], None]) -> str | None:
    """The commit the history was squashed from (it still holds the replaced revisions), or None when
    it does not: not a git checkout, or some replaced files are uncommitted (warned: only the files
    moved to migrations/squashed/ hold them then)."""
    commit = _git(directory, "rev-parse", "--short", "HEAD")
    if not commit:
        return None
    dirty = _git(directory, "status", "--porcelain", "--", *map(str, replaced))
    if dirty is None or dirty:
        count = len(dirty.splitlines()) if dirty else len(replaced)
        echo(
            f"WARNING: {count} of the replaced revision files are not committed: commit {commit} does not "
            "hold them, so the squash names no commit; commit them first to be able to go back to them"
        )
        return None
    return commit


def _git(directory: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(  # noqa: S603 (git with our own arguments)
            ["git", *args],  # noqa: S607
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


# -- downgrade: what the replayed catalogue holds -------------------------------------------------
_DROPS = """
WITH owned_by_extension AS (SELECT objid FROM pg_depend WHERE deptype = 'e'),
user_schemas AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%%'
)
SELECT 1, format('DROP %%s IF EXISTS %%I.%%I CASCADE',
                 CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                 n.nspname, c.relname)
FROM pg_class c JOIN user_schemas n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT c.relispartition
  AND c.oid NOT IN (SELECT objid FROM owned_by_extension)
  AND NOT (c.relname = ANY(%(excluded)s))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
UNION ALL
SELECT 2, format('DROP ROUTINE IF EXISTS %%I.%%I(%%s) CASCADE', n.nspname, p.proname,
                 pg_get_function_identity_arguments(p.oid))
FROM pg_proc p JOIN user_schemas n ON n.oid = p.pronamespace
WHERE p.oid NOT IN (SELECT objid FROM owned_by_extension)
UNION ALL
SELECT 3, format('DROP %%s IF EXISTS %%I.%%I CASCADE', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                 n.nspname, t.typname)
FROM pg_type t JOIN user_schemas n ON n.oid = t.typnamespace
WHERE (t.typtype IN ('e', 'd', 'r', 'm')
       OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
  AND t.oid NOT IN (SELECT objid FROM owned_by_extension)
UNION ALL
SELECT 4, format('DROP EXTENSION IF EXISTS %%I CASCADE', extname) FROM pg_extension WHERE extname <> 'plpgsql'
UNION ALL
SELECT 5, format('DROP SCHEMA IF EXISTS %%I CASCADE', nspname) FROM user_schemas WHERE nspname <> 'public'
ORDER BY 1, 2
"""


def _drop_statements(url: URL, exclude_tables: tuple[str, ...]) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            excluded = ["alembic_version", *exclude_tables]
            rows = connection.exec_driver_sql(_DROPS, {"excluded": excluded}).all()
    finally:
        engine.dispose()
    return [statement for _order, statement in rows]
