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
        ((ITEM_LAST, ITEM_LAST + "    priority: Mapped[int] = mapped_column(sa.Integer)\n"),),
        backfill={"items.priority": "0"},
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
