"""The autogenerate corpus: for each everyday model edit, on a database whose tables hold rows,
`flask db migrate` must write a revision that ships as generated: it applies with the rows in place,
passes `flask db lint` with no acknowledgement, leaves `flask db check` clean, goes down and up again
and keeps every value. Dangerous edits must be refused by the review, with advice that is right.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from safemigrate.autogenerate.answers import AutogenerateRefused
from safemigrate.safe.columns import NullsLeft
from tests.safemigrate.autogenerate.corpus import (
    DANGEROUS_EDITS,
    ENUM,
    ENUM_COLUMN,
    FLAGGED_OPTION_EDITS,
    FULL_NAME,
    INDEX_RENAME_EDITS,
    NOTES,
    NOTES_OF_LABELS,
    RENAME_EDITS,
    SAFE_EDITS,
    TAGS,
    TAGS_RENAMED,
    TAGS_WITH_OWN_ENUM,
    Edit,
)
from tests.safemigrate.autogenerate.scratch import Scratch, edited_models, load_metadata

ROWS = 40


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return Scratch(tmp_path_factory.mktemp("corpus"))


@pytest.fixture
def live(scratch, engine):
    """The database at head with rows in every table; the scratch copy back to head afterwards."""
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO users (email, password_hash, full_name) "
                "SELECT 'u' || n || '@example.com', 'x', 'User ' || n FROM generate_series(1, 3) n"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO items (title, description, internal_description, owner_id) "
                "SELECT 'item ' || n, 'about ' || n, 'secret ' || n, 1 + n % 3 "
                "FROM generate_series(1, :rows) n"
            ),
            {"rows": ROWS},
        )
    yield engine
    scratch.reset()


def snapshot(engine) -> dict[str, dict[int, dict]]:
    with engine.connect() as connection:
        return {
            table: {
                row["id"]: dict(row)
                for row in connection.execute(sa.text(f"SELECT * FROM {table}")).mappings()
            }
            for table in ("users", "items")
        }


def assert_values_kept(before, after, moved: dict[str, str]) -> None:
    for table, rows in before.items():
        assert rows.keys() == after[table].keys(), f"{table}: rows lost or added"
        for key, row in rows.items():
            for column, value in row.items():
                column = moved.get(column, column)
                if column in after[table][key]:
                    assert after[table][key][column] == value, f"{table}.{column} of row {key} changed"


def with_filled(before, values: dict) -> dict:
    """`before` as the revision leaves it: the NULLs of the columns it backfills hold their value."""
    for rows in before.values():
        for row in rows.values():
            for column, value in values.items():
                if column in row and row[column] is None:
                    row[column] = value
    return before


def assert_proven(engine, edit: Edit) -> None:
    with engine.connect() as connection:
        for query, expected in edit.proof:
            assert connection.execute(sa.text(query)).scalar() == expected, query


def generate(scratch, engine, edit: Edit, patches, tmp_path, name: str):
    metadata = load_metadata(edited_models(*patches), tmp_path)
    answers = {"backfill": edit.backfill, "renames": edit.renames, "interactive": False}
    path = scratch.autogenerate(engine, metadata, name.replace("_", " "), autogenerate_answers=answers)
    assert path is not None, "autogenerate wrote nothing"
    return metadata, path


def prepare(scratch, engine, edit: Edit, tmp_path) -> None:
    for number, patches in enumerate(edit.setup):
        generate(scratch, engine, Edit("setup", ()), patches, tmp_path, f"setup {number}")
        scratch.upgrade(engine)


@pytest.mark.parametrize("edit", SAFE_EDITS, ids=lambda e: e.id)
def test_safe_edit_ships_as_generated(scratch, live, edit, tmp_path):
    prepare(scratch, live, edit, tmp_path)
    if edit.rows:
        with live.begin() as connection:
            connection.execute(sa.text(edit.rows))
    metadata, path = generate(scratch, live, edit, edit.patches, tmp_path, edit.id)
    assert "def upgrade():\n    pass" not in path.read_text(), "the edit was not detected"
    report = scratch.lint(path)
    assert report.errors == [], (
        "\n".join(f"{f.rule}: {f.sql}" for f in report.errors) + "\n" + path.read_text()
    )
    assert "lint-ack" not in path.read_text()

    before = snapshot(live)
    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None
    assert_proven(live, edit)
    before = with_filled(before, edit.filled)
    assert_values_kept(before, snapshot(live), edit.moved)

    scratch.downgrade(live, "-1")
    assert_values_kept(before, snapshot(live), {})
    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None
    assert_proven(live, edit)
    assert_values_kept(before, snapshot(live), edit.moved)


@pytest.mark.parametrize("edit", DANGEROUS_EDITS, ids=lambda e: e.id)
def test_dangerous_edit_is_refused_with_the_right_advice(scratch, live, edit, tmp_path):
    prepare(scratch, live, edit, tmp_path)
    _, path = generate(scratch, live, edit, edit.patches, tmp_path, edit.id)
    report = scratch.lint(path)
    refusals = [f for f in report.errors if f.rule == edit.refused_by]
    assert refusals, f"not refused by {edit.refused_by}: {[(f.rule, f.sql) for f in report.errors]}"
    assert all(edit.advice in f.fix for f in refusals), [f.fix for f in refusals]


# -- what stock autogenerate missed ----------------------------------------------------------------
CHECK = next(e for e in SAFE_EDITS if e.id == "check_constraint")
ENUM_ADDED = next(e for e in SAFE_EDITS if e.id == "enum_value_added")
BIGINT = next(e for e in DANGEROUS_EDITS if e.id == "integer_to_bigint_primary_key")
ENUM_REMOVED = Edit(
    "enum_value_removed",
    (ENUM, ENUM_COLUMN, ("    published = 'published'\n", "")),
    setup=((ENUM, ENUM_COLUMN),),
)


DETECTED = "New upgrade operations detected: "
LOSES_PUBLISHED = (
    f"{DETECTED}[('NeedsReview', \"enum item_status loses ['published']: PostgreSQL cannot drop or rename "
    "an enum value in place."
)


@pytest.mark.parametrize(
    ("edit", "detected"),
    [
        # The operation's last field is a set of rewriter objects (their repr has an address).
        (
            CHECK,
            f"{DETECTED}[('CreateCheckConstraint', 'ck_items_title_not_empty', 'items', "
            "'length(title) > 0', ",
        ),
        (ENUM_ADDED, f"{DETECTED}[('AddEnumValue', 'item_status', 'archived', 'published', None)]"),
        (ENUM_REMOVED, LOSES_PUBLISHED),
    ],
    ids=[CHECK.id, ENUM_ADDED.id, ENUM_REMOVED.id],
)
def test_check_is_never_clean_while_the_database_lacks_what_a_model_declares(
    scratch, live, edit, detected, tmp_path
):
    prepare(scratch, live, edit, tmp_path)
    metadata = load_metadata(edited_models(*edit.patches), tmp_path)
    message = scratch.check(live, metadata)
    assert message is not None and message.startswith(detected), message


def test_a_removed_enum_value_is_flagged_for_review(scratch, live, tmp_path):
    prepare(scratch, live, ENUM_REMOVED, tmp_path)
    metadata, path = generate(scratch, live, ENUM_REMOVED, ENUM_REMOVED.patches, tmp_path, "remove value")
    text = path.read_text()
    assert "# REVIEW: enum item_status loses ['published']" in text
    assert "cannot drop or rename an enum value" in text
    scratch.upgrade(live)
    message = scratch.check(live, metadata)  # flagged, not done: check must still say so
    assert message is not None and message.startswith(LOSES_PUBLISHED), message


def test_integer_to_bigint_primary_key_widens_its_sequence(scratch, live, tmp_path):
    metadata, path = generate(scratch, live, BIGINT, BIGINT.patches, tmp_path, "bigint ids")
    assert "op.execute('ALTER SEQUENCE items_id_seq AS bigint')" in path.read_text()

    def sequence_type():
        with live.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT format_type(seqtypid, NULL) FROM pg_sequence "
                    "WHERE seqrelid = 'items_id_seq'::regclass"
                )
            ).scalar_one()

    scratch.upgrade(live)
    assert sequence_type() == "bigint"
    assert scratch.check(live, metadata) is None
    scratch.downgrade(live, "-1")
    assert sequence_type() == "integer"


def test_the_models_keep_their_enum_types_after_a_revision_is_written(scratch, live, tmp_path):
    edit = next(e for e in SAFE_EDITS if e.id == "new_table_reusing_an_existing_enum")
    prepare(scratch, live, edit, tmp_path)
    metadata, path = generate(scratch, live, edit, edit.patches, tmp_path, edit.id)
    assert "create_type=False" in path.read_text()
    assert type(metadata.tables["tags"].c.status.type) is sa.Enum  # create_all() still creates it


def test_two_new_tables_of_one_new_enum_create_the_type_once(scratch, live, tmp_path):
    edit = next(e for e in SAFE_EDITS if e.id == "two_new_tables_of_one_new_enum")
    _, path = generate(scratch, live, edit, edit.patches, tmp_path, edit.id)
    assert path.read_text().count("safe.create_enum('tag_status'") == 1  # --sql output runs as written


def ships_and_goes_back(scratch, live, tmp_path, patches, name: str) -> str:
    """Generated, passes the review, upgrades clean under `check`, goes down and up: its text."""
    metadata, path = generate(scratch, live, Edit(name, patches), patches, tmp_path, name)
    assert scratch.lint(path).errors == [], path.read_text()
    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None, path.read_text()
    scratch.downgrade(live, "-1")
    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None
    return path.read_text()


def test_an_enum_in_another_schema_is_created_extended_and_dropped_there(scratch, live, tmp_path):
    """The schema exists (a person creates schemas); the type, its values and its drop go to it, and a
    same-named type in the default schema is left alone."""
    with live.begin() as connection:
        connection.execute(sa.text("CREATE SCHEMA extra; CREATE TYPE item_status AS ENUM ('other')"))
    in_extra = (
        ENUM_COLUMN[0],
        ENUM_COLUMN[1].replace('name="item_status")', 'name="item_status", schema="extra")'),
    )
    archived = ("    published = 'published'\n", "    published = 'published'\n    archived = 'archived'\n")

    def ships(patches, name):
        return ships_and_goes_back(scratch, live, tmp_path, patches, name)

    text = ships((ENUM, in_extra), "status in extra")
    assert "safe.create_enum('item_status', ['draft', 'published'], schema='extra')" in text
    assert "safe.drop_enum_if_unused('item_status', schema='extra')" in text
    text = ships((ENUM, in_extra, archived), "archived in extra")
    assert "safe.add_enum_value('item_status', 'archived', after='published', schema='extra')" in text
    # Dropping the column is refused by the review until acknowledged (ban-drop-column); as written:
    metadata, path = generate(scratch, live, Edit("drop", ()), (), tmp_path, "status column dropped")
    assert "safe.drop_enum_if_unused('item_status', schema='extra')" in path.read_text()
    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None

    with live.connect() as connection:
        types = connection.execute(
            sa.text(
                "SELECT n.nspname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_type t "
                "JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid "
                "WHERE t.typname = 'item_status' GROUP BY n.nspname"
            )
        ).all()
    assert types == [("public", ["other"])]  # extra's went with its last column


@pytest.mark.parametrize("schema", ["public", "extra"])
def test_an_enum_whose_schema_is_on_the_search_path_stays_in_it(scratch, live, tmp_path, schema):
    """Reflection leaves out a schema on the search path, and a model may spell out `public`: `check`
    is still clean, and the dropped column's type is dropped where it is."""
    with live.begin() as connection:
        connection.execute(sa.text("CREATE SCHEMA IF NOT EXISTS extra"))
        connection.execute(sa.text(f'ALTER DATABASE "{live.url.database}" SET search_path = public, extra'))
    live.dispose()
    column = (
        ENUM_COLUMN[0],
        ENUM_COLUMN[1].replace('name="item_status")', f'name="item_status", schema="{schema}")'),
    )
    ships_and_goes_back(scratch, live, tmp_path, (ENUM, column), "status")

    metadata, path = generate(scratch, live, Edit("drop", ()), (), tmp_path, "status column dropped")
    in_schema = ", schema='extra'" if schema == "extra" else ""
    assert f"safe.drop_enum_if_unused('item_status'{in_schema})" in path.read_text()
    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None
    with live.connect() as connection:
        assert connection.execute(sa.text("SELECT to_regtype('item_status')")).scalar() is None


