"""Revisions that break the previous release, and revisions that do not, for `flask db compat`.

The previous release is the project's models plus one more mapped class, `CompatThing`, whose table
a base revision creates: an enum, a NOT NULL column only the database fills, a naive timestamp, a
numeric, a short varchar, an unmapped legacy column. Each case is one revision on top of it.
`static` is what the review's static verdict says (safemigrate/review/compat.py): it is conservative,
so a few safe revisions are judged as breaking there and only the proof clears them.
"""

from __future__ import annotations

from dataclasses import dataclass

EXTRA_MODELS = '''

class CompatThing(Base):
    """The compatibility corpus's own table (tests/safemigrate/compat/corpus.py)."""

    __tablename__ = "cp_things"

    id: Mapped[int] = mapped_column(primary_key=True)
    mood: Mapped[str] = mapped_column(sa.Enum("calm", "busy", name="cp_mood"))
    rank: Mapped[int] = mapped_column(server_default=sa.text("0"))
    seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=False))
    price: Mapped[float] = mapped_column(sa.Numeric(10, 2))
    code: Mapped[str] = mapped_column(sa.String(40))
    qty: Mapped[int] = mapped_column(sa.Integer)
    note: Mapped[str | None] = mapped_column(sa.Text)


class CompatPair(Base):
    """A table keyed by two columns the code sets itself."""

    __tablename__ = "cp_pairs"

    left_id: Mapped[int] = mapped_column(primary_key=True)
    right_id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(20))
'''

BASE_REVISION = "cpbase000001"
BASE_UPGRADE = """
op.execute("CREATE TYPE cp_mood AS ENUM ('calm', 'busy')")
op.execute(
    "CREATE TABLE cp_things (id serial PRIMARY KEY, mood cp_mood NOT NULL, rank integer NOT NULL DEFAULT 0, "
    "seen_at timestamp NOT NULL, price numeric(10, 2) NOT NULL, code varchar(40) NOT NULL, "
    "qty integer NOT NULL, note text, legacy text)"
)
op.execute("CREATE TABLE cp_pairs (left_id integer, right_id integer, label varchar(20) NOT NULL, PRIMARY KEY (left_id, right_id))")
"""


@dataclass(frozen=True)
class Case:
    name: str
    upgrade: str  # the body of upgrade(), with op and sa
    breaks: bool  # does it break the previous release (what the proof must find)
    static: bool | None = None  # the static verdict's "keeps" when it differs from `not breaks`

    @property
    def static_keeps(self) -> bool | None:
        return (not self.breaks) if self.static is None else self.static


def sql(*statements: str) -> str:
    return "\n".join(f"op.execute({s!r})" for s in statements)


