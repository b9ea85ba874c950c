"""Revocable tokens: logout, password change, deactivation; strict payloads; no-store."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.api.auth import TOKEN_SALT
from tests.api.conftest import PASSWORD, login

NEW_PASSWORD = "a brand new passphrase 2"


def me(client, token: str):
    return client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})


def test_token_response_is_not_stored(client, alice):
    response = login(client, alice.email)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_logout_revokes_the_token(client, alice):
    other_session = login(client, alice.email).get_json()["access_token"]
    assert me(client, alice.token).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=alice.headers).status_code == 204
    for token in (alice.token, other_session):
        response = me(client, token)
        assert response.status_code == 401
        assert response.get_json()["message"] == "token revoked"
    assert client.post("/api/v1/auth/logout", headers=alice.headers).status_code == 401
    # signing in again works
    assert me(client, login(client, alice.email).get_json()["access_token"]).status_code == 200


def test_logout_needs_a_token(client):
    assert client.post("/api/v1/auth/logout").status_code == 401


def test_password_change_revokes_every_older_token(client, alice, bob):
    response = client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=alice.headers,
    )
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    fresh = response.get_json()["access_token"]
    assert me(client, alice.token).status_code == 401
    assert me(client, fresh).status_code == 200
    assert login(client, alice.email).status_code == 401
    assert login(client, alice.email, NEW_PASSWORD).status_code == 200
    assert me(client, bob.token).status_code == 200  # nobody else is signed out


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"current_password": "wrong one 1", "new_password": NEW_PASSWORD}, 403),
        ({"current_password": PASSWORD, "new_password": "short"}, 422),
        ({"current_password": PASSWORD, "new_password": "onlyletters"}, 422),
        ({"new_password": NEW_PASSWORD}, 422),
    ],
)
def test_password_change_refusals_change_nothing(client, alice, body, status):
    response = client.post("/api/v1/users/me/password", json=body, headers=alice.headers)
    assert response.status_code == status, response.get_json()
    assert me(client, alice.token).status_code == 200
    assert login(client, alice.email).status_code == 200


def test_deactivation_through_the_database_revokes_at_once(client, app, alice):
    from app.extensions import db
    from app.models import User

    with app.app_context():
        db.session.get(User, alice.id).is_active = False
        db.session.commit()
    assert me(client, alice.token).status_code == 401


def forge(app, payload) -> str:
    """A token signed with the app's real key: only a key holder could make one."""
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=TOKEN_SALT).dumps(payload)


@pytest.mark.parametrize(
    "payload",
    [
        {"sub": True, "ver": 0},
        {"sub": 1, "ver": False},
        {"sub": "1", "ver": 0},
        {"sub": 1.0, "ver": 0},
        {"sub": 2**70, "ver": 0},
        {"sub": -1, "ver": 0},
        {"sub": 1},
        {"sub": 1, "ver": None},
        {"sub": [1], "ver": 0},
        [1, 0],
        "1",
        None,
    ],
)
def test_payloads_of_the_wrong_type_are_401(client, app, alice, payload):
    response = me(client, forge(app, payload))
    assert response.status_code == 401
    assert response.get_json()["message"] == "invalid token"


def test_a_well_formed_payload_is_accepted(client, app, alice):
    assert me(client, forge(app, {"sub": alice.id, "ver": 0})).status_code == 200
    assert me(client, forge(app, {"sub": alice.id, "ver": 1})).status_code == 401


def test_ttl_from_the_environment(database_url):
    from app import create_app
    from tests.support.db_helpers import config_for

    app = create_app(config_for(database_url, TOKEN_TTL_SECONDS="120"))
    client = app.test_client()
    client.post("/api/v1/users", json={"email": "ttl@example.com", "password": PASSWORD})
    assert login(client, "ttl@example.com").get_json()["expires_in"] == 120
