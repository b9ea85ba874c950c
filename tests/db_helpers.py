"""Database helpers shared by the tests."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import URL

from app.schema.state import alembic_config
from config import TestingConfig


def run_alembic(engine: sa.Engine, fn, *args, **config) -> None:
    """Run an Alembic command (command.upgrade, ...) on a fresh connection.

    The connection is not in a transaction, so Alembic runs one per revision and the
    autocommit blocks of the zero-downtime helpers work, as in production.
    """
    with engine.connect() as connection:
        fn(alembic_config(connection, **config), *args)


def config_for(url: URL, **extra) -> TestingConfig:
    environ = {"DATABASE_URL": url.render_as_string(hide_password=False), "SECRET_KEY": "test-secret"}
    return TestingConfig({**environ, **extra})
