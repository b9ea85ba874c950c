"""What the tests of the zero-downtime helpers (safemigrate/safe/) share: a runner, rows, catalogue looks."""

from __future__ import annotations

import sqlalchemy as sa

from tests.support.release_helpers import runner as release_runner

SAFE = "from safemigrate import safe\n"


def runner(directory, database_url):
    """`python run_migration.py --directory DIRECTORY`."""
    return release_runner("--directory", str(directory), database_url=database_url)


def seed_items(engine, count: int, *, duplicate_titles: bool = False) -> None:
    with engine.begin() as connection:
        owner = connection.execute(
            sa.text("INSERT INTO users (email, password_hash) VALUES ('o@example.com', 'x') RETURNING id")
        ).scalar_one()
        connection.execute(
            sa.text(
                "INSERT INTO items (title, owner_id) "
                "SELECT CASE WHEN :dup THEN 'same' ELSE 'item ' || n END, :owner "
                "FROM generate_series(1, :count) n"
            ),
            {"owner": owner, "count": count, "dup": duplicate_titles},
        )


def index_state(engine, name: str) -> bool | None:
    """True valid, False INVALID, None absent."""
    with engine.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :n"
            ),
            {"n": name},
        ).scalar()


def constraints_of(engine) -> dict[str, bool]:
    with engine.connect() as connection:
        return dict(
            connection.execute(
                sa.text("SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'items'::regclass")
            ).all()
        )
