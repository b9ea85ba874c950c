"""The realistic change set the load benchmark migrates, as revisions planted on top of the project's
head in a copy of migrations/ (so the benchmark never touches the real history).

Every step keeps the running (old) code working: new columns are nullable or have a default.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from alembic.script import ScriptDirectory

REVISIONS = [
    (
        "bench0001",
        "add zz_priority to items",
        'op.add_column("items", sa.Column("zz_priority", sa.Integer()))',
        'op.drop_column("items", "zz_priority")',
    ),
    (
        "bench0002",
        "index items by title concurrently",
        'safe.create_index_concurrently("ix_items_title", "items", ["title"])',
        'safe.drop_index_concurrently("ix_items_title", "items")',
    ),
    (
        "bench0003",
        "add rank to items, not null",
        'safe.add_not_null_column("items", sa.Column("rank", sa.Integer(), server_default="0"), '
        'backfill="0")',
        'op.drop_column("items", "rank")',
    ),
    (
        "bench0004",
        "backfill zz_priority",
        'safe.backfill_in_batches("items", "zz_priority = id % 10", "zz_priority IS NULL", batch_size=5000)',
        "# lint-ack: empty-downgrade: a data backfill; the column's drop undoes it\npass",
    ),
]


# The backfill comparison: the same rows, in batches (the helper) or in one UPDATE (one transaction
# holding every row lock until it commits). Each pair starts with the nullable column to fill.
BATCHED_BACKFILL = [REVISIONS[0], REVISIONS[3]]
SINGLE_UPDATE_BACKFILL = [
    REVISIONS[0],
    (
        "bench0005",
        "backfill zz_priority in one UPDATE",
        'op.execute("UPDATE items SET zz_priority = id % 10 WHERE zz_priority IS NULL")',
        "# lint-ack: empty-downgrade: a data backfill; the column's drop undoes it\npass",
    ),
]


def plant_change_set(source: Path, destination: Path, revisions=REVISIONS) -> Path:
    """Copy the migration scripts from `source` and add `revisions` (the change set) on their head."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__"))
    down = ScriptDirectory(str(destination)).get_current_head()
    for revision, message, upgrade, downgrade in revisions:
        body = f'''"""{message}"""

import sqlalchemy as sa
from alembic import op

from safemigrate import safe

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{textwrap.indent(upgrade, "    ")}


def downgrade():
{textwrap.indent(downgrade, "    ")}
'''
        (destination / "versions" / f"29990101_0000_{revision}_bench.py").write_text(body)
        down = revision
    return destination
