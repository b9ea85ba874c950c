from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User

PASSWORD = "correct horse battery"


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
