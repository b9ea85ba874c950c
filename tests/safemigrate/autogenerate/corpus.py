"""Everyday model edits, each a patch of app/models.py, for the autogenerate corpus."""

from __future__ import annotations

from dataclasses import dataclass, field

ITEM_TITLE = "title: Mapped[str] = mapped_column(sa.String(255))"
ITEM_ARGS = '__table_args__ = (sa.Index("ix_items_owner_id_created_at", "owner_id", "created_at"),)'
ITEM_LAST = '    owner: Mapped[User] = relationship(back_populates="items")\n'
IMPORTS = "import sqlalchemy as sa\n"

ENUM = (
    IMPORTS,
    "import enum\n\nimport sqlalchemy as sa\n\n\nclass Status(enum.Enum):\n"
    "    draft = 'draft'\n    published = 'published'\n",
)
ENUM_COLUMN = (
    ITEM_LAST,
    ITEM_LAST + '    status: Mapped[Status | None] = mapped_column(sa.Enum(Status, name="item_status"))\n',
)
TAGS = (
    "class Item(Base):",
    "class Tag(Base):\n"
    '    __tablename__ = "tags"\n'
    "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    "    name: Mapped[str] = mapped_column(sa.String(50), unique=True)\n"
    '    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"), index=True)\n'
    "\n\nclass Item(Base):",
)

