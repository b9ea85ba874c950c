import sqlalchemy as sa
from alembic import command

from app import create_app
from config import MIGRATIONS_DIR
from safemigrate.state import script_directory
from tests.support.db_helpers import config_for, run_alembic


def test_healthz_answers_without_a_database(make_database, server_url):
    # A database name that does not exist: /healthz must not care.
    app = create_app(config_for(server_url.set(database="no_such_database")))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_at_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    head = script_directory(MIGRATIONS_DIR).get_current_head()
    assert response.get_json() == {"status": "ready", "revision": head, "head": head}


def test_readyz_unreachable_database(server_url):
    app = create_app(config_for(server_url.set(database="no_such_database")))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "reason": "database unreachable"}


def test_readyz_empty_database(empty_database_url):
    response = create_app(config_for(empty_database_url)).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "database has no migrations applied"


def test_readyz_behind_head(engine, app):
    run_alembic(engine, command.downgrade, "-1")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert "behind" in body["reason"]
    assert body["revision"] != body["head"]


def test_readyz_unknown_revision(engine, app):
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'feedfacecafe'"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert "does not know" in body["reason"]
    assert body["revision"] == "feedfacecafe"
