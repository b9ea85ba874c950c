"""The helpers send SQL exactly as written: colons (sa.text()'s bind syntax), quotes, backslashes, percent
signs and the helpers' own dollar quotes reach PostgreSQL, and the --sql output, unchanged."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from safemigrate.offline import offline_sql
from tests.support.planting import HEAD, plant
from tests.support.safe_helpers import SAFE, constraints_of, runner, seed_items

ODD_LABELS = [":b", "a :b", "a\\:b", "it's", "x::y", "$create_enum$", "50%"]


def test_enum_labels_are_written_exactly_as_given_online_and_offline(engine, database_url, directory):
    """Colons (sa.text() bind syntax), quotes, backslashes, percent signs and the helper's own dollar
    quote all reach PostgreSQL as they are."""
    plant(
        directory,
        "s9odd",
        preamble=SAFE,
        upgrade=f"""
            safe.create_enum("odd_labels", {ODD_LABELS[:-1]!r})
            safe.add_enum_value("odd_labels", {ODD_LABELS[-1]!r})
        """,
        downgrade='safe.drop_enum_if_unused("odd_labels")',
    )
    rendered = offline_sql(ScriptDirectory(str(directory)), f"{HEAD}:s9odd")
    assert runner(directory, database_url).returncode == 0
    with engine.connect() as connection:
        labels = connection.execute(sa.text("SELECT unnest(enum_range(NULL::odd_labels))::text")).scalars()
        assert list(labels) == ODD_LABELS
    [create] = [line for line in rendered.splitlines() if line.startswith("DO ")]
    assert "ALTER TYPE odd_labels ADD VALUE IF NOT EXISTS '50%';" in rendered
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TYPE odd_labels"))
        connection.exec_driver_sql(create)  # the --sql output, as printed
        labels = connection.execute(sa.text("SELECT unnest(enum_range(NULL::odd_labels))::text")).scalars()
        assert list(labels) == ODD_LABELS[:-1]


def test_names_and_conditions_with_colons_reach_postgresql_as_written(engine, database_url, directory):
    """A quoted name or a caller's condition holding ':word' is not a bind parameter to the helpers."""
    plant(
        directory,
        "s9colon",
        preamble=SAFE,
        upgrade="""
            safe.create_check_constraint("ck :title", "items", "title <> 'a :b' AND title <> ':c'")
            safe.create_unique_constraint(":uq", "items", ["title"])
        """,
        downgrade="""
            op.drop_constraint(":uq", "items")
            op.drop_constraint("ck :title", "items")
        """,
    )
    rendered = offline_sql(ScriptDirectory(str(directory)), f"{HEAD}:s9colon")
    assert """ADD CONSTRAINT "ck :title" CHECK (title <> 'a :b' AND title <> ':c') NOT VALID""" in rendered
    assert 'ADD CONSTRAINT ":uq" UNIQUE USING INDEX ":uq"' in rendered

    result = runner(directory, database_url)
    assert result.returncode == 0, result.stderr
    constraints = constraints_of(engine)
    assert constraints["ck :title"] is True and constraints[":uq"] is True
    with engine.connect() as connection:
        definition = connection.execute(
            sa.text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :name"),
            {"name": "ck :title"},
        ).scalar_one()
    assert definition == "CHECK ((((title)::text <> 'a :b'::text) AND ((title)::text <> ':c'::text)))"


def test_backfill_values_with_colons_are_written_as_given_online_and_offline(engine, database_url, directory):
    """What `flask db migrate --backfill items.note="'see :x'"` renders: the value is SQL, not a bind."""
    seed_items(engine, 5)
    plant(
        directory,
        "s9fill",
        preamble=SAFE,
        upgrade="""
            safe.backfill_in_batches(
                "items", "description = 'see :x'", "description IS NULL AND title LIKE '%:%' IS NOT TRUE"
            )
            safe.add_not_null_column(
                "items", sa.Column("note", sa.Text(), nullable=False), backfill="'a :b'", batch_size=2
            )
            safe.backfill_in_batches(  # with bind parameters, a literal colon is written \\:
                "items", "title = :title || ' \\\\:kept'", "title NOT LIKE '%\\\\:kept'", title="t"
            )
        """,
        downgrade='op.drop_column("items", "note")',
    )
    rendered = offline_sql(ScriptDirectory(str(directory)), f"{HEAD}:s9fill")
    assert "SET description = 'see :x' WHERE" in rendered and "title LIKE '%:%' IS NOT TRUE" in rendered
    assert "SET note = 'a :b' WHERE" in rendered
    assert "SET title = 't' || ' :kept' WHERE" in rendered

    result = runner(directory, database_url)
    assert result.returncode == 0, result.stderr
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT DISTINCT description, note, title FROM items")).all()
    assert rows == [("see :x", "a :b", "t :kept")]
