"""The zero-downtime helpers (safemigrate/safe/), run by the release runner on real PostgreSQL."""

from __future__ import annotations

import logging
import sys
import time

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from safemigrate.offline import offline_sql
from safemigrate.review.newfiles import MigrationLinter
from tests.support.cli_helpers import spawn
from tests.support.db_helpers import run_alembic
from tests.support.planting import HEAD, plant
from tests.support.safe_helpers import SAFE, constraints_of, index_state, runner, seed_items


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
        upgrade='safe.add_not_null_column("items", sa.Column("zz_priority", sa.Integer()), backfill="0", '
        "batch_size=1000)",
        downgrade='op.drop_column("items", "zz_priority")',
    )
    result = runner(directory, database_url)

    assert result.returncode == 0, result.stderr
    assert "backfill items: 2500 rows in " in result.stderr
    with engine.connect() as connection:
        nullable = connection.execute(
            sa.text(
                "SELECT is_nullable FROM information_schema.columns "
                "WHERE table_name = 'items' AND column_name = 'zz_priority'"
            )
        ).scalar_one()
        leftovers = connection.execute(
            sa.text("SELECT count(*) FROM pg_constraint WHERE conname = 'ck_items_zz_priority_not_null'")
        ).scalar_one()
        values = connection.execute(sa.text("SELECT DISTINCT zz_priority FROM items")).scalars().all()
    assert (nullable, leftovers, values) == ("NO", 0, [0])


def test_add_not_null_column_resumes_after_a_half_done_run(engine, database_url, directory):
    seed_items(engine, 100)
    # What a run killed mid-way leaves: the column, part of the backfill, the NOT VALID check.
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE items ADD COLUMN zz_priority integer"))
        connection.execute(sa.text("UPDATE items SET zz_priority = 0 WHERE id % 2 = 0"))
        connection.execute(
            sa.text(
                "ALTER TABLE items ADD CONSTRAINT ck_items_zz_priority_not_null "
                "CHECK (zz_priority IS NOT NULL) NOT VALID"
            )
        )
    plant(
        directory,
        "s3resume",
        preamble=SAFE,
        upgrade='safe.add_not_null_column("items", sa.Column("zz_priority", sa.Integer()), backfill="7")',
        downgrade='op.drop_column("items", "zz_priority")',
    )
    result = runner(directory, database_url)

    assert result.returncode == 0, result.stderr
    assert "backfill items: 50 rows" in result.stderr
    with engine.connect() as connection:
        counts = dict(connection.execute(sa.text("SELECT zz_priority, count(*) FROM items GROUP BY 1")).all())
    assert counts == {0: 50, 7: 50}


def test_backfill_only_touches_matching_rows_and_is_restartable(engine, database_url, directory):
    seed_items(engine, 30)
    plant(
        directory,
        "s4backfill",
        preamble=SAFE,
        upgrade="""
            safe.backfill_in_batches(
                "items", "description = title", "description IS NULL", batch_size=7, batch_seconds=None
            )
            safe.backfill_in_batches(
                "items", "description = title", "description IS NULL", batch_size=7, batch_seconds=None
            )
        """,
        downgrade="pass  # data only",
    )
    result = runner(directory, database_url)
    assert result.returncode == 0, result.stderr
    # keys 1-7, 8-14, 15-21, 22-28, then the 2 left; run again, the same walk finds nothing to update
    assert "backfill items: 30 rows in 5 batches" in result.stderr
    assert "backfill items: 0 rows in 5 batches" in result.stderr


