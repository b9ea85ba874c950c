"""flask db drift: hand changes on a migrated database are found, with SQL that undoes them."""

from __future__ import annotations

import os
import sys

import psycopg2
import pytest
from alembic.script import ScriptDirectory

from safemigrate.drift import DriftError, find_drift
from safemigrate.scratch import admin_connect
from tests.conftest import upgrade
from tests.support.cli_helpers import assert_clean_failure, flask, run
from tests.support.planting import copy_migrations, plant

FAILS = "fails: "
MOOD = """
op.execute("CREATE TYPE mood AS ENUM ('calm', 'busy')")
op.execute("ALTER TABLE users ADD COLUMN mood mood NOT NULL DEFAULT 'calm'")
op.execute("CREATE VIEW active_users AS SELECT id, email FROM users WHERE is_active")
"""


@pytest.fixture
def migrated(make_database, tmp_path):
    """(url, scripts): a database migrated to head of a history that also has an enum and a view."""
    directory = copy_migrations(tmp_path)
    plant(directory, "mood00000001", MOOD)
    url = make_database()
    upgrade(url, directory=directory)
    return url, ScriptDirectory(str(directory))


def execute(url, *statements: str) -> None:
    """Each statement on its own, outside a transaction (as psql -f runs a script)."""
    conn = admin_connect(url)
    try:
        with conn.cursor() as cur:
            for statement in statements:
                if statement.startswith(FAILS):
                    with pytest.raises(psycopg2.Error):
                        cur.execute(statement.removeprefix(FAILS))
                else:
                    cur.execute(statement)
    finally:
        conn.close()


def test_a_freshly_migrated_database_has_no_drift(migrated):
    url, scripts = migrated
    assert find_drift(url, scripts) == []


HAND_CHANGES = {
    "add a column": (
        ["ALTER TABLE items ADD COLUMN extra text"],
        [("column", "items.extra", "ALTER TABLE items DROP COLUMN extra;")],
    ),
    "drop an index": (
        ["DROP INDEX ix_items_owner_id"],
        [("index", "ix_items_owner_id", "CREATE INDEX CONCURRENTLY ix_items_owner_id ON public.items")],
    ),
    "add an enum value": (
        ["ALTER TYPE mood ADD VALUE 'angry'"],
        [("enum", "mood", "CREATE TYPE mood AS ENUM ('calm', 'busy');")],
    ),
    "leave an INVALID index": (
        [
            "INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x')",
            "INSERT INTO items (title, owner_id) SELECT 't', id FROM users",
            "INSERT INTO items (title, owner_id) SELECT 't', id FROM users",
            # A failed concurrent build leaves the index behind, INVALID.
            FAILS + "CREATE UNIQUE INDEX CONCURRENTLY ix_items_one_per_owner ON items (owner_id)",
        ],
        [("index", "ix_items_one_per_owner", "DROP INDEX CONCURRENTLY IF EXISTS ix_items_one_per_owner;")],
    ),
    "add a trigger": (
        [
            "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN NEW.updated_at := now(); RETURN NEW; END$$",
            "CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch()",
        ],
        [
            ("trigger", "items.items_touch", "DROP TRIGGER items_touch ON items;"),
            ("function", "touch()", "DROP FUNCTION touch();"),
        ],
    ),
    "change a default": (
        ["ALTER TABLE users ALTER COLUMN is_active SET DEFAULT false"],
        [("column", "users.is_active", "ALTER TABLE users ALTER COLUMN is_active SET DEFAULT true;")],
    ),
    "leave a constraint NOT VALID": (
        [
            "ALTER TABLE items DROP CONSTRAINT fk_items_owner_id_users",
            "ALTER TABLE items ADD CONSTRAINT fk_items_owner_id_users FOREIGN KEY (owner_id) "
            "REFERENCES users (id) ON DELETE CASCADE NOT VALID",
        ],
        [("constraint", "items.fk_items_owner_id_users", "VALIDATE CONSTRAINT fk_items_owner_id_users;")],
    ),
    "replace a view": (
        ["CREATE OR REPLACE VIEW active_users AS SELECT id, email FROM users"],
        [("view", "active_users", "CREATE OR REPLACE VIEW active_users AS")],
    ),
}


@pytest.mark.parametrize("change", list(HAND_CHANGES), ids=list(HAND_CHANGES))
def test_hand_changes_are_reported_with_sql_that_undoes_them(migrated, change):
    url, scripts = migrated
    statements, expected = HAND_CHANGES[change]
    execute(url, *statements)
    differences = find_drift(url, scripts)
    assert [(d.kind, d.name) for d in differences] == [(kind, name) for kind, name, _ in expected]
    for difference, (_, _, sql) in zip(differences, expected, strict=True):
        assert sql in " ".join(difference.sql), difference
        assert difference.live != difference.expected
        assert difference.name in difference.line
    execute(url, *[s for d in differences for s in d.sql])
    assert find_drift(url, scripts) == []


