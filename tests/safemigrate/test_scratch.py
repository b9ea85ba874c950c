"""Scratch databases (safemigrate/scratch.py): made on the server, dropped afterwards whatever the
block does, or refused in one line that says which step failed; drift and squash word that line."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from config import MIGRATIONS_DIR
from safemigrate import drift
from safemigrate.drift import DriftError
from safemigrate.scratch import ScratchUnavailable, admin_connect, scratch_database
from safemigrate.squash.build import squash
from safemigrate.squash.plan import SquashRefused
from tests.support.planting import copy_migrations

PRIVILEGE = "permission denied to create database"


def databases(server_url) -> set[str]:
    conn = admin_connect(server_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database WHERE datname LIKE '%\\_scratch\\_%'")
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


@pytest.fixture
def no_createdb(server_url):
    """The server's URL as a login role that may not create databases."""
    role = f"noscratch_{os.getpid()}"
    conn = admin_connect(server_url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE ROLE {role} LOGIN NOCREATEDB PASSWORD 's3cret-pw'")
        yield server_url.set(username=role, password="s3cret-pw")
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP ROLE IF EXISTS {role}")
        conn.close()


def test_the_database_exists_in_the_block_and_is_dropped_after_it_even_when_the_block_fails(server_url):
    before = databases(server_url)
    with pytest.raises(RuntimeError, match="the block failed"), scratch_database(server_url, "test") as url:
        assert url.database.startswith("test_scratch_")
        assert databases(server_url) - before == {url.database}
        raise RuntimeError("the block failed")
    assert databases(server_url) == before


def test_a_role_that_may_not_create_databases_is_refused_before_the_block(server_url, no_createdb):
    before = databases(server_url)
    with pytest.raises(ScratchUnavailable) as refused, scratch_database(no_createdb, "test"):
        pytest.fail("the block must not run")
    assert (refused.value.step, refused.value.detail) == ("privilege", PRIVILEGE)
    assert databases(server_url) == before


def test_without_the_privilege_a_scratch_server_is_used_and_left_clean(server_url, no_createdb):
    @contextmanager
    def scratch_server():  # the test server itself stands in for the host's throwaway one
        yield server_url

    before = databases(server_url)
    with scratch_database(no_createdb, "test", scratch_server=scratch_server) as url:
        assert (url.username, url.database in databases(server_url)) == (server_url.username, True)
    assert databases(server_url) == before


def test_drift_words_a_scratch_server_that_fails_in_one_line(no_createdb):
    @contextmanager
    def broken_server():
        raise OSError("no space left on device")
        yield  # pragma: no cover

    with (
        pytest.raises(DriftError) as refused,
        drift.scratch_database(no_createdb, broken_server),
    ):
        pytest.fail("the block must not run")
    assert str(refused.value) == "the scratch server could not be used: no space left on device"


def test_drift_words_an_unreachable_server_in_one_line_without_the_password():
    unreachable = URL.create(
        "postgresql+psycopg2", username="app", password="s3cret-pw", host="127.0.0.1", port=9, database="live"
    )
    with pytest.raises(DriftError) as refused, drift.scratch_database(unreachable):
        pytest.fail("the block must not run")
    message = str(refused.value)
    assert message.startswith("cannot connect to database 'live' on 127.0.0.1:9: connection to server at")
    assert "\n" not in message and "s3cret-pw" not in message


def test_squash_without_create_database_refuses_in_one_line_and_writes_nothing(
    tmp_path, server_url, no_createdb
):
    directory = copy_migrations(tmp_path)
    files = sorted(
        p.relative_to(directory) for p in Path(directory).rglob("*") if "__pycache__" not in p.parts
    )
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    before = databases(server_url)
    with pytest.raises(SquashRefused) as refused:
        squash(directory, head, "squash everything", no_createdb)
    assert str(refused.value) == f"cannot create a scratch database on the server: {PRIVILEGE}"
    after = sorted(
        p.relative_to(directory) for p in Path(directory).rglob("*") if "__pycache__" not in p.parts
    )
    assert (after, databases(server_url)) == (files, before)
