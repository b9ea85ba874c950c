"""Throttling (Flask-Limiter, memory:// in tests) with small limits set on the app under test."""

from __future__ import annotations

import logging

import pytest

from tests.api.conftest import PASSWORD, login, register


def from_ip(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.get_json()
    body = response.get_json()
    assert body["error"] == "too_many_requests"
    assert isinstance(body["message"], str)
    assert 0 < int(response.headers["Retry-After"]) <= 60


@pytest.fixture
def small_limits(app):
    app.config.update(
        LOGIN_LIMIT_PER_IP="4 per minute",
        LOGIN_FAILURES_PER_ACCOUNT="2 per minute",
        REGISTER_LIMIT_PER_IP="2 per minute",
    )


def test_login_is_throttled_per_ip(client, small_limits):
    for n in range(4):
        assert login(client, f"nobody{n}@example.com").status_code == 401
    assert_throttled(login(client, "someone-else@example.com"))
    # another client is not affected
    assert login(client, "nobody@example.com").status_code == 429  # same IP, still blocked
    assert (
        client.post(
            "/api/v1/auth/token", json={"email": "x@example.com", "password": "y"}, **from_ip("10.9.9.9")
        ).status_code
        == 401
    )


def test_failed_logins_are_throttled_per_account_across_ips(client, small_limits, alice):
    for n in range(2):
        response = client.post(
            "/api/v1/auth/token", json={"email": alice.email, "password": "wrong 1"}, **from_ip(f"10.0.0.{n}")
        )
        assert response.status_code == 401
    # a third IP, even with the right password: the account is cooling down
    right = {"email": "ALICE@example.com ", "password": PASSWORD}
    assert_throttled(client.post("/api/v1/auth/token", json=right, **from_ip("10.0.0.99")))
    # other accounts are not affected
    other = {"email": "bob@example.com", "password": "wrong 1"}
    assert client.post("/api/v1/auth/token", json=other, **from_ip("10.0.0.98")).status_code == 401


def test_successful_logins_do_not_count_against_the_account(client, app, alice):
    app.config.update(LOGIN_FAILURES_PER_ACCOUNT="2 per minute")
    for n in range(4):
        assert login(client, alice.email).status_code == 200, n


def test_registration_is_throttled_per_ip(client, small_limits):
    assert register(client, "r1@example.com").status_code == 201
    assert register(client, "r2@example.com").status_code == 201
    throttled = register(client, "r3@example.com")
    assert_throttled(throttled)
    assert (
        client.post(
            "/api/v1/users", json={"email": "r4@example.com", "password": PASSWORD}, **from_ip("10.1.1.1")
        ).status_code
        == 201
    )


def test_429_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/users", "/api/v1/users/me/password"):
        answer = paths[path]["post"]["responses"]["429"]
        assert "Retry-After" in answer["headers"]
        assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_trusted_proxy_address_is_the_client(database_url):
    from app import create_app
    from tests.support.db_helpers import config_for

    app = create_app(config_for(database_url, TRUSTED_PROXIES="1"))
    app.config.update(LOGIN_LIMIT_PER_IP="1 per minute")
    client = app.test_client()
    body = {"email": "x@example.com", "password": "y"}
    router = {"environ_base": {"REMOTE_ADDR": "10.0.0.1"}}
    first = client.post("/api/v1/auth/token", json=body, headers={"X-Forwarded-For": "203.0.113.1"}, **router)
    assert first.status_code == 401
    other = client.post("/api/v1/auth/token", json=body, headers={"X-Forwarded-For": "203.0.113.2"}, **router)
    assert other.status_code == 401  # another client behind the same router
    again = client.post("/api/v1/auth/token", json=body, headers={"X-Forwarded-For": "203.0.113.1"}, **router)
    assert again.status_code == 429


def production_app(database_url, **environ):
    from app import create_app
    from config import ProductionConfig

    url = database_url.render_as_string(hide_password=False)
    return create_app(ProductionConfig({"SECRET_KEY": "x" * 32, "DATABASE_URL": url, **environ}))


def test_production_warns_when_limits_are_per_process(database_url, caplog):
    with caplog.at_level(logging.WARNING):
        production_app(database_url)
    assert "RATELIMIT_STORAGE_URI is not set" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        production_app(database_url, RATELIMIT_STORAGE_URI="memory://?shared-by-nobody")
    assert "RATELIMIT_STORAGE_URI is not set" not in caplog.text
