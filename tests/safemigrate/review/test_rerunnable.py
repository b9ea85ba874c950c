"""The check the review uses to refuse revisions that cannot run again after failing half-way, on
the SQL Alembic really renders for planted revisions (offline: no database needed)."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory

from config import MIGRATIONS_DIR
from safemigrate.offline import offline_sql
from safemigrate.review.rerunnable import not_rerunnable
from safemigrate.state import script_directory
from tests.support.planting import HEAD, copy_migrations, plant

SAFE = "from safemigrate import safe\n"


def rendered(directory, revision: str, down: str = HEAD) -> str:
    return offline_sql(ScriptDirectory(str(directory)), f"{down}:{revision}")


@pytest.mark.parametrize(
    ("upgrade", "flagged"),
    [
        # The case: a plain step committed by the helper's block, then more work.
        (
            """
            op.add_column("items", sa.Column("plain_col", sa.Integer()))
            safe.create_index_concurrently("ix_items_title_m", "items", ["title"])
            op.add_column("items", sa.Column("late_col", sa.Integer()))
            """,
            ["ALTER TABLE items ADD COLUMN plain_col INTEGER"],
        ),
        # Even when the helper is the last step: the index build itself can fail (duplicates, a
        # killed runner), and the committed plain step then fails the next run.
        (
            """
            op.add_column("items", sa.Column("plain_col", sa.Integer()))
            safe.create_index_concurrently("ix_items_title_m", "items", ["title"])
            """,
            ["ALTER TABLE items ADD COLUMN plain_col INTEGER"],
        ),
        # The fixes: the plain step after the helper, or written to be idempotent.
        (
            """
            safe.create_index_concurrently("ix_items_title_m", "items", ["title"])
            op.add_column("items", sa.Column("late_col", sa.Integer()))
            """,
            [],
        ),
        (
            """
            op.execute("ALTER TABLE items ADD COLUMN IF NOT EXISTS plain_col integer")
            safe.create_index_concurrently("ix_items_title_m", "items", ["title"])
            op.add_column("items", sa.Column("late_col", sa.Integer()))
            """,
            [],
        ),
        # No helper: one transaction, all rolled back together.
        (
            """
            op.add_column("items", sa.Column("a_col", sa.Integer()))
            op.add_column("items", sa.Column("b_col", sa.Integer()))
            """,
            [],
        ),
        # Several non-idempotent plain steps before a helper: each is named.
        (
            """
            op.create_table("extra", sa.Column("id", sa.Integer(), primary_key=True))
            op.execute("INSERT INTO extra (id) VALUES (1)")
            safe.create_index_concurrently("ix_items_title_m", "items", ["title"])
            op.add_column("items", sa.Column("late_col", sa.Integer()))
            """,
            ["CREATE TABLE extra", "INSERT INTO extra (id) VALUES (1)"],
        ),
    ],
)
def test_flags_only_plain_steps_committed_before_later_work(tmp_path, upgrade, flagged):
    directory = copy_migrations(tmp_path)
    plant(directory, "g1mix", upgrade=upgrade, preamble=SAFE)
    found = not_rerunnable(rendered(directory, "g1mix"))
    assert len(found) == len(flagged), found
    for statement, expected in zip(found, flagged, strict=True):
        assert statement.startswith(expected), found


def test_the_projects_own_revisions_are_rerunnable():
    scripts = script_directory(MIGRATIONS_DIR)
    for script in scripts.walk_revisions():
        down = script.down_revision or "base"
        sql = offline_sql(scripts, f"{down}:{script.revision}" if script.down_revision else script.revision)
        assert not_rerunnable(sql) == [], script.revision


@pytest.mark.parametrize(
    ("block", "idempotent"),
    [
        # What safe.create_enum writes: a duplicate type is ignored, so a second run changes nothing.
        (
            "DO $e$ BEGIN CREATE TYPE s AS ENUM ('a'); EXCEPTION WHEN duplicate_object THEN NULL; END $e$",
            True,
        ),
        # Lookalikes: another statement (a duplicate column raises duplicate_column, not _object) ...
        (
            "DO $$ BEGIN ALTER TABLE t ADD COLUMN c int; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
            False,
        ),
        # ... the phrase in a string, and more than the one CREATE TYPE.
        (
            "DO $$ BEGIN INSERT INTO t VALUES (1); "
            "PERFORM 'exception when duplicate_object then null'; END $$",
            False,
        ),
        (
            "DO $$ BEGIN CREATE TYPE s AS ENUM ('a'); INSERT INTO t VALUES (1); "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
            False,
        ),
    ],
)
def test_only_the_guarded_create_type_block_counts_as_idempotent(block, idempotent):
    helper = "DROP INDEX CONCURRENTLY IF EXISTS ix;\nCREATE INDEX CONCURRENTLY ix ON t (c)"
    sql = f"BEGIN;\n{block};\nCOMMIT;\n{helper};\nBEGIN;\nSELECT 1;\nCOMMIT;\n"
    assert (not_rerunnable(sql) == []) is idempotent


AUTOCOMMIT = "with op.get_context().autocommit_block():\n"


def committed_one_by_one(*statements: str) -> str:
    return AUTOCOMMIT + "".join(f"    op.execute({s!r})\n" for s in statements)


@pytest.mark.parametrize(
    ("upgrade", "flagged"),
    [
        # Statements of an autocommit block commit one by one: a hand-written one that cannot run
        # twice is stuck once later work fails (a VALIDATE that finds NULLs, here).
        (
            committed_one_by_one(
                "ALTER TABLE items ADD CONSTRAINT ck_d CHECK (description IS NOT NULL) NOT VALID",
                "ALTER TABLE items VALIDATE CONSTRAINT ck_d",
            ),
            ["ALTER TABLE items ADD CONSTRAINT ck_d CHECK (description IS NOT NULL) NOT VALID"],
        ),
        (
            committed_one_by_one("ALTER TYPE item_status ADD VALUE 'x'", "UPDATE items SET title = 't'"),
            ["ALTER TYPE item_status ADD VALUE 'x'"],
        ),
        # A concurrent build that fails leaves an INVALID index, even as the last statement: the next
        # run fails on it, or (IF NOT EXISTS) skips it and keeps an index that is never used.
        (
            committed_one_by_one("CREATE INDEX CONCURRENTLY ix_t ON items (title)"),
            ["CREATE INDEX CONCURRENTLY ix_t ON items (title)"],
        ),
        (
            committed_one_by_one("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_t ON items (title)"),
            ["CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_t ON items (title)"],
        ),
        # A type change that computes from the old value applies twice.
        (
            committed_one_by_one(
                "ALTER TABLE items ALTER COLUMN owner_id TYPE bigint USING owner_id * 100",
                "ANALYZE items",
            ),
            ["ALTER TABLE items ALTER COLUMN owner_id TYPE bigint USING owner_id * 100"],
        ),
        # The marker counts only as a comment line before the statement, not inside a string.
        (
            committed_one_by_one(
                "INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x\n-- guarded: no\n')",
                "ANALYZE users",
            ),
            ["INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x ')"],  # shown without it
        ),
        # Idempotent forms, maintenance, and what a helper marks as run only when missing, pass.
        (
            committed_one_by_one(
                "DROP INDEX CONCURRENTLY IF EXISTS ix_t",
                "CREATE INDEX CONCURRENTLY ix_t ON items (title)",
                "ALTER TABLE items ALTER COLUMN owner_id TYPE bigint",
                "ALTER TYPE item_status ADD VALUE IF NOT EXISTS 'x'",
                "REINDEX INDEX CONCURRENTLY ix_t",
                "VACUUM ANALYZE items",
                "DROP INDEX CONCURRENTLY IF EXISTS ix_t",
            ),
            [],
        ),
        (
            committed_one_by_one(
                "-- guarded: skipped when constraint ck_d exists\n"
                "ALTER TABLE items ADD CONSTRAINT ck_d CHECK (description IS NOT NULL) NOT VALID",
                "ALTER TABLE items VALIDATE CONSTRAINT ck_d",
            ),
            [],
        ),
        # The helpers' own statements, as they render.
        (
            """
            safe.create_index_concurrently("ix_t", "items", ["title"])
            safe.create_check_constraint("ck_d", "items", "description IS NOT NULL")
            safe.create_unique_constraint("uq_t", "items", ["title"])
            safe.set_not_null("items", "title")
            op.add_column("items", sa.Column("late_col", sa.Integer()))
            """,
            [],
        ),
    ],
)
def test_autocommit_statements_are_judged_when_more_work_follows(tmp_path, upgrade, flagged):
    directory = copy_migrations(tmp_path)
    plant(directory, "r9auto", preamble=SAFE, upgrade=upgrade, downgrade="pass")
    assert not_rerunnable(rendered(directory, "r9auto")) == flagged