TAGS_WITH_ENUM = (
    "class Item(Base):",
    "class Tag(Base):\n"
    '    __tablename__ = "tags"\n'
    "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    '    status: Mapped[Status | None] = mapped_column(sa.Enum(Status, name="item_status"))\n'
    "\n\nclass Item(Base):",
)
TAGS_WITH_OWN_ENUM = (
    "class Item(Base):",
    "class Tag(Base):\n"
    '    __tablename__ = "tags"\n'
    "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    "    status: Mapped[Status] = mapped_column(\n"
    '        sa.Enum(Status, name="tag_status"), server_default="draft", index=True\n'
    "    )\n"
    '    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tags.id"))\n'
    "\n\nclass Item(Base):",
)
DESCRIPTION = "description: Mapped[str | None] = mapped_column(sa.Text)"
FULL_NAME = "full_name: Mapped[str | None] = mapped_column(sa.String(255))"
OWNER = 'owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)'
UNIQUE_TITLE = (ITEM_TITLE, "title: Mapped[str] = mapped_column(sa.String(255), unique=True)")
TITLE_CHECK = (
    ITEM_ARGS,
    ITEM_ARGS[:-2] + ', sa.CheckConstraint("length(title) > 0", name="title_not_empty"))',
)


def item_index(index: str) -> tuple[str, str]:
    """A patch adding `index` (Python source) to Item's __table_args__."""
    return (ITEM_ARGS, ITEM_ARGS[:-2] + f", {index})")


def item_column(line: str) -> tuple[str, str]:
    """A patch adding a column (one line of Python source, without indentation) to Item."""
    return (ITEM_LAST, ITEM_LAST + f"    {line}\n")


@dataclass(frozen=True)
class Edit:
    id: str
    patches: tuple[tuple[str, str], ...]
    # Edits applied (generated and upgraded) first, e.g. the enum column before a value is added.
    setup: tuple[tuple[tuple[str, str], ...], ...] = ()
    # Answers to the generator's questions (config.attributes["autogenerate_answers"]).
    backfill: dict[str, str] = field(default_factory=dict)
    renames: dict[str, str] = field(default_factory=dict)
    # Dangerous: the review must refuse it with this rule, and its advice must mention `advice`.
    refused_by: str | None = None
    advice: str = ""
    # Renamed columns, old -> new, for the "values kept" comparison.
    moved: dict[str, str] = field(default_factory=dict)
    # SQL run on the rows before the revision is generated (e.g. NULLs in a column made NOT NULL).
    rows: str = ""
    # Columns whose NULLs the revision fills, and the value they get, for the "values kept" comparison.
    filled: dict[str, object] = field(default_factory=dict)
    # The edit really in the catalogue after the upgrade: (query, its one value), each.
    proof: tuple[tuple[str, object], ...] = ()

    @property
    def dangerous(self) -> bool:
        return self.refused_by is not None


SAFE_EDITS = [
    Edit("add_index", ((ITEM_TITLE, "title: Mapped[str] = mapped_column(sa.String(255), index=True)"),)),
    Edit("drop_index", ((ITEM_ARGS, "__table_args__ = ()"),)),
    Edit("unique_column", ((ITEM_TITLE, "title: Mapped[str] = mapped_column(sa.String(255), unique=True)"),)),
    Edit(
        "foreign_key",
        (
            (
                ITEM_LAST,
                ITEM_LAST
                + '    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))\n',
            ),
        ),
    ),
    Edit(
        "not_null_existing_column",
        (
            (
                "description: Mapped[str | None] = mapped_column(sa.Text)",
                "description: Mapped[str] = mapped_column(sa.Text)",
            ),
        ),
    ),
    Edit(
        "new_not_null_column_with_backfill",
        ((ITEM_LAST, ITEM_LAST + "    zz_priority: Mapped[int] = mapped_column(sa.Integer)\n"),),
        backfill={"items.zz_priority": "0"},
    ),
    Edit(
        "nullable_column",
        ((ITEM_LAST, ITEM_LAST + "    notes: Mapped[str | None] = mapped_column(sa.Text)\n"),),
    ),
    Edit(
        "column_with_constant_default",
        (
            (
                ITEM_LAST,
                ITEM_LAST + '    score: Mapped[int] = mapped_column(sa.Integer, server_default="0")\n',
            ),
        ),
    ),
    Edit(
        "varchar_widening",
        (
            (
                "full_name: Mapped[str | None] = mapped_column(sa.String(255))",
                "full_name: Mapped[str | None] = mapped_column(sa.String(512))",
            ),
        ),
    ),
    Edit(
        "check_constraint",
        ((ITEM_ARGS, ITEM_ARGS[:-2] + ', sa.CheckConstraint("length(title) > 0", name="title_not_empty"))'),),
    ),
    Edit("new_enum_column", (ENUM, ENUM_COLUMN)),
    Edit(
        "enum_value_added",
        (
            ENUM,
            ENUM_COLUMN,
            ("    published = 'published'\n", "    published = 'published'\n    archived = 'archived'\n"),
        ),
        setup=((ENUM, ENUM_COLUMN),),
    ),
    Edit("new_table_with_fk_index_unique", (TAGS,)),
    # A table's enum type: created once before it, never again by the table; dropped with its last user.
    Edit(
        "new_table_reusing_an_existing_enum",
        (ENUM, ENUM_COLUMN, TAGS_WITH_ENUM),
        setup=((ENUM, ENUM_COLUMN),),
    ),
    Edit("new_table_with_its_own_enum_default_index_and_self_fk", (ENUM, TAGS_WITH_OWN_ENUM)),
    Edit(
        "second_column_of_an_existing_enum",
        (
            ENUM,
            ENUM_COLUMN,
            item_column(
                'old_status: Mapped[Status | None] = mapped_column(sa.Enum(Status, name="item_status"))'
            ),
        ),
        setup=((ENUM, ENUM_COLUMN),),
    ),
    # A committing helper in the same revision: every plain step is written to run twice (IF [NOT] EXISTS).
    Edit(
        "new_table_and_an_index_on_an_existing_one",
        (TAGS, (ITEM_TITLE, "title: Mapped[str] = mapped_column(sa.String(255), index=True)")),
    ),
    Edit(
        "indexed_enum_column",
        (
            ENUM,
            (
                ENUM_COLUMN[0],
                ENUM_COLUMN[1].replace('name="item_status")', 'name="item_status"), index=True'),
            ),
        ),
    ),
    Edit(
        "new_table_with_its_own_enum_and_an_index_on_an_existing_one",
        (
            ENUM,
            TAGS_WITH_OWN_ENUM,
            (ITEM_TITLE, "title: Mapped[str] = mapped_column(sa.String(255), index=True)"),
        ),
    ),
    Edit(
        "two_new_tables_of_one_new_enum",
        (
            ENUM,
            TAGS_WITH_OWN_ENUM,
            (
                "class Item(Base):",
                "class Badge(Base):\n"
                '    __tablename__ = "badges"\n'
                "    id: Mapped[int] = mapped_column(primary_key=True)\n"
                '    status: Mapped[Status | None] = mapped_column(sa.Enum(Status, name="tag_status"))\n'
                "\n\nclass Item(Base):",
            ),
        ),
    ),
    Edit(
        "function_index",
        (item_index('sa.Index("ix_items_title_fn", sa.func.lower(sa.literal_column("title")))'),),
    ),
    Edit("drop_not_null", ((ITEM_TITLE, "title: Mapped[str | None] = mapped_column(sa.String(255))"),)),
    Edit("composite_index", (item_index('sa.Index("ix_items_title_owner", "title", "owner_id")'),)),
    Edit(
        "expression_unique_index",
        (item_index('sa.Index("ix_items_title_lower", sa.text("lower(title)"), unique=True)'),),
    ),
    Edit(
        "partial_index",
        (
            item_index(
                'sa.Index("ix_items_described", "id", postgresql_where=sa.text("description IS NOT NULL"))'
            ),
        ),
    ),
    Edit(
        "gin_index_on_new_jsonb_column",
        (
            item_column("attributes: Mapped[dict | None] = mapped_column(sa.dialects.postgresql.JSONB)"),
            item_index('sa.Index("ix_items_attributes", "attributes", postgresql_using="gin")'),
        ),
    ),
    Edit("composite_unique", (item_index('sa.UniqueConstraint("owner_id", "title", name="owner_title")'),)),
    Edit("server_default_added", ((DESCRIPTION, DESCRIPTION[:-1] + ', server_default="")'),)),
    Edit(
        "server_default_dropped",
        (
            (
                'token_version: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))',
                "token_version: Mapped[int] = mapped_column(default=0)",
            ),
        ),
    ),
    Edit("varchar_to_text", ((FULL_NAME, "full_name: Mapped[str | None] = mapped_column(sa.Text)"),)),
    Edit(
        "column_with_now_default",
        (
            item_column(
                "seen_at: Mapped[datetime] = "
                "mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())"
            ),
        ),
    ),
    Edit(
        "array_column", (item_column("labels: Mapped[list[str] | None] = mapped_column(sa.ARRAY(sa.Text))"),)
    ),
    Edit("column_comment", ((DESCRIPTION, DESCRIPTION[:-1] + ', comment="shown to everyone")'),)),
    Edit("foreign_key_on_delete_changed", ((OWNER, OWNER.replace("CASCADE", "RESTRICT")),)),
    Edit("drop_unique", (), setup=((UNIQUE_TITLE,),)),
    Edit("drop_check", (), setup=((TITLE_CHECK,),)),
    Edit(
        "drop_foreign_key",
        (item_column("reviewer_id: Mapped[int | None] = mapped_column(sa.Integer)"),),
        setup=((item_column('reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))'),),),
    ),
    Edit(
        "new_not_null_bool_with_default",
        (item_column("archived: Mapped[bool] = mapped_column(server_default=sa.false())"),),
    ),
    Edit(
        "new_not_null_foreign_key_with_backfill",
        (item_column('editor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))'),),
        backfill={"items.editor_id": "1"},
    ),
    Edit(
        "index_unique_and_fk_at_once",
        (
            (ITEM_TITLE, "title: Mapped[str] = mapped_column(sa.String(255), unique=True)"),
            (
                "full_name: Mapped[str | None] = mapped_column(sa.String(255))",
                "full_name: Mapped[str | None] = mapped_column(sa.String(255), index=True)",
            ),
            (
                ITEM_LAST,
                ITEM_LAST
                + '    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))\n',
            ),
        ),
    ),
]

TAGS_RENAMED = (
    TAGS[0],
    TAGS[1].replace(
        'class Tag(Base):\n    __tablename__ = "tags"', 'class Label(Base):\n    __tablename__ = "labels"'
    ),
)

NOTES = (
    "class Item(Base):",
    "class Note(Base):\n"
    '    __tablename__ = "notes"\n'
    "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    '    tag_id: Mapped[int] = mapped_column(sa.ForeignKey("tags.id", ondelete="CASCADE"))\n'
    "\n\nclass Item(Base):",
)
NOTES_OF_LABELS = (NOTES[0], NOTES[1].replace('"tags.id"', '"labels.id"'))

DANGEROUS_EDITS = [
    Edit(
        "drop_column",
        (("    internal_description: Mapped[str | None] = mapped_column(sa.Text)\n", ""),),
        refused_by="ban-drop-column",
        advice="release",
    ),
    Edit("drop_table", (), setup=((TAGS,),), refused_by="ban-drop-table", advice="release"),
    Edit(
        "integer_to_bigint_primary_key",
        (
            (
                "    id: Mapped[int] = mapped_column(primary_key=True)\n    title",
                "    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)\n    title",
            ),
        ),
        refused_by="changing-column-type",
        advice="add the new column",
    ),
    Edit(
        "column_rename",
        (
            (
                "description: Mapped[str | None] = mapped_column(sa.Text)",
                "details: Mapped[str | None] = mapped_column(sa.Text)",
            ),
        ),
        renames={"items.description": "details"},
        refused_by="renaming-column",
        advice="new column",
        moved={"description": "details"},
    ),
    Edit(
        "table_rename",
        (TAGS_RENAMED,),
        setup=((TAGS,),),
        renames={"tags": "labels"},
        refused_by="renaming-table",
        advice="",
    ),
]


# -- harder everyday edits (issue 25), by class -----------------------------------------------------
def constraint_def(name: str) -> str:
    return f"SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = '{name}'"


def index_def(name: str) -> str:
    return f"SELECT pg_get_indexdef(to_regclass('{name}'))"


def collation_of(table: str, column: str) -> str:
    return (
        "SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation "
        f"WHERE a.attrelid = '{table}'::regclass AND a.attname = '{column}'"
    )


def not_null(table: str, column: str) -> str:
    return (
        f"SELECT attnotnull FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attname = '{column}'"
    )


EMAIL = "email: Mapped[str] = mapped_column(sa.String(320), unique=True)"
REVIEWER = 'reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"{}))'

# Class 2: what SQLAlchemy and Alembic carry for PostgreSQL, generated faithfully.
OPTION_EDITS = [
    Edit(
        "unique_constraint_nulls_not_distinct",
        (
            item_index(
                'sa.UniqueConstraint("owner_id", "description", name="owner_description", '
                "postgresql_nulls_not_distinct=True)"
            ),
        ),
        proof=((constraint_def("owner_description"), "UNIQUE NULLS NOT DISTINCT (owner_id, description)"),),
    ),
    Edit(
        "unique_index_nulls_not_distinct",
        (
            item_index(
                'sa.Index("ix_items_title_nnd", "title", unique=True, postgresql_nulls_not_distinct=True)'
            ),
        ),
        proof=(
            (
                index_def("ix_items_title_nnd"),
                "CREATE UNIQUE INDEX ix_items_title_nnd ON public.items USING btree (title) "
                "NULLS NOT DISTINCT",
            ),
        ),
    ),
    Edit(
        "deferrable_unique_constraint",
        (
            item_index(
                'sa.UniqueConstraint("owner_id", "title", name="owner_title", deferrable=True, '
                'initially="DEFERRED")'
            ),
        ),
        proof=((constraint_def("owner_title"), "UNIQUE (owner_id, title) DEFERRABLE INITIALLY DEFERRED"),),
    ),
    Edit(
        "deferrable_foreign_key",
        (item_column(REVIEWER.format(', deferrable=True, initially="DEFERRED"')),),
        proof=(
            (
                constraint_def("fk_items_reviewer_id_users"),
                "FOREIGN KEY (reviewer_id) REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED",
            ),
        ),
    ),
    Edit(
        "foreign_key_match_full_on_update",
        (item_column(REVIEWER.format(', match="FULL", onupdate="CASCADE"')),),
        proof=(
            (
                constraint_def("fk_items_reviewer_id_users"),
                "FOREIGN KEY (reviewer_id) REFERENCES users(id) MATCH FULL ON UPDATE CASCADE",
            ),
        ),
    ),
    Edit(
        "collation_of_an_unindexed_column",
        ((FULL_NAME, 'full_name: Mapped[str | None] = mapped_column(sa.String(255, collation="C"))'),),
        proof=((collation_of("users", "full_name"), "C"),),
    ),
    Edit(
        "new_column_with_a_collation",
        (item_column('code: Mapped[str | None] = mapped_column(sa.Text(collation="C"))'),),
        proof=((collation_of("items", "code"), "C"),),
    ),
    Edit(
        "covering_index_with_an_operator_class_and_storage",
        (
            item_index(
                'sa.Index("ix_items_title_pattern", "title", postgresql_ops={"title": "text_pattern_ops"}, '
                'postgresql_include=["owner_id"], postgresql_with={"fillfactor": 70})'
            ),
        ),
        proof=(
            (
                index_def("ix_items_title_pattern"),
                "CREATE INDEX ix_items_title_pattern ON public.items USING btree (title text_pattern_ops) "
                "INCLUDE (owner_id) WITH (fillfactor='70')",
            ),
        ),
    ),
    Edit(
        "hash_index_descending_index",
        (
            item_index(
                'sa.Index("ix_items_title_hash", "title", postgresql_using="hash"), '
                'sa.Index("ix_items_created_desc", sa.desc("created_at"))'
            ),
        ),
        proof=(
            (
                index_def("ix_items_title_hash"),
                "CREATE INDEX ix_items_title_hash ON public.items USING hash (title)",
            ),
            (
                index_def("ix_items_created_desc"),
                "CREATE INDEX ix_items_created_desc ON public.items USING btree (created_at DESC)",
            ),
        ),
    ),
    Edit(
        # Without `persisted`, the server's default, written out: VIRTUAL from PostgreSQL 18 (the tests'
        # server; instant), STORED before (a rewrite the review refuses, as stored_generated_column).
        "generated_column",
        (item_column('title_length: Mapped[int | None] = mapped_column(sa.Computed("length(title)"))'),),
        proof=(
            (
                "SELECT attgenerated FROM pg_attribute "
                "WHERE attrelid = 'items'::regclass AND attname = 'title_length'",
                "v",
            ),
        ),
    ),
    Edit(
        "table_comment",
        ((ITEM_ARGS, ITEM_ARGS[:-2] + ', {"comment": "what users own"})'),),
        proof=(("SELECT obj_description('items'::regclass, 'pg_class')", "what users own"),),
    ),
]
# ...and what PostgreSQL cannot do to a table in use without a long lock, refused with the right advice.
DANGEROUS_OPTION_EDITS = [
    Edit(
        "collation_of_an_indexed_column",
        ((EMAIL, 'email: Mapped[str] = mapped_column(sa.String(320, collation="C"), unique=True)'),),
        refused_by="changing-column-collation",
        advice="drop the column's indexes first",
    ),
    Edit(
        "stored_generated_column",
        (
            item_column(
                "title_length: Mapped[int | None] = "
                'mapped_column(sa.Computed("length(title)", persisted=True))'
            ),
        ),
        refused_by="add-column-rewrites-table",
        advice="VIRTUAL",
    ),
    Edit(
        "identity_column",
        (item_column("number: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity())"),),
        refused_by="add-column-rewrites-table",
        advice="backfill old rows",
    ),
]
# ...and option changes of an existing index or constraint: flagged for a person, `check` not clean.
FLAGGED_OPTION_EDITS = [
    Edit(
        "access_method_changed",
        ((ITEM_ARGS, ITEM_ARGS.replace('"created_at")', '"created_at", postgresql_using="brin")')),),
        advice="index ix_items_owner_id_created_at on items differs from the models: "
        "access method btree -> brin",
    ),
    Edit(
        "operator_class_changed",
        (
            item_index(
                'sa.Index("ix_items_title_pattern", "title", postgresql_ops={"title": "text_pattern_ops"})'
            ),
        ),
        setup=((item_index('sa.Index("ix_items_title_pattern", "title")'),),),
        advice="index ix_items_title_pattern on items differs from the models: "
        "operator classes ['default'] -> ['text_pattern_ops']",
    ),
    Edit(
        "unique_constraint_made_deferrable",
        (item_index('sa.UniqueConstraint("owner_id", "title", name="owner_title", deferrable=True)'),),
        setup=((item_index('sa.UniqueConstraint("owner_id", "title", name="owner_title")'),),),
        advice="constraint owner_title on items differs from the models: NOT DEFERRABLE -> DEFERRABLE "
        "INITIALLY IMMEDIATE",
    ),
    Edit(
        "foreign_key_match_changed",
        (item_column(REVIEWER.format(', match="FULL"')),),
        setup=((item_column(REVIEWER.format("")),),),
        advice="constraint fk_items_reviewer_id_users on items differs from the models: "
        "MATCH SIMPLE -> MATCH FULL",
    ),
]

# Class 3: tables in another schema.
AUDIT = (
    "class Item(Base):",
    "class AuditEvent(Base):\n"
    '    __tablename__ = "audit_events"\n'
    '    __table_args__ = {"schema": "audit"}\n'
    "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    "    kind: Mapped[str | None] = mapped_column(sa.String(50))\n"
    "    user_id: Mapped[int | None] = mapped_column(sa.Integer)\n"
    "\n\nclass Item(Base):",
)
AUDIT_ARGS = '    __table_args__ = {"schema": "audit"}\n'
AUDIT_LOG = (
    "class Item(Base):",
    "class AuditLog(Base):\n"
    '    __tablename__ = "audit_log"\n'
    '    __table_args__ = (sa.Index("ix_audit_log_at", "at"), {"schema": "audit"})\n'
    "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    "    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())\n"
    '    event_id: Mapped[int] = mapped_column(sa.ForeignKey("audit.audit_events.id"))\n'
    '    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))\n'
    "\n\nclass Item(Base):",
)
SCHEMA_EDITS = [
    Edit(
        "new_table_in_a_new_schema",
        (AUDIT,),
        proof=(("SELECT to_regclass('audit.audit_events') IS NOT NULL", True),),
    ),
    Edit(
        "second_table_in_that_schema_with_keys_across_schemas",
        (AUDIT, AUDIT_LOG),
        setup=((AUDIT,),),
        proof=(
            (
                constraint_def("fk_audit_log_event_id_audit_events"),
                "FOREIGN KEY (event_id) REFERENCES audit.audit_events(id)",
            ),
            (constraint_def("fk_audit_log_user_id_users"), "FOREIGN KEY (user_id) REFERENCES users(id)"),
        ),
    ),
    Edit(
        "index_unique_check_key_and_not_null_on_a_table_in_another_schema",
        (
            AUDIT,
            (
                AUDIT_ARGS,
                "    __table_args__ = (\n"
                '        sa.Index("ix_audit_events_kind", "kind"),\n'
                '        sa.UniqueConstraint("user_id", "kind", name="uq_audit_user_kind"),\n'
                '        sa.CheckConstraint("length(kind) > 0", name="kind_set"),\n'
                '        {"schema": "audit"},\n'
                "    )\n",
            ),
            (
                "    user_id: Mapped[int | None] = mapped_column(sa.Integer)\n",
                '    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))\n',
            ),
        ),
        setup=((AUDIT,),),
        proof=(
            (
                index_def("audit.ix_audit_events_kind"),
                "CREATE INDEX ix_audit_events_kind ON audit.audit_events USING btree (kind)",
            ),
            (constraint_def("uq_audit_user_kind"), "UNIQUE (user_id, kind)"),
            (constraint_def("ck_audit_events_kind_set"), "CHECK ((length((kind)::text) > 0))"),
            (constraint_def("fk_audit_events_user_id_users"), "FOREIGN KEY (user_id) REFERENCES users(id)"),
            (not_null("audit.audit_events", "user_id"), True),
        ),
    ),
]

