"""A long synthetic migration history, for measuring how the tooling scales with the history.

`build_history(destination, count)` copies the project's migrations/ to `destination` and chains
`count` lint-clean revisions on top of its head: each even one creates a small table, each odd one
adds a nullable column to the table before it (catalogue-only). Every revision has a real
downgrade. Nothing here touches the project's own history.

    python -m bench.history /tmp/long-history 500
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from config import MIGRATIONS_DIR

# The text of a revision file the benchmarks write (two_way.py writes its release's revision with it).
REVISION_TEMPLATE = '''"""{message}"""

import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    {upgrade}


def downgrade():
    {downgrade}
'''


def _steps(number: int) -> tuple[str, str, str]:
    """(message, upgrade, downgrade) of synthetic revision `number`."""
    if number % 2 == 0:
        table = f"synthetic_{number:04d}"
        return (
            f"create {table}",
            f'op.create_table("{table}", sa.Column("id", sa.Integer(), primary_key=True), '
            f'sa.Column("name", sa.String(100), nullable=True))',
            f'op.drop_table("{table}")',
        )
    table = f"synthetic_{number - 1:04d}"
    return (
        f"add note to {table}",
        f'op.add_column("{table}", sa.Column("note", sa.Text(), nullable=True))',
        f'op.drop_column("{table}", "note")',
    )


def synthetic_revision_id(number: int) -> str:
    return f"syn{number:09d}"


def build_history(destination: Path, count: int, source: Path = MIGRATIONS_DIR) -> Path:
    """Copy `source` to `destination` and add `count` synthetic revisions on its head."""
    destination = Path(destination)
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__"))
    down = ScriptDirectory(str(destination)).get_current_head()
    versions = destination / "versions"
    for number in range(count):
        revision = synthetic_revision_id(number)
        message, upgrade, downgrade = _steps(number)
        body = REVISION_TEMPLATE.format(
            message=message, revision=revision, down=down, upgrade=upgrade, downgrade=downgrade
        )
        (versions / f"29991231_0000_{revision}_synthetic.py").write_text(body)
        down = revision
    return destination


if __name__ == "__main__":
    if len(sys.argv) != 3 or not sys.argv[2].isdigit():
        sys.exit("usage: python -m bench.history DESTINATION COUNT")
    print(build_history(Path(sys.argv[1]), int(sys.argv[2])))
