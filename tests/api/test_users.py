import pytest

from tests.api.conftest import PASSWORD, login, register


def test_register_returns_the_user_without_the_password(client):
    response = register(client, "New@Example.com", full_name="New Person")
    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "new@example.com"
    assert body["full_name"] == "New Person"
    assert body["is_active"] is True and body["is_superuser"] is False
    assert not {"password", "password_hash"} & body.keys()


def test_duplicate_email_is_a_conflict(client):
    assert register(client, "dup@example.com").status_code == 201
    response = register(client, "DUP@example.com")
    assert response.status_code == 409
    assert response.get_json()["error"] == "conflict"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com", "password": "onlyletters"}, "password"),
        ({"email": "a@example.com", "password": "12345678901"}, "password"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "a@example.com", "password": PASSWORD, "is_superuser": True}, "is_superuser"),
        ({"email": "a@example.com", "password": PASSWORD, "full_name": "x" * 256}, "full_name"),
        ({"email": "a@example.com", "password": PASSWORD, "full_name": "nul\x00"}, "full_name"),
    ],
)
def test_invalid_registrations_are_422_with_details(client, body, field):
    response = client.post("/api/v1/users", json=body)
    assert response.status_code == 422
    payload = response.get_json()
    assert payload["error"] == "unprocessable_entity"
    assert field in payload["details"]["json"]


def test_token_for_right_credentials(client):
    register(client, "t@example.com")
    response = login(client, "T@example.com")
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0 and body["access_token"]


def test_wrong_password_and_unknown_email_answer_the_same(client):
    register(client, "t@example.com")
    wrong = login(client, "t@example.com", "wrong password 123")
    unknown = login(client, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_me_returns_the_caller(client, alice):
    response = client.get("/api/v1/users/me", headers=alice.headers)
    assert response.status_code == 200
    assert response.get_json()["email"] == "alice@example.com"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Basic abc", "Bearer not-a-token", "Bearer a.b.c", "bearer\x7f"],
)
def test_missing_or_bad_tokens_are_401(client, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/users/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"] == "unauthorized"


def test_expired_token_is_refused(client, app, alice):
    app.config["TOKEN_TTL_SECONDS"] = -1
    response = client.get("/api/v1/users/me", headers=alice.headers)
    assert response.status_code == 401
    assert response.get_json()["message"] == "token expired"


def test_token_signed_with_another_secret_is_refused(client, app, alice):
    app.config["SECRET_KEY"] = "another secret"
    assert client.get("/api/v1/users/me", headers=alice.headers).status_code == 401


def test_inactive_users_are_refused_everywhere(client, app, alice):
    from app.extensions import db
    from app.models import User

    with app.app_context():
        db.session.get(User, alice.id).is_active = False
        db.session.commit()
    assert client.get("/api/v1/users/me", headers=alice.headers).status_code == 401
    assert login(client, alice.email).status_code == 401