# Class 5: an index renamed in the models, nothing else changed: ALTER INDEX ... RENAME (instant).
INDEX_RENAME_EDITS = [
    Edit(
        "composite_index_renamed",
        ((ITEM_ARGS, ITEM_ARGS.replace("ix_items_owner_id_created_at", "ix_items_owner_newest")),),
        proof=(("SELECT to_regclass('ix_items_owner_newest') IS NOT NULL", True),),
    ),
    Edit(
        "unique_covering_index_renamed",
        (item_index('sa.Index("ix_items_title_v2", "title", unique=True, postgresql_include=["owner_id"])'),),
        setup=(
            (
                item_index(
                    'sa.Index("ix_items_title", "title", unique=True, postgresql_include=["owner_id"])'
                ),
            ),
        ),
        proof=(
            (
                "SELECT to_regclass('ix_items_title') IS NULL "
                "AND to_regclass('ix_items_title_v2') IS NOT NULL",
                True,
            ),
        ),
    ),
    Edit(
        "index_renamed_in_another_schema",
        (
            AUDIT,
            (AUDIT_ARGS, '    __table_args__ = (sa.Index("ix_audit_kind", "kind"), {"schema": "audit"})\n'),
        ),
        setup=(
            (
                AUDIT,
                (AUDIT_ARGS, '    __table_args__ = (sa.Index("ix_kind", "kind"), {"schema": "audit"})\n'),
            ),
        ),
        proof=(("SELECT to_regclass('audit.ix_audit_kind') IS NOT NULL", True),),
    ),
]