def test_a_dropped_table_takes_its_enum_type_and_the_downgrade_brings_both_back(scratch, live, tmp_path):
    edit = Edit("drop_table_with_enum", (ENUM,), setup=((ENUM, TAGS_WITH_OWN_ENUM),))
    prepare(scratch, live, edit, tmp_path)
    metadata, path = generate(scratch, live, edit, edit.patches, tmp_path, edit.id)
    text = path.read_text()
    assert "safe.drop_enum_if_unused('tag_status')" in text
    assert "concurrently" not in text  # the index goes with its table, and comes back with it

    def types():
        with live.connect() as connection:
            return (
                connection.execute(sa.text("SELECT typname FROM pg_type WHERE typtype = 'e'")).scalars().all()
            )

    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None and "tag_status" not in types()
    scratch.downgrade(live, "-1")  # re-creates the type, then the table that uses it
    assert "tag_status" in types()
    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None and "tag_status" not in types()


# -- renames, confirmed: flagged by the review (the running release reads the old name), data kept -----
RENAMES = {
    "column_rename": (
        "SELECT id, description FROM items ORDER BY id",
        "SELECT id, details FROM items ORDER BY id",
    ),
    "table_rename": (
        "SELECT id, name, item_id FROM tags ORDER BY id",
        "SELECT id, name, item_id FROM labels ORDER BY id",
    ),
}


