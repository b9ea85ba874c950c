import pytest

from tests.api.conftest import create_item


def test_create_returns_201_with_location(client, alice):
    response = client.post(
        "/api/v1/items",
        json={"title": "first", "description": "d", "internal_description": "i"},
        headers=alice.headers,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/items/{body['id']}"
    assert (body["title"], body["description"], body["internal_description"], body["owner_id"]) == (
        "first",
        "d",
        "i",
        alice.id,
    )
    assert client.get(response.headers["Location"], headers=alice.headers).get_json() == body


def test_get_update_delete_own_item(client, alice):
    item = create_item(client, alice)
    url = f"/api/v1/items/{item['id']}"

    patched = client.patch(url, json={"title": "renamed", "description": None}, headers=alice.headers)
    assert patched.status_code == 200
    assert (patched.get_json()["title"], patched.get_json()["description"]) == ("renamed", None)
    assert patched.get_json()["updated_at"] >= item["updated_at"]

    assert client.delete(url, headers=alice.headers).status_code == 204
    assert client.get(url, headers=alice.headers).status_code == 404


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_item_is_404_exactly_like_a_missing_one(client, alice, bob, method):
    item = create_item(client, alice)
    kwargs = {"json": {"title": "stolen"}} if method == "patch" else {}
    theirs = getattr(client, method)(f"/api/v1/items/{item['id']}", headers=bob.headers, **kwargs)
    missing = getattr(client, method)("/api/v1/items/999999", headers=bob.headers, **kwargs)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json() == missing.get_json()
    # ... and nothing changed
    assert client.get(f"/api/v1/items/{item['id']}", headers=alice.headers).get_json()["title"] == "an item"


def test_list_shows_only_the_callers_items(client, alice, bob):
    create_item(client, alice, title="alice's")
    create_item(client, bob, title="bob's")
    titles = [i["title"] for i in client.get("/api/v1/items", headers=bob.headers).get_json()["items"]]
    assert titles == ["bob's"]


def test_superuser_lists_and_reads_everything_including_internal(client, alice, admin):
    item = create_item(client, alice, internal_description="secret")
    listed = client.get("/api/v1/items", headers=admin.headers).get_json()["items"]
    assert [i["id"] for i in listed] == [item["id"]]
    assert listed[0]["internal_description"] == "secret"
    one = client.get(f"/api/v1/items/{item['id']}", headers=admin.headers).get_json()
    assert one["internal_description"] == "secret"


def test_internal_description_visibility(client, app, alice, admin):
    from app.api.items import reveal
    from app.models import Item, User

    item = create_item(client, alice, internal_description="owner only")
    assert client.get(f"/api/v1/items/{item['id']}", headers=alice.headers).get_json()["internal_description"]
    # The schema hides the field for any reader not revealed as owner or superuser.
    from app.api.schemas import ItemSchema

    with app.app_context():
        from app.extensions import db

        row = db.session.get(Item, item["id"])
        stranger = User(id=-1, email="x", password_hash="x", is_superuser=False)
        assert "internal_description" not in ItemSchema().dump(reveal(row, stranger))
        assert ItemSchema().dump(reveal(row, db.session.get(User, admin.id)))["internal_description"]


def test_list_is_paginated_newest_first_with_a_next_link(client, alice):
    ids = [create_item(client, alice, title=f"item {n}")["id"] for n in range(5)]
    seen, url = [], "/api/v1/items?limit=2"
    while url:
        page = client.get(url, headers=alice.headers).get_json()
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        url = page["next"]
    assert seen == list(reversed(ids))


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=abc",
        "cursor=not-a-cursor",
        "cursor=1.2.3",
        "cursor=12345678901234567.1",
    ],
)
def test_pagination_bounds(client, alice, query):
    response = client.get(f"/api/v1/items?{query}", headers=alice.headers)
    assert response.status_code == 422
    assert response.get_json()["error"] == "unprocessable_entity"


def test_limit_100_is_allowed(client, alice):
    assert client.get("/api/v1/items?limit=100", headers=alice.headers).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "x" * 256},
        {"title": None},
        {"title": 5},
        {"title": "ok", "description": "x" * 10_001},
        {"title": "ok", "owner_id": 1},
        {"title": "nul \x00 byte"},
        ["not", "an", "object"],
    ],
)
def test_invalid_item_bodies_are_422(client, alice, body):
    response = client.post("/api/v1/items", json=body, headers=alice.headers)
    assert response.status_code == 422, response.get_json()


def test_malformed_json_is_400(client, alice):
    response = client.post(
        "/api/v1/items", data="{not json", content_type="application/json", headers=alice.headers
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert response.get_json()["message"] == "malformed JSON body"


def test_oversized_body_is_413(client, alice):
    body = '{"title": "' + "x" * (1024 * 1024) + '"}'
    response = client.post("/api/v1/items", data=body, content_type="application/json", headers=alice.headers)
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"


def test_method_not_allowed_is_405_json(client):
    response = client.put("/api/v1/items")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("item_id", ["0", "2147483648", "99999999999999999999"])
def test_out_of_range_ids_are_404(client, alice, item_id):
    assert client.get(f"/api/v1/items/{item_id}", headers=alice.headers).status_code == 404


def test_items_need_a_token(client):
    for method, url in [("get", "/api/v1/items"), ("post", "/api/v1/items"), ("get", "/api/v1/items/1")]:
        response = getattr(client, method)(url, json={"title": "x"})
        assert response.status_code == 401, (method, url)


def test_unexpected_errors_are_json_500_without_a_trace(app, client, alice, monkeypatch):
    import app.api.items as items

    def explode(*args, **kwargs):
        raise RuntimeError("boom at /secret/path")

    monkeypatch.setattr(items, "visible_items", explode)
    response = client.get("/api/v1/items", headers=alice.headers)
    assert response.status_code == 500
    assert response.get_json() == {
        "error": "internal_server_error",
        "message": response.get_json()["message"],
    }
    assert "boom" not in response.get_data(as_text=True)
