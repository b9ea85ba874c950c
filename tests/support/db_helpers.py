"""Database helpers shared by the tests."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import URL

from config import MIGRATIONS_DIR, TestingConfig
from safemigrate.state import alembic_config


def run_alembic(engine: sa.Engine, fn, *args, **config) -> None:
    """Run an Alembic command (command.upgrade, ...) on a fresh connection.

    The connection is not in a transaction, so Alembic runs one per revision and the
    autocommit blocks of the zero-downtime helpers work, as in production.
    """
    with engine.connect() as connection:
        config.setdefault("directory", MIGRATIONS_DIR)
        fn(alembic_config(connection, **config), *args)


def config_for(url: URL, **extra) -> TestingConfig:
    environ = {"DATABASE_URL": url.render_as_string(hide_password=False), "SECRET_KEY": "test-secret"}
    return TestingConfig({**environ, **extra})
