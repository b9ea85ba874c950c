"""The extensions the embedded server offers, as MIGRATIONS.md (Prerequisites) lists them."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="DATABASE_URL: not the embedded server")
def test_the_embedded_server_has_citext_and_pgvector_but_not_pgcrypto_or_uuid_ossp(engine):
    with engine.connect() as connection:
        available = set(connection.execute(sa.text("SELECT name FROM pg_available_extensions")).scalars())
        assert connection.execute(sa.text("SELECT gen_random_uuid() IS NOT NULL")).scalar_one()
    assert {"citext", "hstore", "pg_trgm", "btree_gin", "btree_gist", "ltree", "vector"} <= available
    assert available.isdisjoint({"pgcrypto", "uuid-ossp"})
