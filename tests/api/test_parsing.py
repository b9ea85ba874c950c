"""Bodies built to make the JSON parser raise are 400s, on every endpoint that reads one."""

from __future__ import annotations

import pytest

from app.api.parsing import MAX_DEPTH

DEEP = "[" * 5000 + "]" * 5000
DEEP_IN_FIELD = '{"email": ' + "{" * 0 + "[" * 3000 + "]" * 3000 + "}"
HUGE_INT = '{"email": "a@example.com", "password": ' + "9" * 5000 + "}"
HUGE_FLOAT = '{"title": 1.' + "5" * 5000 + "}"
HUGE_EXPONENT = '{"title": 1e' + "9" * 5000 + "}"
ATTACKS = {
    "deep": (DEEP, "nested deeper"),
    "deep-in-field": (DEEP_IN_FIELD, "nested deeper"),
    "just-too-deep": ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nested deeper"),
    "huge-int": (HUGE_INT, "number longer"),
    "huge-float": (HUGE_FLOAT, "number longer"),
    "huge-exponent": (HUGE_EXPONENT, "number longer"),
    "nan": ('{"title": NaN}', "NaN is not JSON"),
    "infinity": ('{"title": -Infinity}', "Infinity is not JSON"),
}


@pytest.fixture
def endpoints(alice):
    return [
        ("post", "/api/v1/users", {}),
        ("post", "/api/v1/auth/token", {}),
        ("post", "/api/v1/items", alice.headers),
        ("patch", "/api/v1/items/1", alice.headers),
        ("post", "/api/v1/users/me/password", alice.headers),
    ]


@pytest.mark.parametrize("attack", ATTACKS)
def test_parse_attacks_are_400_json(client, endpoints, attack):
    body, message = ATTACKS[attack]
    for method, url, headers in endpoints:
        response = getattr(client, method)(url, data=body, content_type="application/json", headers=headers)
        assert response.status_code == 400, (url, response.status_code, response.get_data()[:200])
        assert response.get_json()["error"] == "bad_request"
        assert message in response.get_json()["message"], (url, response.get_json())


def test_allowed_depth_and_ordinary_numbers_still_parse(client, alice):
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    body = '{"title": "ok", "description": null, "internal_description": ' + f'"{nested}"' + "}"
    assert (
        client.post(
            "/api/v1/items", data=body, content_type="application/json", headers=alice.headers
        ).status_code
        == 201
    )
    # a deep-but-allowed value in a field is a validation error, not a parse error
    response = client.post(
        "/api/v1/items",
        data='{"title": ' + nested + "}",
        content_type="application/json",
        headers=alice.headers,
    )
    assert response.status_code == 422
    response = client.get("/api/v1/items?limit=" + "9" * 5000, headers=alice.headers)
    assert response.status_code == 422


def test_loads_never_raises_anything_but_its_own_error():
    from app.api.parsing import JSONLimitError, loads

    for body, _ in ATTACKS.values():
        with pytest.raises(JSONLimitError):
            loads(body)
    assert loads('{"a": [1, 2.5, -3e10, "x"]}') == {"a": [1, 2.5, -3e10, "x"]}