# Class 1: tightening to NOT NULL a column that holds NULLs: backfilled in batches, then constrained.
PRIORITY = "priority: Mapped[int | None] = mapped_column(sa.Integer)"
NOT_NULL_EDITS = [
    Edit(
        "not_null_on_a_column_holding_nulls_with_backfill",
        ((FULL_NAME, "full_name: Mapped[str] = mapped_column(sa.String(255))"),),
        rows="UPDATE users SET full_name = NULL WHERE id = 2",
        backfill={"users.full_name": "unknown"},
        filled={"full_name": "unknown"},
        proof=((not_null("users", "full_name"), True),),
    ),
    Edit(
        "not_null_and_server_default_on_a_column_holding_nulls",
        ((DESCRIPTION, 'description: Mapped[str] = mapped_column(sa.Text, server_default="")'),),
        rows="UPDATE items SET description = NULL WHERE id % 3 = 0",
        filled={"description": ""},
        proof=((not_null("items", "description"), True),),
    ),
    Edit(
        "not_null_integer_column_holding_nulls",
        (item_column("priority: Mapped[int] = mapped_column(sa.Integer)"),),
        setup=((item_column(PRIORITY),),),
        backfill={"items.priority": "0"},
        filled={"priority": 0},
        proof=((not_null("items", "priority"), True), ("SELECT count(*) FROM items WHERE priority = 0", 40)),
    ),
]

