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
