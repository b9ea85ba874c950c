"""What a squash replaces, and each refusal: one line, non-zero exit, nothing written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from app import create_app
from bench.history import build_history, synthetic_revision_id
from safemigrate.squash.plan import SquashRefused, plan_squash
from tests.safemigrate.squash.conftest import PROJECT_REVISIONS
from tests.support.db_helpers import config_for

REVISION = '''"""{message}"""

import sqlalchemy as sa
from alembic import op

from safemigrate import safe

revision = "{revision}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    {upgrade}


def downgrade():
    pass
'''
SYN = synthetic_revision_id


def add_revision(history: Path, revision: str, down, upgrade: str, message: str = "hand-written") -> None:
    text = REVISION.format(message=message, revision=revision, down=down, upgrade=upgrade)
    (history / "versions" / f"29991231_0001_{revision}_hand_written.py").write_text(text)


@pytest.fixture
def history(tmp_path) -> Path:
    return build_history(tmp_path / "migrations", 4)


def plan(history: Path, revision_range: str):
    return plan_squash(ScriptDirectory(str(history)), revision_range)


def test_the_plan_replaces_every_ancestor_of_b_and_keeps_b(history):
    squash = plan(history, SYN(2))
    assert squash.target.revision == SYN(2) and squash.base is None
    assert [s.revision for s in squash.replaced][-3:] == [SYN(0), SYN(1), SYN(2)]
    assert len(squash.replaced) == PROJECT_REVISIONS + 3 and SYN(2) not in squash.replaced_ids
    assert plan(history, f"base:{SYN(2)}").replaced_ids == squash.replaced_ids


def test_several_heads_are_refused(history):
    add_revision(history, "sidebranch01", SYN(1), 'op.create_table("side", sa.Column("id", sa.Integer()))')
    with pytest.raises(SquashRefused, match=r"2 heads .*merge them first"):
        plan(history, SYN(2))


def test_a_range_that_cuts_a_branch_is_refused_one_that_holds_it_is_not(history):
    add_revision(history, "sidebranch01", SYN(1), 'op.create_table("side", sa.Column("id", sa.Integer()))')
    add_revision(history, "mergepoint01", (SYN(3), "sidebranch01"), "pass", message="merge heads")
    with pytest.raises(SquashRefused, match=r"sidebranch01 outside the range depends on syn000000001"):
        plan(history, SYN(2))
    with pytest.raises(
        SquashRefused, match=r"crosses revision sidebranch01, whose parent\(s\) syn000000001 lie outside"
    ):
        plan(history, f"{SYN(2)}:mergepoint01")
    whole = plan(history, "mergepoint01")
    assert {"sidebranch01", SYN(3)} <= set(whole.replaced_ids)


def test_a_branch_label_in_the_range_is_refused(history):
    path = next((history / "versions").glob(f"*{SYN(1)}*"))
    path.write_text(path.read_text().replace("branch_labels = None", 'branch_labels = ("synthetic",)'))
    with pytest.raises(SquashRefused, match=r"revision syn000000001 carries branch label\(s\) synthetic"):
        plan(history, SYN(2))


@pytest.mark.parametrize(
    ("upgrade", "reason"),
    [
        (
            "op.execute(sa.text(\"INSERT INTO users (email) VALUES ('a@b.c')\"))",
            "with SQL that PostgreSQL parses as INSERT",
        ),
        (
            'op.get_bind().exec_driver_sql("COPY items (title) FROM STDIN")',
            "calls exec_driver_sql() on line 15 with SQL that PostgreSQL parses as COPY",
        ),
        (
            'op.execute("WITH moved AS (DELETE FROM items RETURNING title) INSERT INTO users (email) '
            'SELECT title FROM moved")',
            "with SQL that PostgreSQL parses as INSERT",
        ),
        (
            "op.execute(\"WITH added AS (INSERT INTO users (email) VALUES ('x') RETURNING id) "
            'UPDATE items SET owner_id = (SELECT id FROM added)")',
            "with SQL that PostgreSQL parses as INSERT",
        ),
        ("op.execute(f\"INSERT INTO {'items'} (title) VALUES ('x')\")", "an f-string INSERT statement"),
        ("statement = 'ALTER TABLE items ADD x int'\n    op.execute(statement)", "SQL it does not spell out"),
        ('op.bulk_insert(sa.table("t", sa.column("id")), [{"id": 1}])', "calls bulk_insert() on line 15"),
    ],
)
def test_a_data_migration_in_the_range_is_refused_naming_it(history, upgrade, reason):
    add_revision(history, "datamig00001", SYN(3), upgrade, message="fix titles")
    with pytest.raises(SquashRefused) as refused:
        plan(history, "datamig00001")
    message = str(refused.value)
    assert message.startswith("revision datamig00001 (fix titles) calls ")
    assert reason in message and "a squash carries the schema only" in message and "\n" not in message


@pytest.mark.parametrize(
    "upgrade",
    [
        'op.execute("CREATE INDEX ix_items_title ON items (title)")',
        'safe.add_not_null_column("items", sa.Column("rank", sa.Integer()), backfill="0")',
        "op.execute(f\"COMMENT ON TABLE {'items'} IS 'x'\")",
        # Touch no row on the empty database a squash replays (issue #23, item 7).
        'op.execute("UPDATE items SET title = upper(title)")',
        'op.get_bind().exec_driver_sql("DELETE FROM items")',
        "op.execute(f\"UPDATE {'items'} SET title = title\")",
        'safe.backfill_in_batches("items", "title = upper(title)", "true")',
    ],
)
def test_schema_changes_and_row_updates_are_no_reason_to_refuse(history, upgrade):
    add_revision(history, "schemaonly01", SYN(3), upgrade)
    assert plan(history, "schemaonly01").target.revision == "schemaonly01"


@pytest.mark.parametrize(
    ("revision_range", "message"),
    [
        ("nosuchrev", "B = 'nosuchrev' is not a revision of this history"),
        (f"{SYN(2)}:{SYN(1)}", "syn000000002 is not an ancestor of syn000000001"),
        (
            f"{SYN(0)}:{SYN(2)}",
            "A:B is not supported: the squash would have to be the difference from A's schema",
        ),
    ],
)
def test_the_command_refuses_in_one_line_and_writes_nothing(
    history, empty_database_url, revision_range, message
):
    before = _snapshot(history)
    app = create_app(config_for(empty_database_url))
    args = ["db", "squash", revision_range, "-m", "squash", "-d", str(history)]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 6, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: squash refused: ") and message in lines[0]
    assert _snapshot(history) == before


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_a_revision_that_fails_to_replay_stops_the_squash_in_one_line(
    history, empty_database_url, server_url
):
    add_revision(history, "failing00001", SYN(3), 'op.execute("SELECT 1 / 0")')
    before = _snapshot(history)
    app = create_app(config_for(empty_database_url))
    result = app.test_cli_runner().invoke(
        args=["db", "squash", "failing00001", "-m", "squash", "-d", str(history)]
    )
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Error: squash failed, nothing written: division by zero"), result.output
    assert "Traceback" not in result.output
    assert _snapshot(history) == before