def test_the_command_prints_each_difference_and_its_sql_and_exits_1(migrated, tmp_path):
    url, scripts = migrated
    execute(url, "ALTER TABLE items ADD COLUMN extra text", "DROP INDEX ix_items_owner_id")
    directory = ["-d", scripts.dir]
    result = flask("db", "drift", *directory, database_url=url)
    assert result.returncode == 1, result.stderr
    assert "column items.extra: live text NULL DEFAULT none; expected absent" in result.stdout
    assert "    ALTER TABLE items DROP COLUMN extra;" in result.stdout
    assert "index ix_items_owner_id: live absent; expected CREATE INDEX" in result.stdout
    script = flask("db", "drift", "--sql", *directory, database_url=url)
    assert script.returncode == 1
    execute(url, *[line for line in script.stdout.splitlines() if line.strip()])
    assert find_drift(url, scripts) == []


def test_a_role_that_cannot_read_the_catalogue_gets_one_line(migrated, server_url):
    url, scripts = migrated
    role = f"nocatalogue_{os.getpid()}"
    execute(
        url,
        f"CREATE ROLE {role} LOGIN",
        f"GRANT SELECT ON alembic_version, migration_ledger TO {role}",
        "REVOKE SELECT ON pg_catalog.pg_trigger FROM PUBLIC",
        "REVOKE SELECT ON pg_catalog.pg_attribute FROM PUBLIC",
    )
    try:
        as_role = url.set(username=role)
        result = flask("db", "drift", "-d", scripts.dir, database_url=as_role)
        assert_clean_failure(result, "cannot read the schema", "permission denied", code=2)
        assert len((result.stdout + result.stderr).strip().splitlines()) == 1
    finally:
        execute(url, f"DROP OWNED BY {role}")
        execute(server_url, f"DROP ROLE IF EXISTS {role}")


def test_the_runner_refuses_drift_only_when_asked(migrated):
    url, scripts = migrated
    execute(url, "ALTER TABLE items ADD COLUMN extra text")
    runner = [sys.executable, "run_migration.py", "--wait", "5", "--directory", scripts.dir]
    refused = run([*runner, "--check-drift"], database_url=url)
    assert refused.returncode == 6, refused.stderr
    assert "drift: column items.extra: live text NULL" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert run(runner, database_url=url).returncode == 0


@pytest.fixture
def role_without_createdb(migrated, server_url):
    """A login role that may read the migrated database but not create databases."""
    url, _ = migrated
    role = f"nocreatedb_{os.getpid()}"
    execute(url, f"CREATE ROLE {role} LOGIN NOCREATEDB", f"GRANT SELECT ON alembic_version TO {role}")
    try:
        yield role
    finally:
        execute(url, f"DROP OWNED BY {role}")
        execute(server_url, f"DROP ROLE IF EXISTS {role}")


def test_without_create_database_a_scratch_server_from_the_host_is_used(
    migrated, role_without_createdb, caplog
):
    from devdb.embedded import throwaway_server

    url, scripts = migrated
    execute(url, "ALTER TABLE users ALTER COLUMN is_active SET DEFAULT false")
    with caplog.at_level("INFO", logger="safemigrate.drift"):
        [difference] = find_drift(
            url.set(username=role_without_createdb), scripts, scratch_server=throwaway_server
        )
    assert difference.name == "users.is_active"
    assert "throwaway server" in caplog.text


def test_without_create_database_and_no_scratch_server_the_check_refuses_in_one_line(
    migrated, role_without_createdb
):
    url, scripts = migrated
    with pytest.raises(DriftError) as refused:
        find_drift(url.set(username=role_without_createdb), scripts)
    assert str(refused.value) == (
        f"the role {role_without_createdb!r} may not CREATE DATABASE, so the expected schema cannot be "
        "built: grant it CREATEDB, or run the check with a role that has it (MIGRATION_DATABASE_URL)"
    )


def test_the_runner_in_production_without_create_database_refuses_drift_in_one_line(
    migrated, role_without_createdb
):
    """The bug this replaces: in production the runner fell back to the embedded (development-only)
    server, and whatever that raised surfaced as "unexpected error", exit 1."""
    url, scripts = migrated
    execute(
        url,
        f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role_without_createdb}",
        f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role_without_createdb}",
    )
    before = _alembic_version(url)
    result = run(
        [sys.executable, "run_migration.py", "--wait", "5", "--directory", scripts.dir, "--check-drift"],
        database_url=url,
        APP_ENV="production",
        SECRET_KEY="x" * 40,
        MIGRATION_DATABASE_URL=url.set(username=role_without_createdb).render_as_string(hide_password=False),
    )
    assert result.returncode == 6, result.stderr
    [line] = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert line.endswith(
        f"drift check could not run: the role {role_without_createdb!r} may not CREATE DATABASE, so the "
        "expected schema cannot be built: grant it CREATEDB, or run the check with a role that has it "
        "(MIGRATION_DATABASE_URL)"
    )
    assert "unexpected error" not in result.stderr and "Traceback" not in result.stderr
    assert _alembic_version(url) == before


def _alembic_version(url):
    conn = admin_connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT version_num FROM alembic_version")
            return cur.fetchall()
    finally:
        conn.close()
