"""The normalised schema dump: equal for databases migrated the same way, different otherwise."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from safemigrate.snapshot.dump import DumpError, compare, normalise, schema_text
from tests.conftest import upgrade


def _execute(url, *statements: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.fixture
def replayed(make_database):
    """A database migrated from empty to head, revision by revision."""
    url = make_database()
    upgrade(url)
    return url


@pytest.fixture
def reference(make_database, head_template):
    """A second database at head (a clone of the session's template: cheap)."""
    return make_database(template=head_template)


def test_databases_migrated_the_same_way_compare_equal(replayed, database_url):
    text = schema_text(replayed)
    assert "CREATE TABLE public.items (" in text
    assert "ADD CONSTRAINT fk_items_owner_id_users FOREIGN KEY" in text
    assert "CREATE INDEX ix_items_owner_id_created_at ON public.items" in text
    assert "alembic_version" not in text
    assert not [
        line for line in text.splitlines() if line.startswith(("\\restrict", "\\unrestrict", "SET ", "--"))
    ]
    assert "\n\n\n" not in text
    assert compare(replayed, database_url) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("ALTER TABLE items ADD COLUMN zz_priority integer DEFAULT 0", "+    zz_priority integer DEFAULT 0"),
        ("ALTER TABLE items ALTER COLUMN description SET DEFAULT ''", "DEFAULT ''::text"),
        ("ALTER INDEX ix_items_owner_id RENAME TO ix_items_owner", "ix_items_owner "),
        ("CREATE TYPE zz_priority AS ENUM ('low', 'high')", "+CREATE TYPE public.zz_priority AS ENUM ("),
        ("CREATE SEQUENCE tickets", "+CREATE SEQUENCE public.tickets"),
        (
            "ALTER TABLE items ADD CONSTRAINT ck_items_title CHECK (title <> '') NOT VALID",
            "ADD CONSTRAINT ck_items_title CHECK (((title)::text <> ''::text)) NOT VALID;",
        ),
    ],
)
def test_a_changed_schema_differs(reference, database_url, change, expected):
    _execute(database_url, change)
    differences = compare(reference, database_url)
    assert any(expected in line for line in differences), differences


def test_an_invalid_index_shows_although_pg_dump_skips_it(reference, database_url):
    _execute(
        database_url,
        "INSERT INTO users (email, password_hash, full_name)"
        " VALUES ('a@x.io', 'h', 'same'), ('b@x.io', 'h', 'same')",
    )
    with pytest.raises(sa.exc.IntegrityError):
        _execute(database_url, "CREATE UNIQUE INDEX CONCURRENTLY ix_users_full_name ON users (full_name)")
    changed = [
        line
        for line in compare(reference, database_url)
        if line[:1] in "+-" and line[:3] not in ("---", "+++")
    ]
    assert changed == [
        "+INVALID INDEX: CREATE UNIQUE INDEX ix_users_full_name ON public.users USING btree (full_name);"
    ]


def test_excluded_tables_leave_with_their_sequences_and_constraints(reference, database_url):
    _execute(database_url, "CREATE TABLE schema_ledger (id serial PRIMARY KEY, revision text UNIQUE)")
    assert any("schema_ledger" in line for line in compare(reference, database_url))
    assert compare(reference, database_url, exclude_tables=["schema_ledger"]) == []


def test_normalise_drops_what_differs_between_equal_schemas():
    dump = (
        "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc123\n\nSET lock_timeout = 0;\n"
        "SELECT pg_catalog.set_config('search_path', '', false);\n\n\n"
        "CREATE TABLE public.t (\n    id integer\n);\n\n\nALTER TABLE public.t OWNER TO app;\n\n"
        "\\unrestrict abc123\n"
    )
    assert normalise(dump) == "CREATE TABLE public.t (\n    id integer\n);\n"


def test_errors_are_one_line_without_the_password(server_url):
    url = server_url.set(password="s3cret-pw", database="no_such_database_here")
    with pytest.raises(DumpError) as excinfo:
        schema_text(url)
    message = str(excinfo.value)
    assert "\n" not in message
    assert "s3cret-pw" not in message
    assert "no_such_database_here" in message
