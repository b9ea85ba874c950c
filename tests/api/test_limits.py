"""Throttling (Flask-Limiter) with small limits set on the app under test: every throttle counted per
process (memory://) and in a real Redis (the worker's redis-server), and what a store that goes away or a
URI that cannot work does."""

from __future__ import annotations

import logging

import pytest

from app import create_app
from app.api.limits import LIMITER_LOGGER, limiter
from app.extensions import db as flask_db
from config import ConfigError, ProductionConfig
from tests.api.conftest import PASSWORD, login, register
from tests.support.db_helpers import config_for
from tests.support.redis_server import RedisServer, closed_port


@pytest.fixture(params=["memory", "redis"])
def app(request, database_url):
    """Overrides tests/conftest.py's: the same app, its counters per process or in Redis."""
    environ = {}
    if request.param == "redis":
        environ["RATELIMIT_STORAGE_URI"] = request.getfixturevalue("redis_server").uri()
    app = create_app(config_for(database_url, **environ))
    yield app
    with app.app_context():
        flask_db.engine.dispose()


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


def test_login_is_throttled_per_ip(client, small_limits, request):
    for n in range(4):
        assert login(client, f"nobody{n}@example.com").status_code == 401
    if "redis" in request.node.callspec.id:
        # counted in Redis, not in this process: per IP (every attempt) and per account (failures)
        keys = request.getfixturevalue("redis_server").keys()
        assert sum("127.0.0.1" in key for key in keys) == 1, keys
        assert sum("account:" in key for key in keys) == 4, keys
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


LIMITER_FALLBACK_LINE = "Rate limit storage unreachable - falling back to in-memory storage"


@pytest.fixture
def own_redis(redis_binary):
    """A Redis of the test's own, to stop mid-test."""
    server = RedisServer(redis_binary).start()
    yield server
    server.remove()
    # The limiter is module-level and remembers a dead store across the apps a test process builds.
    limiter._storage_dead = False


def test_a_store_that_goes_away_fails_open_to_per_process_counting(database_url, own_redis, caplog):
    app = create_app(config_for(database_url, RATELIMIT_STORAGE_URI=own_redis.uri()))
    app.config.update(LOGIN_LIMIT_PER_IP="3 per minute")
    client = app.test_client()
    assert login(client, "first@example.com").status_code == 401
    assert own_redis.keys(), "counted in Redis while it answered"

    own_redis.stop()
    with caplog.at_level(logging.WARNING, logger=LIMITER_LOGGER):
        statuses = [login(client, f"later{n}@example.com").status_code for n in range(4)]
    # never a 500: the same limit, counted afresh in this process
    assert statuses == [401, 401, 401, 429]
    records = [record for record in caplog.records if record.name == LIMITER_LOGGER]
    assert [(r.levelname, r.getMessage()) for r in records] == [("WARNING", LIMITER_FALLBACK_LINE)]
    assert all(record.exc_info is None for record in caplog.records), caplog.text
    with app.app_context():
        flask_db.engine.dispose()


def test_a_limiter_error_is_logged_in_one_line(app, caplog):
    # Flask-Limiter logs a store error it swallows (RATELIMIT_SWALLOW_ERRORS) with logger.exception.
    with caplog.at_level(logging.WARNING, logger=LIMITER_LOGGER):
        try:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.\nsecond line")
        except ConnectionError:
            logging.getLogger(LIMITER_LOGGER).exception("Failed to deduct rate limit. Swallowing error")
    (record,) = [record for record in caplog.records if record.name == LIMITER_LOGGER]
    assert record.exc_info is None
    assert record.getMessage() == (
        "Failed to deduct rate limit. Swallowing error: "
        "Error 111 connecting to 127.0.0.1:6379. Connection refused."
    )


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (
            "redis//:hunter2@cache:6379",
            "RATELIMIT_STORAGE_URI=redis//:***@cache:6379 cannot be used: "
            "unknown scheme: use memory://, redis://, rediss:// or memcached://",
        ),
        (
            "redis://:hunter2@cache:sixty/0",
            "RATELIMIT_STORAGE_URI=redis://:***@cache:sixty/0 cannot be used: "
            "Port could not be cast to integer value as 'sixty'",
        ),
        (
            "memcached://cache:11211",
            "RATELIMIT_STORAGE_URI=memcached://cache:11211 cannot be used: "
            "its driver is not installed (pin it in requirements.txt)",
        ),
    ],
)
def test_a_storage_uri_that_cannot_work_is_one_line_without_the_password(database_url, uri, message):
    with pytest.raises(ConfigError) as excinfo:
        production_app(database_url, RATELIMIT_STORAGE_URI=uri)
    assert str(excinfo.value) == message  # wsgi.py prints it as one line and exits 1


def test_an_unreachable_store_is_one_line_with_exit_code_3(database_url):
    from app.api.limits import require_reachable_storage

    uri = f"redis://:hunter2@127.0.0.1:{closed_port()}/0"
    app = production_app(database_url, RATELIMIT_STORAGE_URI=uri)  # the app itself never connects
    with pytest.raises(ConfigError) as excinfo:
        require_reachable_storage(app)
    masked = uri.replace("hunter2", "***")
    port = uri.rsplit(":", 1)[1].split("/")[0]
    assert str(excinfo.value) == (
        f"RATELIMIT_STORAGE_URI={masked} does not answer: "
        f"Error 111 connecting to 127.0.0.1:{port}. Connection refused."
    )
    assert excinfo.value.exit_code == 3


def test_a_store_that_answers_lets_the_server_start(database_url, redis_server):
    from app.api.limits import require_reachable_storage

    require_reachable_storage(production_app(database_url, RATELIMIT_STORAGE_URI=redis_server.uri()))
