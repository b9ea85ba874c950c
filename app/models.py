"""Database models. Edit these, then `make migrate m="..."` to autogenerate a revision."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Every index and constraint gets a deterministic name, so autogenerate is stable and
# downgrades can drop what upgrades created. Names spell out every column (column_0_N_name): built
# from the first column only, UniqueConstraint("a", "b") and ("a", "c") were both uq_t_a and the
# second failed at upgrade. For one column the names are what they were (ix_items_owner_id was
# column_0_label, the table and column), so no existing constraint is renamed; over 63 characters
# SQLAlchemy shortens a name with a hash, deterministically.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Called per row (never evaluated once at import)."""
    return datetime.now(UTC)


class User(Base):
    # "user" is a reserved word in PostgreSQL.
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    full_name: Mapped[str | None] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    is_superuser: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, server_default=sa.func.now()
    )
    # Every token carries the version it was issued under; bumping it (logout, password change,
    # deactivation) revokes every older token at once.
    token_version: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))

    items: Mapped[list[Item]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Item(Base):
    __tablename__ = "items"
    # Serves "my items, newest first" (created concurrently by its revision).
    __table_args__ = (sa.Index("ix_items_owner_id_created_at", "owner_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    internal_description: Mapped[str | None] = mapped_column(sa.Text)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, server_default=sa.func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=sa.func.now()
    )

    owner: Mapped[User] = relationship(back_populates="items")

    def __repr__(self) -> str:
        return f"<Item {self.id} {self.title!r}>"
