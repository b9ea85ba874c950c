"""The models' naming convention: distinct names for constraints that start with the same column, and
the names the existing schema already has for single-column ones (nothing to rename)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from app.models import NAMING_CONVENTION, Base


def test_constraints_starting_with_the_same_column_get_distinct_names():
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    sa.Table("refs", metadata, sa.Column("id", sa.Integer, primary_key=True))
    table = sa.Table(
        "pairs",
        metadata,
        sa.Column("a", sa.Integer, sa.ForeignKey("refs.id")),
        sa.Column("b", sa.Integer),
        sa.Column("c", sa.Integer),
        sa.UniqueConstraint("a", "b"),
        sa.UniqueConstraint("a", "c"),
        sa.ForeignKeyConstraint(["a", "b"], ["refs.id", "refs.id"]),
        sa.Index(None, "a", "b"),
        sa.Index(None, "a", "c"),
    )
    ddl = str(CreateTable(table).compile(dialect=postgresql.dialect()))
    assert "CONSTRAINT uq_pairs_a_b UNIQUE (a, b)" in ddl
    assert "CONSTRAINT uq_pairs_a_c UNIQUE (a, c)" in ddl
    assert "CONSTRAINT fk_pairs_a_refs FOREIGN KEY(a)" in ddl
    assert "CONSTRAINT fk_pairs_a_b_refs FOREIGN KEY(a, b)" in ddl
    indexes = sorted(str(CreateIndex(i).compile(dialect=postgresql.dialect())) for i in table.indexes)
    assert indexes == [
        "CREATE INDEX ix_pairs_a_b ON pairs (a, b)",
        "CREATE INDEX ix_pairs_a_c ON pairs (a, c)",
    ]


def test_the_models_single_column_names_are_the_ones_the_revisions_created():
    names = {
        constraint.name
        for table in Base.metadata.tables.values()
        for constraint in [*table.constraints, *table.indexes]
    }
    assert {"uq_users_email", "ix_items_owner_id", "fk_items_owner_id_users", "pk_users", "pk_items"} <= names
