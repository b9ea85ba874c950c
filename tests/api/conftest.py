from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User
from safemigrate.scratch import create_database, drop_database
from tests.conftest import WORKER

PASSWORD = "correct horse battery"

# -- one database per worker, emptied before each test ------------------------------------------
# The API tests change rows, not the schema, so instead of a clone of the head template per test
# (a CREATE DATABASE, two checkpoints) they share one, whose tables are emptied (TRUNCATE ...
# RESTART IDENTITY) before each test: the same state as a fresh clone. A test that changes the
# schema (tests/api/test_logging.py plants a trigger) is noticed by the catalogue fingerprint and
# the database is cloned again for the next one.

SHARED_DB = f"test_api_{WORKER}"
KEEP = ("alembic_version", "migration_ledger")  # what migrating to head wrote, as in a fresh clone
FINGERPRINT = sa.text(
    """
    SELECT md5(string_agg(part, ',' ORDER BY part)) FROM (
        SELECT concat_ws(' ', 'c', c.oid, c.relname, c.relkind, c.relnatts) FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace
        UNION ALL SELECT concat_ws(' ', 'a', a.attrelid, a.attname, a.atttypid, a.attnotnull, a.attisdropped)
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            WHERE c.relnamespace = 'public'::regnamespace
        UNION ALL SELECT concat_ws(' ', 'd', d.oid, pg_get_expr(d.adbin, d.adrelid)) FROM pg_attrdef d
        UNION ALL SELECT concat_ws(' ', 't', t.oid) FROM pg_trigger t
        UNION ALL SELECT concat_ws(' ', 'k', k.oid, k.convalidated) FROM pg_constraint k
            WHERE k.connamespace = 'public'::regnamespace
        UNION ALL SELECT concat_ws(' ', 'p', p.oid) FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace
        UNION ALL SELECT concat_ws(' ', 'y', y.oid) FROM pg_type y
            WHERE y.typnamespace = 'public'::regnamespace
        UNION ALL SELECT concat_ws(' ', 'e', e.oid) FROM pg_enum e
    ) parts(part)
    """
)


class SharedDatabase:
    def __init__(self, server_url, template: str):
        self.server_url, self.template = server_url, template
        self.url = server_url.set(database=SHARED_DB)
        self.engine = None
        self.fingerprint = None

    def clone(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
        drop_database(self.server_url, SHARED_DB)
        create_database(self.server_url, SHARED_DB, template=self.template)
        self.engine = sa.create_engine(self.url, poolclass=sa.NullPool)
        with self.engine.connect() as connection:
            self.fingerprint = connection.execute(FINGERPRINT).scalar_one()

    def empty(self) -> None:
        """Every table's rows gone and identities restarted; a changed schema means a new clone."""
        with self.engine.connect() as connection:
            changed = connection.execute(FINGERPRINT).scalar_one() != self.fingerprint
        if changed:
            self.clone()
            return
        with self.engine.begin() as connection:
            tables = connection.execute(
                sa.text(
                    "SELECT format('%I', tablename) FROM pg_tables "
                    "WHERE schemaname = 'public' AND tablename <> ALL(:keep)"
                ),
                {"keep": list(KEEP)},
            ).scalars()
            connection.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))

    def close(self) -> None:
        self.engine.dispose()
        drop_database(self.server_url, SHARED_DB)


@pytest.fixture(scope="session")
def shared_database(server_url, head_template):
    shared = SharedDatabase(server_url, head_template)
    shared.clone()
    yield shared
    shared.close()


@pytest.fixture
def database_url(shared_database):
    """Overrides tests/conftest.py's: the worker's API database, empty, at head."""
    shared_database.empty()
    return shared_database.url


@dataclass
class Caller:
    id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register(client, email: str, password: str = PASSWORD, **extra):
    return client.post("/api/v1/users", json={"email": email, "password": password, **extra})


def login(client, email: str, password: str = PASSWORD):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


@pytest.fixture
def make_caller(client, app):
    def make(email: str, *, superuser: bool = False) -> Caller:
        created = register(client, email)
        assert created.status_code == 201, created.get_json()
        if superuser:
            with app.app_context():
                db.session.execute(sa.update(User).where(User.email == email).values(is_superuser=True))
                db.session.commit()
        token = login(client, email).get_json()["access_token"]
        return Caller(id=created.get_json()["id"], email=email, token=token)

    return make


@pytest.fixture
def alice(make_caller) -> Caller:
    return make_caller("alice@example.com")


@pytest.fixture
def bob(make_caller) -> Caller:
    return make_caller("bob@example.com")


@pytest.fixture
def admin(make_caller) -> Caller:
    return make_caller("admin@example.com", superuser=True)


def create_item(client, caller: Caller, **fields):
    body = {"title": "an item", **fields}
    response = client.post("/api/v1/items", json=body, headers=caller.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()