BREAKING = [
    Case("drop-column", 'op.drop_column("items", "description")', True),
    Case("drop-column-of-extra", 'op.drop_column("cp_things", "note")', True),
    Case("drop-table", 'op.drop_table("cp_things")', True),
    Case("rename-column", 'op.alter_column("items", "title", new_column_name="headline")', True),
    Case("rename-table", 'op.rename_table("cp_things", "cp_stuff")', True),
    Case(
        "required-column", 'op.add_column("items", sa.Column("cp_rank", sa.Integer(), nullable=False))', True
    ),
    Case(
        "required-column-of-extra",
        'op.add_column("cp_things", sa.Column("cp_owner", sa.Text(), nullable=False))',
        True,
    ),
    Case("set-not-null", 'op.alter_column("items", "description", nullable=False)', True),
    Case("set-not-null-of-extra", 'op.alter_column("cp_things", "note", nullable=False)', True),
    Case("enum-value-read-back", sql("ALTER TYPE cp_mood ADD VALUE 'angry'"), True),
    Case("narrowed-varchar", 'op.alter_column("items", "title", type_=sa.String(100))', True),
    Case("narrowed-varchar-of-extra", 'op.alter_column("cp_things", "code", type_=sa.String(10))', True),
    Case(
        "dropped-default-old-inserts-rely-on",
        'op.alter_column("cp_things", "rank", server_default=None)',
        True,
    ),
    Case(
        "naive-to-aware-timestamp",
        'op.alter_column("cp_things", "seen_at", type_=sa.DateTime(timezone=True))',
        True,
    ),
    Case("numeric-scale-dropped", 'op.alter_column("cp_things", "price", type_=sa.Numeric(10, 0))', True),
    Case("integer-to-text", sql("ALTER TABLE cp_things ALTER COLUMN qty TYPE text USING qty::text"), True),
    Case(
        "check-old-writes-violate",
        sql("ALTER TABLE items ADD CONSTRAINT ck_items_cp_short CHECK (length(title) < 50)"),
        True,
        static=True,  # a CHECK on existing rows: the proof sees what old code writes, the SQL does not
    ),
    Case(
        "required-column-on-a-composite-key-table",
        'op.add_column("cp_pairs", sa.Column("cp_weight", sa.Integer(), nullable=False))',
        True,
    ),
    Case("serial-default-dropped", sql("ALTER TABLE items ALTER COLUMN id DROP DEFAULT"), True),
    Case(
        "enum-value-removed",
        sql(
            "ALTER TYPE cp_mood RENAME TO cp_mood_old",
            "CREATE TYPE cp_mood AS ENUM ('calm')",
            "DELETE FROM cp_things WHERE mood = 'busy'",
            "ALTER TABLE cp_things ALTER COLUMN mood TYPE cp_mood USING mood::text::cp_mood",
            "DROP TYPE cp_mood_old",
        ),
        True,
    ),
    Case("enum-value-renamed", sql("ALTER TYPE cp_mood RENAME VALUE 'calm' TO 'relaxed'"), True),
    Case(
        "trigger-rejecting-old-inserts",
        sql(
            "ALTER TABLE cp_things ADD COLUMN cp_tag text",
            "CREATE FUNCTION cp_require_tag() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF NEW.cp_tag IS NULL THEN RAISE EXCEPTION 'cp_tag is required'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER cp_require_tag BEFORE INSERT ON cp_things FOR EACH ROW EXECUTE FUNCTION cp_require_tag()",
        ),
        True,
        static=True,
    ),
    Case(
        "identity-always-on-a-written-column",
        sql("ALTER TABLE cp_things ALTER COLUMN qty ADD GENERATED ALWAYS AS IDENTITY"),
        True,
    ),
]

