"""The seed guide's commands, typed as it types them: plain `alembic -c migrations/alembic.ini ...` runs
the project's env.py (its app, DATABASE_URL, the safe forms, the review hook and the ledger)."""

from __future__ import annotations

import sqlalchemy as sa

from safemigrate.ledger.recorder import latest
from tests.support.cli_helpers import BIN, run
from tests.support.planting import HEAD
from tests.support.project_copy import copy_project

INI = ("-c", "migrations/alembic.ini")


def alembic(*args, **kwargs):
    return run([str(BIN / "alembic"), *INI, *args], **kwargs)


def test_upgrade_current_and_history_on_the_database_url(empty_database_url):
    upgrade = alembic("upgrade", "head", database_url=empty_database_url)
    assert upgrade.returncode == 0, upgrade.stderr
    current = alembic("current", database_url=empty_database_url)
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip() == f"{HEAD} (head)"
    history = alembic("history", "--verbose", database_url=empty_database_url)
    assert history.returncode == 0, history.stderr
    assert f"Rev: {HEAD} (head)" in history.stdout
    engine = sa.create_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            assert HEAD in latest(connection)  # the ledger recorded what plain alembic applied
    finally:
        engine.dispose()


def test_an_unreachable_database_is_one_line_without_the_password():
    result = alembic("current", database_url="postgresql://app:hunter2@127.0.0.1:9/app")
    assert result.returncode == 255, result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr, result.stderr
    # Alembic's own way with a failed command: `FAILED: ...` on stdout (its logger repeats it on stderr).
    [line] = result.stdout.splitlines()
    assert line.startswith("FAILED: cannot connect to postgresql+psycopg2://app:***@127.0.0.1:9/app: "), line


def test_revision_autogenerate_writes_the_safe_form_and_reviews_it(tmp_path, database_url):
    project = copy_project(tmp_path / "project")
    models = project / "app" / "models.py"
    anchor = "    owner_id: Mapped[int] = mapped_column("
    field = "    zz_plain_flag: Mapped[int | None] = mapped_column(sa.Integer)\n"
    models.write_text(models.read_text().replace(anchor, field + anchor, 1))
    before = set((project / "migrations" / "versions").glob("*.py"))

    result = alembic("revision", "--autogenerate", "-m", "add flag", database_url=database_url, cwd=project)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    [written] = set((project / "migrations" / "versions").glob("*.py")) - before
    assert (
        "op.add_column('items', sa.Column('zz_plain_flag', sa.Integer(), nullable=True), if_not_exists=True)"
        in written.read_text()
    )
    assert "Running post write hook 'migration_lint'" in output
