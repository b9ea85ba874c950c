"""Plant extra revisions in a copy of the migration scripts, for tests that need a bad or slow one."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from config import MIGRATIONS_DIR
from safemigrate.state import script_directory

HEAD = script_directory(MIGRATIONS_DIR).get_current_head()


def copy_migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("__pycache__"))
    return directory


def plant(
    directory: Path,
    revision: str,
    upgrade: str,
    downgrade: str = "pass",
    down_revision: str | tuple[str, ...] | None = HEAD,
    message: str = "planted",
    preamble: str = "",
) -> str:
    body = f'''\
"""{message}

Revision ID: {revision}
"""

import sqlalchemy as sa
from alembic import op
{preamble}
revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade():
{textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")}


def downgrade():
{textwrap.indent(textwrap.dedent(downgrade).strip(), "    ")}
'''
    (directory / "versions" / f"29990101_0000_{revision}_planted.py").write_text(body)
    return revision
