"""The review's corpus: hand-written revisions, each judged against PostgreSQL 18.

Cases are in corpus_dangerous.py and corpus_safe.py. A dangerous case names the rule that must
refuse it; a safe case (rule None) must pass with no
unacknowledged error. Each is planted alone on the project's head; `setup` revisions (planted
first, in order) give it the history it needs. `rewrites` records, where it matters, whether
PostgreSQL 18 rewrites the table (pg_class.relfilenode changes): test_corpus.py checks it on a real
database, so the judgement is PostgreSQL's, not ours.
"""

from __future__ import annotations

from dataclasses import dataclass

OUTSIDE = "with op.get_context().autocommit_block():\n"


def outside(*lines: str) -> str:
    """Statements run outside the revision's transaction (Alembic's autocommit_block)."""
    return OUTSIDE + "\n".join(f"    {line}" for line in lines)


def sql(*statements: str) -> str:
    return "\n".join(f"op.execute({s!r})" for s in statements)


@dataclass(frozen=True)
class Case:
    id: str
    rule: str | None  # the rule that must refuse it; None: a safe revision
    upgrade: str
    downgrade: str = "pass"
    message: str = "corpus case"
    preamble: str = ""
    setup: tuple[tuple[str, str], ...] = ()
    rewrites: str | None = None  # a table whose rewrite (or not) PostgreSQL decides
    rewritten: bool = False
    # Run on PostgreSQL too: "" must apply, a message is the error it must fail with (test_corpus.py).
    fails: str | None = None


TAGS = (
    'op.create_table("tags", sa.Column("id", sa.Integer(), nullable=False), sa.Column("name", sa.String(50)))',  # noqa: E501
    'op.drop_table("tags")',
)
PRICE = (
    'op.add_column("items", sa.Column("price", sa.Numeric(10, 2)))',
    'op.drop_column("items", "price")',
)
CHECK_DESCRIPTION_VALIDATED = (
    'op.execute("ALTER TABLE items ADD CONSTRAINT ck_items_description_nn CHECK (description IS NOT NULL) '
    'NOT VALID")\n' + outside('op.execute("ALTER TABLE items VALIDATE CONSTRAINT ck_items_description_nn")'),
    'op.execute("ALTER TABLE items DROP CONSTRAINT ck_items_description_nn")',
)
CHECK_DESCRIPTION_NOT_VALID = (
    'op.execute("ALTER TABLE items ADD CONSTRAINT ck_items_description_nn CHECK (description IS NOT NULL) '
    'NOT VALID")',
    'op.execute("ALTER TABLE items DROP CONSTRAINT ck_items_description_nn")',
)
FK_NOT_VALID = (
    'op.add_column("items", sa.Column("editor_id", sa.Integer()))\n'
    'op.execute("ALTER TABLE items ADD CONSTRAINT fk_items_editor_id_users FOREIGN KEY (editor_id) '
    'REFERENCES users (id) NOT VALID")',
    'op.drop_column("items", "editor_id")',
)
STATUS_ENUM = (
    "op.execute(\"CREATE TYPE item_status AS ENUM ('draft', 'published')\")",
    'op.execute("DROP TYPE item_status")',
)
STATUS_COLUMN = (
    STATUS_ENUM[0] + '\nop.execute("ALTER TABLE items ADD COLUMN status item_status")',
    'op.execute("ALTER TABLE items DROP COLUMN status")\n' + STATUS_ENUM[1],
)
ADD_ARCHIVED = "ALTER TYPE item_status ADD VALUE 'archived'"
ITEMS_PER_OWNER = (
    'op.execute("CREATE MATERIALIZED VIEW items_per_owner AS SELECT owner_id, count(*) AS n FROM items '
    'GROUP BY owner_id")',
    'op.execute("DROP MATERIALIZED VIEW items_per_owner")',
)
TITLE_LOWER_INDEX = (
    outside('op.execute("CREATE INDEX CONCURRENTLY ix_items_title_lower ON items (lower(title))")'),
    outside('op.execute("DROP INDEX CONCURRENTLY ix_items_title_lower")'),
)
CITEXT = ('op.execute("CREATE EXTENSION IF NOT EXISTS citext")', 'op.execute("DROP EXTENSION citext")')
ARCHIVE = 'op.execute("CREATE SCHEMA archive")\n'
DROP_ARCHIVE = 'op.execute("DROP SCHEMA archive CASCADE")'


def plant_case(directory, case: Case) -> str:
    """Plant `case` (after its setup revisions) on the head of the scripts in `directory`."""
    from tests.support.planting import HEAD, plant

    down = HEAD
    for number, (upgrade, downgrade) in enumerate(case.setup):
        down = plant(
            directory, f"setup{number}", upgrade, downgrade, down_revision=down, message=f"setup {number}"
        )
    return plant(
        directory,
        "corpuscase",
        case.upgrade,
        case.downgrade,
        down_revision=down,
        message=case.message,
        preamble=case.preamble,
    )
