"""A database failure on registration is logged without the statement's parameters."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from tests.api.conftest import register

PLANTED_FAILURE = """
CREATE FUNCTION refuse_users() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'planted failure'; END $$;
CREATE TRIGGER refuse_users BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse_users();
"""


def test_failed_insert_logs_no_email_password_or_hash(client, engine, caplog):
    with engine.begin() as connection:
        connection.execute(sa.text(PLANTED_FAILURE))
    email, password = "secret.person@example.com", "hunter2 password"
    with caplog.at_level(logging.DEBUG):
        response = register(client, email, password)
    assert response.status_code == 500
    log = caplog.text + "".join(str(record.exc_info) for record in caplog.records)
    assert "planted failure" in log  # the failure is logged...
    assert "INSERT INTO users" in log  # ...with its statement...
    for secret in (email, password, "scrypt:"):  # ...but none of its values
        assert secret not in log, secret