@pytest.mark.parametrize("edit", [e for e in DANGEROUS_EDITS if e.id in RENAMES], ids=lambda e: e.id)
def test_a_confirmed_rename_keeps_every_value(scratch, live, edit, tmp_path):
    prepare(scratch, live, edit, tmp_path)
    old_query, new_query = RENAMES[edit.id]
    with live.begin() as connection:
        if edit.id == "table_rename":
            connection.execute(
                sa.text("INSERT INTO tags (name, item_id) SELECT 'tag ' || n, n FROM generate_series(1, 5) n")
            )
        before = connection.execute(sa.text(old_query)).all()
    metadata, _ = generate(scratch, live, edit, edit.patches, tmp_path, edit.id)

    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None
    with live.connect() as connection:
        assert connection.execute(sa.text(new_query)).all() == before
    scratch.downgrade(live, "-1")
    with live.connect() as connection:
        assert connection.execute(sa.text(old_query)).all() == before
    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None


def test_foreign_keys_to_a_renamed_table_are_renamed_not_rebuilt(scratch, live, tmp_path):
    edit = Edit(
        "rename_referenced",
        (TAGS_RENAMED, NOTES_OF_LABELS),
        setup=((TAGS, NOTES),),
        renames={"tags": "labels"},
    )
    prepare(scratch, live, edit, tmp_path)
    metadata, path = generate(scratch, live, edit, edit.patches, tmp_path, edit.id)
    text = path.read_text()
    assert "RENAME CONSTRAINT fk_notes_tag_id_tags TO fk_notes_tag_id_labels" in text
    assert "create_foreign_key" not in text and "drop_constraint" not in text  # no re-validation scan
    assert {f.rule for f in scratch.lint(path).errors} == {"renaming-table"}
    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None
    scratch.downgrade(live, "-1")
    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None


