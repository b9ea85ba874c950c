"""`flask users create-superuser` and `flask users deactivate`, on a real database."""

from __future__ import annotations

import sqlalchemy as sa

from tests.api.conftest import PASSWORD, login, register
from tests.support.cli_helpers import assert_clean_failure, flask

STRONG = "root pass phrase 9"


def user_row(engine, email: str):
    with engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT is_superuser, is_active, token_version FROM users WHERE email = :e"), {"e": email}
        ).one_or_none()


def users(engine) -> list[tuple]:
    """Every user row as stored: what a refused command must leave as it was."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text("SELECT * FROM users ORDER BY id"))]


def test_interactive_prompt_asks_twice_and_creates_a_superuser(app, engine, client):
    result = app.test_cli_runner().invoke(
        args=["users", "create-superuser", "--email", "Root@Example.com"], input=f"{STRONG}\n{STRONG}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert STRONG not in result.output
    assert tuple(user_row(engine, "root@example.com")) == (True, True, 0)
    token = login(client, "root@example.com", STRONG).get_json()["access_token"]
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["is_superuser"] is True


def test_mismatched_confirmation_asks_again(app, engine):
    result = app.test_cli_runner().invoke(
        args=["users", "create-superuser", "--email", "root@example.com"],
        input=f"{STRONG}\nsomething else 1\n{STRONG}\n{STRONG}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert tuple(user_row(engine, "root@example.com")) == (True, True, 0)


def test_non_interactive_from_the_environment(database_url, engine):
    result = flask(
        "users",
        "create-superuser",
        database_url=database_url,
        SUPERUSER_EMAIL="ops@example.com",
        SUPERUSER_PASSWORD=STRONG,
    )
    assert result.returncode == 0, result.stderr
    assert STRONG not in result.stdout + result.stderr
    assert tuple(user_row(engine, "ops@example.com")) == (True, True, 0)


def test_weak_password_is_refused_with_one_line(database_url, engine):
    result = flask(
        "users",
        "create-superuser",
        "--email",
        "ops@example.com",
        database_url=database_url,
        SUPERUSER_PASSWORD="password",
    )
    assert_clean_failure(
        result,
        line="Error: password: password is too weak: mix letters with digits or symbols",
        code=1,
        secret="password\n",
    )
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert user_row(engine, "ops@example.com") is None


def test_bad_email_is_refused(database_url, engine):
    before = users(engine)
    result = flask(
        "users",
        "create-superuser",
        "--email",
        "not-an-email",
        database_url=database_url,
        SUPERUSER_PASSWORD=STRONG,
    )
    assert_clean_failure(result, line="Error: email: not a valid email address", code=1)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert users(engine) == before


def test_duplicate_is_refused_with_one_line(database_url, engine):
    env = {"SUPERUSER_EMAIL": "ops@example.com", "SUPERUSER_PASSWORD": STRONG}
    assert flask("users", "create-superuser", database_url=database_url, **env).returncode == 0
    before = users(engine)
    again = flask(
        "users",
        "create-superuser",
        database_url=database_url,
        **{**env, "SUPERUSER_EMAIL": "OPS@example.com"},
    )
    assert_clean_failure(again, line="Error: a user with this email already exists", code=1, secret=STRONG)
    assert len(again.stderr.strip().splitlines()) == 1, again.stderr
    assert users(engine) == before


def test_deactivate_revokes_tokens_and_blocks_login(database_url, engine, client):
    assert register(client, "alice@example.com").status_code == 201
    headers = {"Authorization": f"Bearer {login(client, 'alice@example.com').get_json()['access_token']}"}
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    result = flask("users", "deactivate", "--email", "ALICE@example.com", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert tuple(user_row(engine, "alice@example.com")) == (False, False, 1)
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    assert login(client, "alice@example.com", PASSWORD).status_code == 401


def test_deactivate_unknown_email(database_url, engine, client):
    assert register(client, "alice@example.com").status_code == 201
    before = users(engine)
    result = flask("users", "deactivate", "--email", "ghost@example.com", database_url=database_url)
    assert_clean_failure(result, line="Error: no user with this email", code=1)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert users(engine) == before
