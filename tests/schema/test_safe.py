"""The zero-downtime helpers (app/schema/safe.py), run by the release runner on real PostgreSQL."""

from __future__ import annotations

import sys
import time

import pytest
import sqlalchemy as sa

from app.schema.lint import MigrationLinter
from tests.cli_helpers import run, spawn
from tests.schema.planting import copy_migrations, plant

SAFE = "from app.schema import safe\n"


def runner(directory, database_url):
    return run([sys.executable, "run_migration.py", "--directory", str(directory)], database_url=database_url)


def seed_items(engine, count: int, *, duplicate_titles: bool = False) -> None:
    with engine.begin() as connection:
        owner = connection.execute(
            sa.text("INSERT INTO users (email, password_hash) VALUES ('o@example.com', 'x') RETURNING id")
        ).scalar_one()
        connection.execute(
            sa.text(
                "INSERT INTO items (title, owner_id) "
                "SELECT CASE WHEN :dup THEN 'same' ELSE 'item ' || n END, :owner "
                "FROM generate_series(1, :count) n"
            ),
            {"owner": owner, "count": count, "dup": duplicate_titles},
        )


def index_state(engine, name: str) -> bool | None:
    """True valid, False INVALID, None absent."""
    with engine.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :n"
            ),
            {"n": name},
        ).scalar()


@pytest.fixture
def directory(tmp_path):
    return copy_migrations(tmp_path)


def test_create_index_concurrently_replaces_an_invalid_leftover(engine, database_url, directory):
    seed_items(engine, 10, duplicate_titles=True)
    # A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an INVALID index behind.
    autocommit = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with autocommit as connection, pytest.raises(sa.exc.IntegrityError):
        connection.execute(sa.text("CREATE UNIQUE INDEX CONCURRENTLY ix_items_title ON items (title)"))
    assert index_state(engine, "ix_items_title") is False
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE items SET title = 'item ' || id"))

    plant(
        directory,
        "s1index",
        preamble=SAFE,
        upgrade='safe.create_index_concurrently("ix_items_title", "items", ["title"], unique=True)',
        downgrade='safe.drop_index_concurrently("ix_items_title", "items")',
    )
    result = runner(directory, database_url)

    assert result.returncode == 0, result.stderr
    assert "dropping INVALID index ix_items_title" in result.stderr
    assert index_state(engine, "ix_items_title") is True


def test_add_not_null_column_backfills_in_batches_then_sets_not_null(engine, database_url, directory):
    seed_items(engine, 2500)
    plant(
        directory,
        "s2notnull",
        preamble=SAFE,
        upgrade='safe.add_not_null_column("items", sa.Column("priority", sa.Integer()), backfill="0", '
        "batch_size=1000)",
        downgrade='op.drop_column("items", "priority")',
    )
    result = runner(directory, database_url)

    assert result.returncode == 0, result.stderr
    assert "backfill items: 2500 rows in 3 batches" in result.stderr
    with engine.connect() as connection:
        nullable = connection.execute(
            sa.text(
                "SELECT is_nullable FROM information_schema.columns "
                "WHERE table_name = 'items' AND column_name = 'priority'"
            )
        ).scalar_one()
        leftovers = connection.execute(
            sa.text("SELECT count(*) FROM pg_constraint WHERE conname = 'ck_items_priority_not_null'")
        ).scalar_one()
        values = connection.execute(sa.text("SELECT DISTINCT priority FROM items")).scalars().all()
    assert (nullable, leftovers, values) == ("NO", 0, [0])


def test_add_not_null_column_resumes_after_a_half_done_run(engine, database_url, directory):
    seed_items(engine, 100)
    # What a run killed mid-way leaves: the column, part of the backfill, the NOT VALID check.
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE items ADD COLUMN priority integer"))
        connection.execute(sa.text("UPDATE items SET priority = 0 WHERE id % 2 = 0"))
        connection.execute(
            sa.text(
                "ALTER TABLE items ADD CONSTRAINT ck_items_priority_not_null "
                "CHECK (priority IS NOT NULL) NOT VALID"
            )
        )
    plant(
        directory,
        "s3resume",
        preamble=SAFE,
        upgrade='safe.add_not_null_column("items", sa.Column("priority", sa.Integer()), backfill="7")',
        downgrade='op.drop_column("items", "priority")',
    )
    result = runner(directory, database_url)

    assert result.returncode == 0, result.stderr
    assert "backfill items: 50 rows" in result.stderr
    with engine.connect() as connection:
        counts = dict(connection.execute(sa.text("SELECT priority, count(*) FROM items GROUP BY 1")).all())
    assert counts == {0: 50, 7: 50}


def test_backfill_only_touches_matching_rows_and_is_restartable(engine, database_url, directory):
    seed_items(engine, 30)
    plant(
        directory,
        "s4backfill",
        preamble=SAFE,
        upgrade="""
            safe.backfill_in_batches("items", "description = title", "description IS NULL", batch_size=7)
            safe.backfill_in_batches("items", "description = title", "description IS NULL", batch_size=7)
        """,
        downgrade="pass  # data only",
    )
    result = runner(directory, database_url)
    assert result.returncode == 0, result.stderr
    assert "backfill items: 30 rows in 5 batches" in result.stderr
    assert "backfill items: 0 rows in 0 batches" in result.stderr


def test_lint_knows_the_helpers_produce_safe_sql(directory):
    plant(
        directory,
        "s5lint",
        preamble=SAFE,
        upgrade="""
            safe.create_index_concurrently("ix_items_title", "items", ["title"])
            safe.add_not_null_column("items", sa.Column("priority", sa.Integer()), backfill="0")
        """,
        downgrade="""
            safe.drop_index_concurrently("ix_items_title", "items")
            op.drop_column("items", "priority")
        """,
    )
    linter = MigrationLinter(directory)
    [report] = linter.lint(linter.select("s5lint"))
    assert report.errors == [], [(f.rule, f.sql) for f in report.errors]


def test_backfill_commits_each_batch_even_when_called_bare(engine, database_url, directory):
    """Called straight from upgrade(), outside any helper: other sessions must see each batch land
    as it commits, never one long transaction holding every row lock."""
    seed_items(engine, 40)
    plant(
        directory,
        "s6commits",
        preamble=SAFE,
        upgrade='safe.backfill_in_batches("items", "description = title", "description IS NULL", '
        "batch_size=10, pause=0.4)",
        downgrade="pass  # data only",
    )
    process = spawn([sys.executable, "run_migration.py", "--directory", str(directory)], database_url)
    seen = set()
    while process.poll() is None:
        with engine.connect() as connection:
            seen.add(
                connection.execute(
                    sa.text("SELECT count(*) FROM items WHERE description IS NOT NULL")
                ).scalar()
            )
        time.sleep(0.05)
    assert process.returncode == 0
    assert {10, 20, 30} <= seen, f"batches were not committed one by one: saw {sorted(seen)}"