# -- issue 25: renames with dependents, option changes, NOT NULL over NULLs, schemas ------------------
@pytest.mark.parametrize("edit", RENAME_EDITS, ids=lambda e: e.id)
def test_a_renamed_column_keeps_its_indexes_and_keys_and_goes_back(scratch, live, edit, tmp_path):
    """PostgreSQL keeps indexes and constraints through RENAME COLUMN: at most renamed to their new
    conventional name, never rebuilt (no window without the index, no second validation), and the
    way back renames the column back after them."""
    prepare(scratch, live, edit, tmp_path)
    metadata, path = generate(scratch, live, edit, edit.patches, tmp_path, edit.id)
    text = path.read_text()
    for rebuilt in ("index_concurrently", "create_foreign_key", "create_unique", "drop_constraint"):
        assert rebuilt not in text, text
    before = snapshot(live)
    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None
    assert_proven(live, edit)
    assert_values_kept(before, snapshot(live), edit.moved)
    scratch.downgrade(live, "-1")
    assert_values_kept(before, snapshot(live), {})
    scratch.upgrade(live)
    assert scratch.check(live, metadata) is None
    assert_proven(live, edit)


@pytest.mark.parametrize("edit", INDEX_RENAME_EDITS, ids=lambda e: e.id)
def test_an_index_renamed_in_the_models_is_renamed_not_rebuilt(scratch, live, edit, tmp_path):
    """ALTER INDEX ... RENAME is instant; a drop and a build leave queries without the index meanwhile."""
    prepare(scratch, live, edit, tmp_path)
    _, path = generate(scratch, live, edit, edit.patches, tmp_path, edit.id)
    text = path.read_text()
    assert "index_concurrently" not in text and text.count("RENAME TO") == 2, text  # up, and back