def test_backfill_batches_are_sized_by_time(engine, database_url, directory):
    seed_items(engine, 2000)
    with engine.begin() as connection:  # gaps in the keys, and rows the backfill must leave alone
        connection.execute(sa.text("DELETE FROM items WHERE id % 7 = 0"))
        connection.execute(sa.text("UPDATE items SET description = 'kept' WHERE id % 5 = 0"))
    plant(
        directory,
        "s4paced",
        preamble=SAFE,
        # A target far above what a batch of these takes: every batch twice the keys of the last
        # (1, 2, 4, ... 1024: 11 batches walk the 1,715 keys), where a fixed size of 1 takes 1,715.
        upgrade='safe.backfill_in_batches("items", "description = title", "description IS NULL", '
        "batch_size=1, batch_seconds=30)",
        downgrade="pass  # data only",
    )
    result = runner(directory, database_url)
    assert result.returncode == 0, result.stderr
    assert "backfill items: 1372 rows in 11 batches" in result.stderr
    with engine.connect() as connection:
        left = connection.execute(
            sa.text("SELECT description IS NULL, description = 'kept', count(*) FROM items GROUP BY 1, 2")
        ).all()
    assert sorted(left) == [(False, False, 1372), (False, True, 343)]


@pytest.mark.parametrize(
    ("size", "seconds", "expected"),
    [
        (1000, 1.0, 100),  # ten times too slow: a tenth of the keys
        (1000, 0.1, 1000),  # on target: the same
        (1000, 0.01, 2000),  # ten times too fast: at most twice the keys
        (1000, 0.0, 2000),  # too fast to time
        (1, 5.0, 1),  # never below one key
    ],
)
def test_next_batch_size(size, seconds, expected):
    from safemigrate.safe.data import next_batch_size

    assert next_batch_size(size, seconds, 0.1) == expected


