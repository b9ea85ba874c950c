"""`flask db migrate` as a person runs it, on a copy of the project whose tables hold rows: the
questions and their options (--rename, --backfill), bad input, and output without Alembic's noise."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from tests.safemigrate.autogenerate.corpus import ITEM_LAST
from tests.safemigrate.autogenerate.scratch import edited_models
from tests.support.cli_helpers import BIN, run
from tests.support.project_copy import copy_project

PRIORITY = (ITEM_LAST, ITEM_LAST + "    zz_priority: Mapped[int] = mapped_column(sa.Integer)\n")
DESCRIPTION = "description: Mapped[str | None] = mapped_column(sa.Text)"
RENAMED = (DESCRIPTION, "details: Mapped[str | None] = mapped_column(sa.Text)")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("migrate") / "project")


@pytest.fixture
def migrate(project, database_url, engine):
    """Run `flask db migrate ARGS` in the copy against a database with rows, models edited by `patches`."""
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x')"))
        connection.execute(
            sa.text(
                "INSERT INTO items (title, description, owner_id) "
                "SELECT 'i' || n, 'd' || n, 1 FROM generate_series(1, 5) n"
            )
        )
    versions = project / "migrations" / "versions"
    original = set(versions.iterdir())
    models = project / "app" / "models.py"

    def migrate_in_copy(*args, patches=(), stdin=None):
        models.write_text(edited_models(*patches))
        result = run([str(BIN / "flask"), "db", "migrate", *args], database_url, cwd=project, stdin=stdin)
        result.written = [p for p in set(versions.iterdir()) - original if p.suffix == ".py"]
        return result

    yield migrate_in_copy
    for path in set(versions.iterdir()) - original:
        if path.is_file():
            path.unlink()
    models.write_text(edited_models())


def one_line_refusal(result, refusal: str):
    """Exit 1 with `refusal` as the one line (after what autogenerate detected), and no file written."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("Detected ")]
    assert lines == [refusal], output
    assert result.written == [], "a file was written"


def test_new_not_null_column_without_a_value_is_refused_saying_what_to_add(migrate):
    result = migrate("-m", "zz_priority", patches=(PRIORITY,))
    one_line_refusal(
        result,
        "Error: items.zz_priority is NOT NULL without a server default and items already exists: run "
        "again with --backfill items.zz_priority=VALUE (a value for the existing rows), or give it a "
        "server_default",
    )


def test_backfill_value_renders_the_safe_helper_and_output_is_for_a_person(migrate):
    result = migrate("-m", "zz_priority", "--backfill", "items.zz_priority=0", patches=(PRIORITY,))
    assert result.returncode == 0, result.stderr
    [path] = result.written
    text = path.read_text()
    column = "sa.Column('zz_priority', sa.Integer(), nullable=False)"
    assert f"safe.add_not_null_column('items', {column}, backfill=\"'0'\")" in text
    assert "from safemigrate import safe" in text
    output = result.stdout + result.stderr
    assert "setup plugin" not in output and "INFO" not in output, output
    assert "Detected added column 'items.zz_priority'" in output
    assert "items.zz_priority: existing rows get '0'" in output


REQUIRED = (DESCRIPTION, "description: Mapped[str] = mapped_column(sa.Text)")


