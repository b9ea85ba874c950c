"""The ledger: every path that applies a revision records it, with a checksum of what it did."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from config import MIGRATIONS_DIR
from safemigrate.ledger import recorder as ledger
from safemigrate.ledger.checksum import normalise_sql, render_checksums, source_checksum, sql_checksum
from safemigrate.offline import render
from safemigrate.state import script_directory
from tests.support.db_helpers import run_alembic
from tests.support.planting import HEAD, copy_migrations, plant


def rows(engine):
    with engine.connect() as connection:
        return [(e.revision, e.direction) for e in reversed(ledger.entries(connection))]


def test_upgrade_records_each_revision_in_its_own_transaction(make_database, monkeypatch):
    monkeypatch.setenv("SOURCE_VERSION", "v1.2.3")
    engine = sa.create_engine(make_database())
    try:
        run_alembic(engine, command.upgrade, "head")
        scripts = script_directory(MIGRATIONS_DIR)
        order = [s.revision for s in reversed(list(scripts.walk_revisions()))]
        assert rows(engine) == [(r, "upgrade") for r in order]
        with engine.connect() as connection:
            last = ledger.latest(connection)
            role = connection.execute(sa.text("SELECT current_user")).scalar_one()
        expected = render_checksums(scripts)
        assert {r: e.checksum for r, e in last.items()} == expected
        assert {(e.db_role, e.client_host) for e in last.values()} == {(role, socket.gethostname())}
        assert all(isinstance(e.duration_ms, int) and e.duration_ms >= 0 for e in last.values())
        assert {e.app_version for e in last.values()} == {"v1.2.3"}
        run_alembic(engine, command.downgrade, "-1")
        assert rows(engine)[-1] == (HEAD, "downgrade")
        with engine.connect() as connection:
            assert ledger.latest(connection)[HEAD].checksum == expected[HEAD]
    finally:
        engine.dispose()


def test_a_failed_revision_leaves_no_row(make_database, tmp_path):
    directory = copy_migrations(tmp_path)
    plant(directory, "bad000000001", 'op.execute("SELECT no_such_function()")')
    engine = sa.create_engine(make_database())
    try:
        with pytest.raises(sa.exc.ProgrammingError) as raised:
            run_alembic(engine, command.upgrade, "head", directory=directory)
        assert raised.value.orig.pgcode == "42883"  # undefined_function: the planted revision's own failure
        order = [s.revision for s in reversed(list(script_directory(MIGRATIONS_DIR).walk_revisions()))]
        assert rows(engine) == [(r, "upgrade") for r in order]  # up to HEAD; nothing for the failed one
    finally:
        engine.dispose()


def test_comments_and_whitespace_do_not_count():
    assert normalise_sql("CREATE  TABLE t (a int); -- note\n/* x */") == normalise_sql(
        "create TABLE t (a int);"
    ).replace("create", "CREATE")
    assert normalise_sql("SELECT 1;") != normalise_sql("SELECT 2;")


def test_percent_signs_print_once_and_checksums_recorded_with_them_doubled_still_match(tmp_path):
    directory = copy_migrations(tmp_path)
    statement = "UPDATE items SET title = '50%' WHERE title LIKE '%x'"
    plant(directory, "p1percent", upgrade=f"op.execute({statement!r})", downgrade="pass")
    scripts = ScriptDirectory(str(directory))
    rendered = render(scripts, "upgrade", HEAD, "p1percent").sql["p1percent"]
    assert statement + ";" in rendered
    # What the offline pass printed before paramstyle "named": psycopg2's doubled % signs.
    recorded_then = sql_checksum(rendered.replace("%", "%%"))
    assert (
        render_checksums(scripts, "p1percent", HEAD)["p1percent"] == recorded_then == sql_checksum(rendered)
    )


def test_a_revision_that_cannot_render_offline_gets_its_source_checksum(tmp_path):
    directory = copy_migrations(tmp_path)
    plant(directory, "py0000000001", 'raise RuntimeError("online only")')
    plant(directory, "after0000001", 'op.execute("SELECT 1")', down_revision="py0000000001")
    from alembic.script import ScriptDirectory

    checksums = render_checksums(ScriptDirectory(str(directory)))
    path = next((directory / "versions").glob("*py0000000001*"))
    assert checksums["py0000000001"] == source_checksum(path)
    assert checksums["after0000001"].startswith("sql:")
    assert checksums[HEAD] == render_checksums(script_directory(MIGRATIONS_DIR))[HEAD]
