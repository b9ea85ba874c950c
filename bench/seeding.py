"""The benchmark's database: where the server is, the seeded data, and a session that blocks `items`."""

from __future__ import annotations

import threading
import time

import psycopg2
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from config import MIGRATIONS_DIR, config_from_env, normalise_database_url
from safemigrate.state import alembic_config, run_scripts, script_directory


def server_url() -> sa.URL:
    """The configured server (DATABASE_URL), else the embedded development server, started if needed."""
    configured = config_from_env().SQLALCHEMY_DATABASE_URI
    if configured:
        return normalise_database_url(configured).set(database="postgres")
    from devdb.embedded import dev_server

    server = dev_server()
    server.start()
    return server.url("postgres")


def seed(url: sa.URL, items: int, users: int) -> None:
    """Migrate the (empty) database at `url` to head, then add users and items."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        run_scripts(
            alembic_config(connection, directory=MIGRATIONS_DIR),
            script_directory(MIGRATIONS_DIR),
            "upgrade",
            "head",
        )
    add_rows(engine, items, users)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


def add_rows(engine: sa.Engine, items: int, users: int) -> None:
    """`users` users (user1@bench.example, ... with ids from 1 in a new database) owning `items` items."""
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO users (email, password_hash, full_name) "
                "SELECT 'user' || n || '@bench.example', :hash, 'Bench ' || n "
                "FROM generate_series(1, :users) n"
            ),
            {"hash": generate_password_hash("bench password 1"), "users": users},
        )
        connection.execute(
            sa.text(
                "INSERT INTO items (title, description, owner_id, created_at, updated_at) "
                "SELECT 'item ' || n, CASE WHEN n % 10 = 0 THEN NULL ELSE 'description ' || n END, "
                "1 + n % :users, now() - n * interval '1 second', now() FROM generate_series(1, :items) n"
            ),
            {"users": users, "items": items},
        )


def item_ids(url: sa.URL, users: int) -> dict[int, list[int]]:
    """Up to 50 item ids per user, for the get and update requests."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT owner_id, (array_agg(id))[1:50] FROM items WHERE owner_id <= :n GROUP BY owner_id"
            ),
            {"n": users},
        ).all()
    engine.dispose()
    return {owner: ids for owner, ids in rows}


def hold_items_lock(url: sa.URL, seconds: float) -> threading.Thread:
    """An idle-in-transaction session that has read items: it holds ACCESS SHARE for `seconds`."""
    ready = threading.Event()

    def blocker():
        connection = psycopg2.connect(url.render_as_string(hide_password=False).replace("+psycopg2", ""))
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM items WHERE id = 1")
                ready.set()
                time.sleep(seconds)
            connection.rollback()
        finally:
            connection.close()

    thread = threading.Thread(target=blocker, daemon=True)
    thread.start()
    ready.wait(timeout=30)
    return thread
