"""Security headers on every response; no HTML from the app itself."""

from __future__ import annotations

import pytest

from app.headers import SECURITY_HEADERS


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/healthz"),
        ("get", "/api/v1/openapi.json"),
        ("get", "/api/v1/items"),  # 401
        ("get", "/nowhere"),  # 404
        ("put", "/api/v1/items"),  # 405
        ("options", "/api/v1/items"),
        ("post", "/api/v1/auth/token"),  # 422
    ],
)
def test_security_headers_on_every_response(client, method, url):
    response = getattr(client, method)(url)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (url, name)
    assert "Strict-Transport-Security" not in response.headers  # development/testing: plain HTTP


def test_signed_in_answers_are_not_stored(client, alice):
    assert client.get("/api/v1/users/me", headers=alice.headers).headers["Cache-Control"] == "no-store"


def test_options_answers_without_a_body(client):
    response = client.options("/api/v1/items")
    assert response.status_code == 204
    assert response.get_data() == b""
    assert "text/html" not in response.headers.get("Content-Type", "")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


@pytest.mark.parametrize("url", ["/api//v1/items", "//healthz", "/api/v1/items/", "/api/v1/items/1/"])
def test_odd_urls_are_json_not_html_redirects(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.is_json, response.get_data()[:100]


def test_production_adds_hsts(database_url):
    from app import create_app
    from config import ProductionConfig

    config = ProductionConfig(
        {
            "SECRET_KEY": "x" * 32,
            "DATABASE_URL": database_url.render_as_string(hide_password=False),
        }
    )
    response = create_app(config).test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