SAFE = [
    Case(
        "add-nullable-column", 'op.add_column("items", sa.Column("cp_note", sa.Text(), nullable=True))', False
    ),
    Case(
        "add-column-with-constant-default",
        'op.add_column("items", sa.Column("cp_flag", sa.Boolean(), nullable=False, server_default=sa.false()))',
        False,
    ),
    Case(
        "add-column-defaulting-to-now",
        'op.add_column("cp_things", sa.Column("cp_at", sa.DateTime(timezone=True), nullable=False, '
        "server_default=sa.func.now()))",
        False,
    ),
    Case(
        "create-table",
        'op.create_table("cp_new", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("name", sa.Text()))',
        False,
    ),
    Case("create-index", 'op.create_index("ix_items_cp_title", "items", ["title"])', False),
    Case("drop-index", 'op.drop_index("ix_items_owner_id_created_at", table_name="items")', False),
    Case("widened-varchar", 'op.alter_column("items", "title", type_=sa.String(500))', False),
    Case("varchar-to-text", 'op.alter_column("items", "title", type_=sa.Text())', False),
    Case(
        "integer-to-bigint", 'op.alter_column("cp_things", "qty", type_=sa.BigInteger())', False, static=None
    ),
    Case(
        "check-old-writes-satisfy",
        sql("ALTER TABLE items ADD CONSTRAINT ck_items_cp_len CHECK (length(title) <= 255) NOT VALID"),
        False,
    ),
    Case(
        "foreign-key-not-valid-on-a-new-column",
        sql(
            "ALTER TABLE cp_things ADD COLUMN cp_item_id integer",
            "ALTER TABLE cp_things ADD CONSTRAINT fk_cp_item FOREIGN KEY (cp_item_id) REFERENCES items (id) NOT VALID",
        ),
        False,
    ),
    Case(
        "new-enum-and-table",
        sql(
            "CREATE TYPE cp_colour AS ENUM ('red', 'blue')",
            "CREATE TABLE cp_paint (id serial PRIMARY KEY, colour cp_colour NOT NULL)",
        ),
        False,
    ),
    Case(
        "value-added-to-an-enum-old-code-does-not-map",
        sql(
            "CREATE TYPE cp_size AS ENUM ('s', 'm')",
            "CREATE TABLE cp_shirts (id serial PRIMARY KEY, size cp_size NOT NULL)",
            "ALTER TYPE cp_size ADD VALUE 'l'",
        ),
        False,
    ),
    Case("set-default", 'op.alter_column("items", "description", server_default="none")', False),
    Case(
        "dropped-default-old-code-sets-itself",
        'op.alter_column("users", "is_active", server_default=None)',
        False,
        static=False,  # the proof sees the old model set it; the SQL does not
    ),
    Case("drop-not-null", 'op.alter_column("items", "title", nullable=True)', False),
    Case("table-comment", sql("COMMENT ON TABLE items IS 'the items'"), False),
    Case("create-view", sql("CREATE VIEW cp_titles AS SELECT id, title FROM items"), False),
    Case(
        "create-function",
        sql("CREATE FUNCTION cp_double(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2'"),
        False,
    ),
    Case(
        "harmless-trigger",
        sql(
            "CREATE FUNCTION cp_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            "CREATE TRIGGER cp_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION cp_touch()",
        ),
        False,
    ),
    Case(
        "rename-index",
        sql("ALTER INDEX ix_items_owner_id_created_at RENAME TO ix_items_cp_owner_created"),
        False,
    ),
    Case("data-backfill", sql("UPDATE items SET description = 'x' WHERE description IS NULL"), False),
    Case(
        "citext-column",
        sql("CREATE EXTENSION IF NOT EXISTS citext", "ALTER TABLE cp_things ADD COLUMN cp_email citext"),
        False,
    ),
    Case(
        "unique-index-on-distinct-values",
        'op.create_index("uq_cp_code", "cp_things", ["code"], unique=True)',
        False,
    ),
    Case("widened-numeric", 'op.alter_column("cp_things", "price", type_=sa.Numeric(12, 2))', False),
    Case(
        "column-with-server-default-on-extra",
        'op.add_column("cp_things", sa.Column("cp_level", sa.Integer(), nullable=False, server_default="1"))',
        False,
    ),
    Case(
        "drop-a-column-old-code-does-not-map",
        'op.drop_column("cp_things", "legacy")',
        False,
        static=False,  # the SQL alone cannot tell which columns the old code maps
    ),
    Case(
        "rename-constraint",
        sql("ALTER TABLE items RENAME CONSTRAINT fk_items_owner_id_users TO fk_items_cp_owner"),
        False,
    ),
    Case(
        "validate-a-check-old-writes-satisfy",
        sql(
            "ALTER TABLE cp_things ADD CONSTRAINT ck_cp_qty CHECK (qty >= 0) NOT VALID",
            "ALTER TABLE cp_things VALIDATE CONSTRAINT ck_cp_qty",
        ),
        False,
    ),
    Case("table-without-a-key", sql("CREATE TABLE cp_log (msg text)"), False),
    Case("column-statistics", sql("ALTER TABLE items ALTER COLUMN description SET STATISTICS 200"), False),
    Case(
        "partial-index",
        sql("CREATE INDEX ix_items_cp_open ON items (created_at) WHERE description IS NULL"),
        False,
    ),
]