@pytest.mark.parametrize("edit", FLAGGED_OPTION_EDITS, ids=lambda e: e.id)
def test_an_option_no_revision_can_change_in_place_is_flagged_and_check_keeps_saying_so(
    scratch, live, edit, tmp_path
):
    prepare(scratch, live, edit, tmp_path)
    metadata, path = generate(scratch, live, edit, edit.patches, tmp_path, edit.id)
    assert f"# REVIEW: {edit.advice}" in path.read_text()
    scratch.upgrade(live)
    message = scratch.check(live, metadata)
    assert message is not None and message.startswith(f"{DETECTED}[('NeedsReview', "), message
    assert edit.advice in message.splitlines()[0]


def test_not_null_on_a_column_holding_nulls_without_a_value_is_refused_in_one_line(scratch, live, tmp_path):
    with live.begin() as connection:
        connection.execute(sa.text("UPDATE users SET full_name = NULL WHERE id = 2"))
    edit = Edit(
        "full_name_required", ((FULL_NAME, "full_name: Mapped[str] = mapped_column(sa.String(255))"),)
    )
    metadata = load_metadata(edited_models(*edit.patches), tmp_path)
    written = set((scratch.directory / "versions").glob("*.py"))
    answers = {"backfill": {}, "renames": {}, "interactive": False}
    with pytest.raises(AutogenerateRefused) as refused:
        scratch.autogenerate(live, metadata, "full name required", autogenerate_answers=answers)
    assert str(refused.value) == (
        "users.full_name is made NOT NULL and holds NULLs: run again with --backfill users.full_name=VALUE "
        "(a value for the rows holding NULL, filled in batches before any constraint), or keep it nullable"
    )
    assert set((scratch.directory / "versions").glob("*.py")) == written


def test_set_not_null_adds_no_constraint_while_nulls_are_left(scratch, live, tmp_path):
    """The database the revision was generated against held no NULL; production does: the upgrade stops
    before the NOT VALID CHECK (enforced on new rows at once) is committed, in one line."""
    edit = next(e for e in SAFE_EDITS if e.id == "not_null_existing_column")
    generate(scratch, live, edit, edit.patches, tmp_path, edit.id)
    with live.begin() as connection:
        connection.execute(sa.text("UPDATE items SET description = NULL WHERE id = 7"))
    with pytest.raises(NullsLeft) as stopped:
        scratch.upgrade(live)
    assert str(stopped.value) == (
        "items.description still holds NULLs, so no constraint was added: backfill them first "
        "(safe.backfill_in_batches, or flask db migrate --backfill items.description=VALUE), then run again"
    )
    with live.connect() as connection:
        assert (
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_constraint WHERE conrelid = 'items'::regclass AND contype = 'c'"
                )
            ).scalar()
            == 0
        )
        assert (
            connection.execute(sa.text("SELECT count(*) FROM items WHERE description IS NULL")).scalar() == 1
        )


def test_tables_of_schemas_the_models_do_not_name_are_left_alone(scratch, live, tmp_path):
    """Schemas are compared (a model's {"schema": "audit"} table is seen), but only those the models
    name: another tool's tables are never offered for dropping."""
    with live.begin() as connection:
        connection.execute(sa.text("CREATE SCHEMA other; CREATE TABLE other.things (id int PRIMARY KEY)"))
    metadata = load_metadata(edited_models(), tmp_path)
    assert scratch.check(live, metadata) is None
