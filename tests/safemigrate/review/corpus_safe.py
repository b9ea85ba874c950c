"""The corpus's safe revisions: each must pass with no unacknowledged error."""

from __future__ import annotations

from tests.safemigrate.review.corpus import (
    ADD_ARCHIVED,
    ARCHIVE,
    CHECK_DESCRIPTION_VALIDATED,
    CITEXT,
    DROP_ARCHIVE,
    FK_NOT_VALID,
    ITEMS_PER_OWNER,
    PRICE,
    STATUS_COLUMN,
    STATUS_ENUM,
    TAGS,
    TITLE_LOWER_INDEX,
    Case,
    outside,
    sql,
)

SAFE = [
    Case(
        "add-nullable-column",
        None,
        'op.add_column("items", sa.Column("x", sa.Text()))',
        'op.drop_column("items", "x")',
        rewrites="items",
    ),
    Case(
        "add-column-constant-default-not-null",
        None,
        'op.add_column("items", sa.Column("zz_priority", sa.Integer(), nullable=False, server_default="0"))',
        'op.drop_column("items", "zz_priority")',
        rewrites="items",
    ),
    Case(
        "add-column-text-default",
        None,
        'op.add_column("items", sa.Column("state", sa.String(20), nullable=False, server_default="draft"))',
        'op.drop_column("items", "state")',
        rewrites="items",
    ),
    Case(
        "add-column-now-default",
        None,
        'op.add_column("items", sa.Column("seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()")))',  # noqa: E501
        'op.drop_column("items", "seen_at")',
        rewrites="items",
    ),
    Case(
        "varchar-widening",
        None,
        'op.alter_column("items", "title", type_=sa.String(500), existing_type=sa.String(255))',
        'op.alter_column("items", "title", type_=sa.String(255), existing_type=sa.String(500))',
        rewrites="items",
    ),
    Case(
        "varchar-to-text",
        None,
        'op.alter_column("items", "title", type_=sa.Text(), existing_type=sa.String(255))',
        'op.alter_column("items", "title", type_=sa.String(255), existing_type=sa.Text())',
        rewrites="items",
    ),
    Case(
        "varchar-unbounded",
        None,
        'op.alter_column("users", "full_name", type_=sa.String(), existing_type=sa.String(255))',
        'op.alter_column("users", "full_name", type_=sa.String(255), existing_type=sa.String())',
        rewrites="users",
    ),
    Case(
        "numeric-widening",
        None,
        'op.alter_column("items", "price", type_=sa.Numeric(12, 2), existing_type=sa.Numeric(10, 2))',
        'op.alter_column("items", "price", type_=sa.Numeric(10, 2), existing_type=sa.Numeric(12, 2))',
        setup=(PRICE,),
        rewrites="items",
    ),
    Case(
        "drop-not-null",
        None,
        'op.alter_column("items", "title", nullable=True, existing_type=sa.String(255))',
        'op.alter_column("items", "title", nullable=False, existing_type=sa.String(255))',
    ),
    Case(
        "drop-default",
        None,
        'op.alter_column("items", "updated_at", server_default=None, existing_type=sa.DateTime(timezone=True))',  # noqa: E501
        'op.alter_column("items", "updated_at", server_default=sa.text("now()"), '
        "existing_type=sa.DateTime(timezone=True))",
    ),
    Case(
        "set-default",
        None,
        'op.alter_column("items", "description", server_default="", existing_type=sa.Text())',
        'op.alter_column("items", "description", server_default=None, existing_type=sa.Text())',
    ),
    Case(
        "set-not-null-after-check-validated-earlier",
        None,
        'op.alter_column("items", "description", nullable=False, existing_type=sa.Text())\n'
        'op.execute("ALTER TABLE items DROP CONSTRAINT ck_items_description_nn")',
        'op.alter_column("items", "description", nullable=True, existing_type=sa.Text())',
        setup=(CHECK_DESCRIPTION_VALIDATED,),
    ),
    Case(
        "validate-only-without-downgrade",
        None,
        sql("ALTER TABLE items VALIDATE CONSTRAINT fk_items_editor_id_users"),
        "pass",
        setup=(FK_NOT_VALID,),
    ),
    Case(
        "backfill-only-without-downgrade",
        None,
        'safe.backfill_in_batches("items", "description = \'\'", "description IS NULL")',
        "pass",
        preamble="from safemigrate import safe",
    ),
    Case(
        "create-index-concurrently",
        None,
        'safe.create_index_concurrently("ix_items_title", "items", ["title"])',
        'safe.drop_index_concurrently("ix_items_title", "items")',
        preamble="from safemigrate import safe",
    ),
    Case(
        "add-not-null-column-helper",
        None,
        'safe.add_not_null_column("items", sa.Column("zz_priority", sa.Integer()), backfill="0")',
        'op.drop_column("items", "zz_priority")',
        preamble="from safemigrate import safe",
    ),
    Case(
        "unique-constraint-using-index",
        None,
        outside(  # an INVALID leftover of a failed build goes first
            'op.execute("DROP INDEX CONCURRENTLY IF EXISTS uq_items_title")',
            'op.execute("CREATE UNIQUE INDEX CONCURRENTLY uq_items_title ON items (title)")',
        )
        + "\n"
        + sql("ALTER TABLE items ADD CONSTRAINT uq_items_title UNIQUE USING INDEX uq_items_title"),
        sql("ALTER TABLE items DROP CONSTRAINT uq_items_title"),
    ),
    Case(
        "primary-key-using-index",
        None,
        outside(
            'op.execute("DROP INDEX CONCURRENTLY IF EXISTS pk_tags")',
            'op.execute("CREATE UNIQUE INDEX CONCURRENTLY pk_tags ON tags (id)")',
        )
        + "\n"
        + sql("ALTER TABLE tags ADD CONSTRAINT pk_tags PRIMARY KEY USING INDEX pk_tags"),
        sql("ALTER TABLE tags DROP CONSTRAINT pk_tags"),
        setup=(TAGS,),
    ),
    Case(
        "set-not-null-with-the-helper",
        None,
        'safe.set_not_null("items", "description")',
        'op.alter_column("items", "description", nullable=True, existing_type=sa.Text())',
        preamble="from safemigrate import safe",
    ),
    Case(
        "enum-type-and-column",
        None,
        STATUS_ENUM[0] + '\nop.add_column("items", sa.Column("status", '
        'postgresql.ENUM(name="item_status", create_type=False)))',
        'op.drop_column("items", "status")\n' + STATUS_ENUM[1],
        preamble="from sqlalchemy.dialects import postgresql",
    ),
    Case(
        "enum-add-value",
        None,
        sql("ALTER TYPE item_status ADD VALUE IF NOT EXISTS 'archived'"),
        "pass",
        setup=(STATUS_ENUM,),
    ),
    Case(
        "sequence-as-bigint",
        None,
        sql("ALTER SEQUENCE items_id_seq AS bigint"),
        sql("ALTER SEQUENCE items_id_seq AS integer"),
    ),
    Case(
        "new-table-with-everything",
        None,
        'op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True), '
        'sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False), '
        'sa.Column("body", sa.Text(), nullable=False), sa.UniqueConstraint("item_id", name="uq_notes_item_id"))\n'  # noqa: E501
        'op.create_index("ix_notes_body", "notes", ["body"])',
        'op.drop_table("notes")',
    ),
    Case(
        "new-table-then-altered",
        None,
        'op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("body", sa.String(10)))\n'  # noqa: E501
        'op.alter_column("notes", "body", type_=sa.Integer(), existing_type=sa.String(10), '
        'postgresql_using="body::integer")\n'
        'op.alter_column("notes", "body", nullable=False, existing_type=sa.Integer())\n'
        'op.create_check_constraint("ck_notes_body", "notes", "body > 0")\n'
        'op.create_foreign_key("fk_notes_id_items", "notes", "items", ["id"], ["id"])\n'
        'op.alter_column("notes", "body", new_column_name="amount")',
        'op.drop_table("notes")',
    ),
    Case(
        "archive-items-with-its-index",
        None,
        ARCHIVE + 'op.create_table("items", sa.Column("id", sa.Integer(), primary_key=True), '
        'sa.Column("title", sa.String(255)), schema="archive")\n'
        'op.create_index("ix_archive_items_title", "items", ["title"], schema="archive")',
        DROP_ARCHIVE,
    ),
    Case(
        "targeted-update",
        None,
        sql("UPDATE users SET is_superuser = true WHERE email = 'admin@example.com'"),
        sql("UPDATE users SET is_superuser = false WHERE email = 'admin@example.com'"),
    ),
    Case(
        "guarded-data-migration",
        None,
        "if not op.get_context().as_sql:\n"
        '    rows = op.get_bind().execute(sa.text("SELECT id FROM items WHERE description IS NULL LIMIT 10")).all()\n'  # noqa: E501
        "    for row in rows:\n"
        "        op.execute(sa.text(\"UPDATE items SET description = '' WHERE id = :id\").bindparams(id=row.id))",  # noqa: E501
        "pass",
    ),
    Case(
        "acknowledged-drop-column",
        None,
        "# lint-ack: ban-drop-column: nothing has read items.description since release 41\n"
        'op.drop_column("items", "description")',
        'op.add_column("items", sa.Column("description", sa.Text()))',
    ),
    Case(
        "comment-on-column",
        None,
        sql("COMMENT ON COLUMN items.title IS 'shown in lists'"),
        sql("COMMENT ON COLUMN items.title IS NULL"),
    ),
    Case(
        "create-table-serial-pk",
        None,
        'op.create_table("events", sa.Column("id", sa.BigInteger(), primary_key=True), '
        'sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False))',
        'op.drop_table("events")',
    ),
    Case(
        "reindex-concurrently",
        None,
        outside('op.execute("REINDEX INDEX CONCURRENTLY ix_items_owner_id")'),
        "pass",
    ),
    Case("analyze", None, sql("ANALYZE items"), "pass"),
    Case(
        "drop-constraint",
        None,
        sql("ALTER TABLE items DROP CONSTRAINT fk_items_owner_id_users"),
        sql(
            "ALTER TABLE items ADD CONSTRAINT fk_items_owner_id_users FOREIGN KEY (owner_id) "
            "REFERENCES users (id) ON DELETE CASCADE NOT VALID"
        ),
    ),
    Case("lock-table-row-exclusive", None, sql("LOCK TABLE items IN ROW EXCLUSIVE MODE"), "pass"),
    Case(
        "seed-rows",
        None,
        sql("INSERT INTO users (email, password_hash) VALUES ('robot@example.com', '!')"),
        sql("DELETE FROM users WHERE email = 'robot@example.com'"),
    ),
    Case(
        "drop-index-concurrently",
        None,
        'safe.drop_index_concurrently("ix_items_owner_id", "items")',
        'safe.create_index_concurrently("ix_items_owner_id", "items", ["owner_id"])',
        preamble="from safemigrate import safe",
    ),
    Case("placeholder", None, "pass", "pass"),
    Case(
        "update-by-unique-column",
        None,
        sql("UPDATE users SET full_name = 'Admin' WHERE email = 'admin@example.com'"),
        "pass",
    ),
    Case(
        "update-by-bounded-key-range",
        None,
        sql("UPDATE items SET title = upper(title) WHERE id >= 1 AND id < 1000"),
        "pass",
    ),
    Case(
        "update-by-key-between",
        None,
        sql("UPDATE items SET title = upper(title) WHERE id BETWEEN 1 AND 1000"),
        "pass",
    ),
    Case(
        "local-lock-timeout",
        None,
        sql("SET LOCAL lock_timeout = '5s'") + '\nop.add_column("items", sa.Column("x", sa.Text()))',
        'op.drop_column("items", "x")',
    ),
    # text -> citext: the extension's cast is binary coercible, and description has no index.
    Case(
        "text-to-citext-unindexed",
        None,
        sql("ALTER TABLE items ALTER COLUMN description TYPE citext"),
        sql("ALTER TABLE items ALTER COLUMN description TYPE text"),
        setup=(CITEXT,),
        rewrites="items",
        rewritten=False,
    ),
    # Reads through op.get_bind(): offline the recording connection returns no rows, and the per-row
    # updates by key are what the review judges (issue #23, item 3).
    Case(
        "reads-rows-through-the-bind",
        None,
        'rows = op.get_bind().execute(sa.text("SELECT id FROM items")).fetchall()\n'
        "for row in rows:\n"
        '    op.execute(sa.text("UPDATE items SET title = title WHERE id = :id").bindparams(id=row.id))',
        "pass",
    ),
    Case(
        "update-by-key-list",
        None,
        sql("UPDATE items SET title = upper(title) WHERE id = ANY(ARRAY[1, 2, 3])"),
        "pass",
    ),
    Case(
        "enum-value-added-by-helper-then-used",
        None,
        'safe.add_enum_value("item_status", "archived")\n'
        + sql("UPDATE items SET status = 'archived' WHERE id = 1"),
        setup=(STATUS_COLUMN,),
        preamble="from safemigrate import safe",
        fails="",
    ),
    Case(
        "enum-value-added-and-the-same-text-elsewhere",
        None,
        sql(ADD_ARCHIVED, "UPDATE items SET title = 'archived' WHERE id = 1"),
        setup=(STATUS_COLUMN,),
        fails="",
    ),
    Case(
        "refresh-materialized-view-concurrently",
        None,
        sql("REFRESH MATERIALIZED VIEW CONCURRENTLY items_per_owner"),
        setup=(
            (
                ITEMS_PER_OWNER[0]
                + "\n"
                + sql("CREATE UNIQUE INDEX ix_items_per_owner ON items_per_owner (owner_id)"),
                ITEMS_PER_OWNER[1],
            ),
        ),
    ),
    Case(
        "refresh-materialized-view-created-here",
        None,
        sql(
            "CREATE MATERIALIZED VIEW titles AS SELECT id, title FROM items WITH NO DATA",
            "REFRESH MATERIALIZED VIEW titles",
        ),
        sql("DROP MATERIALIZED VIEW titles"),
    ),
    Case(
        "collation-change-on-unindexed-column",
        None,
        sql('ALTER TABLE items ALTER COLUMN description TYPE text COLLATE "C"'),
        sql("ALTER TABLE items ALTER COLUMN description TYPE text"),
        rewrites="items",
        rewritten=False,
    ),
    Case(
        "varchar-to-text-keeps-its-index",
        None,
        sql("ALTER TABLE users ALTER COLUMN email TYPE text"),
        sql("ALTER TABLE users ALTER COLUMN email TYPE varchar(320)"),
        rewrites="uq_users_email",
        rewritten=False,
    ),
    Case(
        "foreign-key-by-helper-after-an-idempotent-column",
        None,
        'op.add_column("items", sa.Column("editor_id", sa.Integer()), if_not_exists=True)\n'
        'safe.create_foreign_key("fk_items_editor_id_users", "items", "users", ["editor_id"], ["id"])',
        'op.drop_column("items", "editor_id")',
        preamble="from safemigrate import safe",
    ),
    Case(
        "check-validated-in-the-next-revision",
        None,
        sql("ALTER TABLE items VALIDATE CONSTRAINT ck_items_title_length"),
        setup=(
            (
                sql(
                    "ALTER TABLE items ADD CONSTRAINT ck_items_title_length "
                    "CHECK (length(title) > 0) NOT VALID"
                ),
                sql("ALTER TABLE items DROP CONSTRAINT ck_items_title_length"),
            ),
        ),
    ),
    Case(
        "collation-change-after-its-index-is-dropped",
        None,
        outside('op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_items_title_lower")')
        + "\n"
        + sql('ALTER TABLE items ALTER COLUMN title TYPE varchar(255) COLLATE "C"')
        + "\n"
        + outside(
            'op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_items_title_lower '
            'ON items (lower(title))")'
        ),
        sql("ALTER TABLE items ALTER COLUMN title TYPE varchar(255)"),
        setup=(TITLE_LOWER_INDEX,),
    ),
    Case(
        "collate-default-on-a-column-of-the-default-collation",
        None,
        sql('ALTER TABLE users ALTER COLUMN email TYPE varchar(320) COLLATE "default"'),
        sql("ALTER TABLE users ALTER COLUMN email TYPE varchar(320)"),
        rewrites="uq_users_email",
        rewritten=False,
    ),
    Case(
        "enum-created-and-extended-in-one-transaction",
        None,
        sql(
            "CREATE TYPE tag_state AS ENUM ('new')",
            "ALTER TYPE tag_state ADD VALUE 'archived'",
            "CREATE TABLE tag_states (id int PRIMARY KEY, state tag_state DEFAULT 'archived')",
        ),
        sql("DROP TABLE tag_states", "DROP TYPE tag_state"),
        fails="",
    ),
]