def test_not_null_on_a_column_holding_nulls_needs_a_value_for_them(migrate, engine):
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE items SET description = NULL WHERE id > 3"))
    one_line_refusal(
        migrate("-m", "required", "--no-input", patches=(REQUIRED,)),
        "Error: items.description is made NOT NULL and holds NULLs: run again with --backfill "
        "items.description=VALUE (a value for the rows holding NULL, filled in batches before any "
        "constraint), or keep it nullable",
    )
    result = migrate(
        "-m", "required", "--no-input", "--backfill", "items.description=none", patches=(REQUIRED,)
    )
    assert result.returncode == 0, result.stderr
    [path] = result.written
    upgrade = path.read_text().split("def downgrade")[0]
    backfill = "safe.backfill_in_batches('items', \"description = 'none'\", 'description IS NULL')"
    assert backfill in upgrade
    assert upgrade.index(backfill) < upgrade.index("safe.set_not_null('items', 'description')")
    assert "items.description: rows holding NULL get 'none'" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "patches", "expected"),
    [
        (
            ("--backfill", "items.zz_priority=abc"),
            (PRIORITY,),
            "Error: --backfill items.zz_priority=abc: not a valid INTEGER",
        ),
        (
            ("--backfill", "items.zz_priority=0", "--backfill", "items.nothing=1"),
            (PRIORITY,),
            "Error: --backfill items.nothing: the models add no such NOT NULL column",
        ),
        (
            ("--backfill", "items.zz_priority"),
            (PRIORITY,),
            "Error: --backfill 'items.zz_priority': expected TABLE.COLUMN=VALUE, e.g. items.priority=0",
        ),
        (
            ("--rename", "items.nope:details"),
            (RENAMED,),
            "Error: --rename items.nope:details: the models do not drop a column nope from items",
        ),
        (
            ("--rename", "items.description:other"),
            (RENAMED,),
            "Error: --rename items.description:other: the models do not add a column items.other",
        ),
        (
            ("--rename", "items.description:details"),
            ((DESCRIPTION, "details: Mapped[str | None] = mapped_column(sa.String(20))"),),
            "Error: --rename items.description:details: description is TEXT NULL but details is "
            "VARCHAR(20) NULL; a rename keeps the type: rename first, change the type later",
        ),
        (
            ("--rename", "items"),
            (RENAMED,),
            "Error: --rename 'items': expected TABLE.OLD:NEW (a column) or OLD:NEW (a table), "
            "e.g. items.description:details",
        ),
        (
            ("--rename", "nothing:labels"),
            (RENAMED,),
            "Error: --rename nothing:labels: the models do not drop a table nothing",
        ),
    ],
    ids=[
        "wrong-type",
        "unknown-backfill",
        "malformed-backfill",
        "unknown-rename",
        "wrong-target",
        "other-type",
        "malformed",
        "unknown-table",
    ],
)
def test_bad_input_gets_one_line_and_no_file(migrate, args, patches, expected):
    one_line_refusal(migrate("-m", "bad", *args, patches=patches), expected)


def test_confirmed_rename_keeps_the_column(migrate):
    result = migrate("-m", "rename", "--rename", "items.description:details", patches=(RENAMED,))
    assert result.returncode == 0, result.stderr
    text = result.written[0].read_text()
    assert "op.alter_column('items', 'description', new_column_name='details')" in text
    assert "op.alter_column('items', 'details', new_column_name='description')" in text
    assert "drop_column" not in text


@pytest.mark.parametrize("no_input", [(), ("--no-input",)], ids=["no-terminal", "no-input"])
def test_an_unanswered_rename_question_stops_with_one_line_and_no_file(migrate, no_input):
    result = migrate("-m", "rename", *no_input, patches=(RENAMED,))
    one_line_refusal(
        result,
        "Error: items.description is dropped and items.details added with the same type: run again with "
        "--rename items.description:details if it was renamed (data kept), or --drop items.description to "
        "drop it with its data",
    )


def test_drop_answers_the_question_no_and_warns_that_the_data_will_be_dropped(migrate):
    result = migrate("-m", "rename", "--no-input", "--drop", "items.description", patches=(RENAMED,))
    assert result.returncode == 0, result.stderr
    assert "op.drop_column('items', 'description')" in result.written[0].read_text()
    assert "WARNING: items.description is DROPPED by this revision, with all its data" in result.stderr


def test_a_drop_that_matches_nothing_is_refused(migrate):
    result = migrate(
        "-m", "x", "--drop", "items.title", "--backfill", "items.zz_priority=0", patches=(PRIORITY,)
    )
    one_line_refusal(result, "Error: --drop items.title: the models drop no such column or table")


def in_a_terminal(migrate, typed: bytes, *args, patches):
    """`flask db migrate ARGS` with a terminal as its stdin, where `typed` is typed in advance."""
    primary, secondary = os.openpty()
    try:
        os.write(primary, typed)
        return migrate(*args, patches=patches, stdin=secondary)
    finally:
        os.close(primary)
        os.close(secondary)


def test_in_a_terminal_it_asks_about_the_rename(migrate):
    result = in_a_terminal(migrate, b"y\n", "-m", "rename", patches=(RENAMED,))
    assert result.returncode == 0, result.stderr
    assert "Did you rename items.description to items.details? [y/N]" in result.stdout + result.stderr
    assert "new_column_name='details'" in result.written[0].read_text()


def test_in_a_terminal_it_asks_for_the_backfill_value_and_checks_it(migrate):
    result = in_a_terminal(migrate, b"7\n", "-m", "zz_priority", patches=(PRIORITY,))
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "items.zz_priority is NOT NULL without a server default" in output
    assert "One-off value for the existing rows (INTEGER)" in output
    assert "backfill=\"'7'\"" in result.written[0].read_text()


def test_a_backfill_value_of_the_wrong_type_typed_in_a_terminal_is_asked_again(migrate):
    result = in_a_terminal(migrate, b"soon\n7\n", "-m", "zz_priority", patches=(PRIORITY,))
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "Error: not a valid INTEGER" in output and "Traceback" not in output
    assert "backfill=\"'7'\"" in result.written[0].read_text()