def test_lint_knows_the_helpers_produce_safe_sql(directory):
    plant(
        directory,
        "s5lint",
        preamble=SAFE,
        upgrade="""
            safe.create_index_concurrently("ix_items_title", "items", ["title"])
            safe.add_not_null_column("items", sa.Column("zz_priority", sa.Integer()), backfill="0")
        """,
        downgrade="""
            safe.drop_index_concurrently("ix_items_title", "items")
            op.drop_column("items", "zz_priority")
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
        "batch_size=10, batch_seconds=None, pause=0.4)",
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


# -- constraints, NOT NULL, enums ----------------------------------------------------------------
CONSTRAINTS = """
    safe.create_unique_constraint("uq_items_title", "items", ["title"])
    safe.create_foreign_key(
        "fk_items_reviewer_id_users", "items", "users", ["reviewer_id"], ["id"], ondelete="set null"
    )
    safe.create_check_constraint("ck_items_title_not_empty", "items", "length(title) > 0")
    safe.set_not_null("items", "description")
"""


def test_new_helpers_render_exactly_the_reviewed_sql(directory):
    plant(directory, "s7forms", preamble=SAFE, upgrade=CONSTRAINTS, downgrade="pass")
    sql = offline_sql(ScriptDirectory(str(directory)), f"{HEAD}:s7forms")
    sql = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    statements = [
        s.strip() for s in sql.split(";") if s.strip() and not s.strip().startswith("UPDATE alembic")
    ]
    unique, fk, check, not_null = (
        "uq_items_title",
        "fk_items_reviewer_id_users",
        "ck_items_title_not_empty",
        ("ck_items_description_not_null"),
    )
    # Each helper runs outside the revision's transaction (COMMIT ... BEGIN offline), a statement at a time.
    assert statements == [
        "BEGIN",
        "COMMIT",
        f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {unique} ON items (title)",
        f"ALTER TABLE items ADD CONSTRAINT {unique} UNIQUE USING INDEX {unique}",
        "BEGIN",
        "COMMIT",
        f"ALTER TABLE items ADD CONSTRAINT {fk} FOREIGN KEY (reviewer_id) REFERENCES users (id) "
        "ON DELETE SET NULL NOT VALID",
        f"ALTER TABLE items VALIDATE CONSTRAINT {fk}",
        "BEGIN",
        "COMMIT",
        f"ALTER TABLE items ADD CONSTRAINT {check} CHECK (length(title) > 0) NOT VALID",
        f"ALTER TABLE items VALIDATE CONSTRAINT {check}",
        "BEGIN",
        "COMMIT",
        f"ALTER TABLE items ADD CONSTRAINT {not_null} CHECK (description IS NOT NULL) NOT VALID",
        f"ALTER TABLE items VALIDATE CONSTRAINT {not_null}",
        "ALTER TABLE items ALTER COLUMN description SET NOT NULL",
        f"ALTER TABLE items DROP CONSTRAINT IF EXISTS {not_null}",
        "BEGIN",
        "COMMIT",
    ]


def test_constraint_helpers_finish_what_a_crashed_run_left(engine, database_url, directory):
    seed_items(engine, 50, duplicate_titles=True)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE items SET description = 'd' WHERE id % 2 = 0"))
        connection.execute(sa.text("ALTER TABLE items ADD COLUMN reviewer_id integer"))
    plant(directory, "s8crash", preamble=SAFE, upgrade=CONSTRAINTS, downgrade="pass")

    # First attempt: duplicate titles make the unique index fail, leaving it INVALID.
    failed = runner(directory, database_url)
    assert failed.returncode == 1
    assert index_state(engine, "uq_items_title") is False
    # What else a killed run may leave: NOT VALID constraints, half of the NOT NULL steps.
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE items SET title = 'item ' || id, description = coalesce(description, 'x')")
        )
        connection.execute(
            sa.text(
                "ALTER TABLE items ADD CONSTRAINT fk_items_reviewer_id_users FOREIGN KEY (reviewer_id) "
                "REFERENCES users (id) NOT VALID"
            )
        )
        connection.execute(
            sa.text(
                "ALTER TABLE items ADD CONSTRAINT ck_items_title_not_empty "
                "CHECK (length(title) > 0) NOT VALID"
            )
        )
        connection.execute(
            sa.text(
                "ALTER TABLE items ADD CONSTRAINT ck_items_description_not_null "
                "CHECK (description IS NOT NULL) NOT VALID"
            )
        )

    result = runner(directory, database_url)
    assert result.returncode == 0, result.stderr
    assert "dropping INVALID index uq_items_title" in result.stderr
    constraints = constraints_of(engine)
    assert constraints["uq_items_title"] and constraints["fk_items_reviewer_id_users"]
    assert constraints["ck_items_title_not_empty"]
    assert "ck_items_description_not_null" not in constraints
    with engine.connect() as connection:
        nullable = connection.execute(
            sa.text(
                "SELECT is_nullable FROM information_schema.columns "
                "WHERE table_name = 'items' AND column_name = 'description'"
            )
        ).scalar_one()
    assert nullable == "NO"


def test_enum_helpers(engine, database_url, directory, caplog):
    seed_items(engine, 3)
    plant(
        directory,
        "s9enum",
        preamble=SAFE,
        upgrade="""
            safe.create_enum("item_status", ["draft", "published"])
            safe.create_enum("item_status", ["draft", "published"])
            op.add_column("items", sa.Column("status", sa.Enum(name="item_status", create_type=False)))
            safe.add_enum_value("item_status", "archived", after="published")
            safe.add_enum_value("item_status", "archived", after="published")
            op.execute("UPDATE items SET status = 'archived'")
        """,
        downgrade="""
            safe.keep_enum_value("item_status", "archived")
            safe.drop_enum_if_unused("item_status")
            op.drop_column("items", "status")
            safe.drop_enum_if_unused("item_status")
        """,
    )
    assert runner(directory, database_url).returncode == 0
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT DISTINCT status::text FROM items")).scalars().all() == [
            "archived"
        ]
        labels = (
            connection.execute(sa.text("SELECT unnest(enum_range(NULL::item_status))::text")).scalars().all()
        )
    assert labels == ["draft", "published", "archived"]

    with caplog.at_level(logging.INFO, logger="safemigrate.safe"):
        run_alembic(engine, command.downgrade, HEAD, directory=directory)
    assert "enum type item_status kept: 1 column(s) still use it" in caplog.text
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT to_regtype('item_status')")).scalar() is None