# Class 4: a column renamed with its indexes and keys: PostgreSQL keeps them through RENAME COLUMN.
OWNER_RENAMED = (
    (OWNER, OWNER.replace("owner_id", "user_id")),
    ('"owner_id", "created_at"', '"user_id", "created_at"'),
)
RENAME_EDITS = [
    Edit(
        "renamed_column_with_a_foreign_key_and_indexes",
        OWNER_RENAMED,
        renames={"items.owner_id": "user_id"},
        refused_by="renaming-column",
        advice="new column",
        moved={"owner_id": "user_id"},
        proof=(
            (
                constraint_def("fk_items_user_id_users"),
                "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
            ),
            (
                index_def("ix_items_user_id"),
                "CREATE INDEX ix_items_user_id ON public.items USING btree (user_id)",
            ),
            (
                index_def("ix_items_owner_id_created_at"),
                "CREATE INDEX ix_items_owner_id_created_at ON public.items USING btree (user_id, created_at)",
            ),
        ),
    ),
    Edit(
        "renamed_unique_column",
        ((ITEM_TITLE, "name: Mapped[str] = mapped_column(sa.String(255), unique=True)"),),
        setup=((UNIQUE_TITLE,),),
        renames={"items.title": "name"},
        refused_by="renaming-column",
        advice="new column",
        moved={"title": "name"},
        proof=((constraint_def("uq_items_name"), "UNIQUE (name)"),),
    ),
    Edit(
        "renamed_column_of_a_composite_unique_and_a_check",
        (
            (ITEM_TITLE, "name: Mapped[str] = mapped_column(sa.String(255))"),
            item_index(
                'sa.UniqueConstraint("owner_id", "name", name="owner_title"), '
                'sa.CheckConstraint("length(name) > 0", name="title_not_empty")'
            ),
        ),
        setup=(
            (
                item_index(
                    'sa.UniqueConstraint("owner_id", "title", name="owner_title"), '
                    'sa.CheckConstraint("length(title) > 0", name="title_not_empty")'
                ),
            ),
        ),
        renames={"items.title": "name"},
        refused_by="renaming-column",
        advice="new column",
        moved={"title": "name"},
        proof=(
            (constraint_def("owner_title"), "UNIQUE (owner_id, name)"),
            (constraint_def("ck_items_title_not_empty"), "CHECK ((length((name)::text) > 0))"),
        ),
    ),
]

SAFE_EDITS += OPTION_EDITS + SCHEMA_EDITS + INDEX_RENAME_EDITS + NOT_NULL_EDITS
DANGEROUS_EDITS += DANGEROUS_OPTION_EDITS + RENAME_EDITS
