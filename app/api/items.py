"""Items, scoped to their owner: another user's item is answered exactly like a missing one."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask import url_for
from flask_smorest import abort

from app.api.auth import current_user, login_required
from app.api.docs import BEARER, BODY_ERRORS, ApiBlueprint
from app.api.pagination import MAX_ID, decode_cursor, encode_cursor
from app.api.schemas import (
    ItemCreateSchema,
    ItemListQuerySchema,
    ItemPageSchema,
    ItemSchema,
    ItemUpdateSchema,
)
from app.extensions import db
from app.models import Item, User

bp = ApiBlueprint("items", __name__, url_prefix="/api/v1", description="Items, visible to their owner")


def reveal(item: Item, user: User) -> Item:
    """Mark whether `user` may read internal_description (owner or superuser); ItemSchema obeys."""
    item.reveal_internal = user.is_superuser or item.owner_id == user.id
    return item


def visible_items(user: User) -> sa.Select:
    query = sa.select(Item)
    return query if user.is_superuser else query.where(Item.owner_id == user.id)


def get_visible_item(item_id: int) -> Item:
    item = None
    if 0 < item_id <= MAX_ID:
        item = db.session.scalar(visible_items(current_user()).where(Item.id == item_id))
    if item is None:
        abort(404, message="item not found")
    return item


@bp.get("/items")
@login_required
@bp.arguments(ItemListQuerySchema, location="query", as_kwargs=True, unknown=ma.RAISE)
@bp.response(200, ItemPageSchema)
@bp.doc(security=BEARER)
@bp.errors(401)
def list_items(limit: int, cursor: str | None = None):
    """The caller's items (a superuser's: everyone's), newest first, a page at a time."""
    user = current_user()
    query = visible_items(user).order_by(Item.created_at.desc(), Item.id.desc()).limit(limit + 1)
    if cursor:
        created_at, item_id = decode_cursor(cursor)
        query = query.where(sa.tuple_(Item.created_at, Item.id) < sa.tuple_(sa.literal(created_at), item_id))
    items = list(db.session.scalars(query))
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = encode_cursor(items[-1].created_at, items[-1].id)
    return {
        "items": [reveal(item, user) for item in items],
        "next_cursor": next_cursor,
        "next": url_for("items.list_items", limit=limit, cursor=next_cursor) if next_cursor else None,
    }


@bp.post("/items")
@login_required
@bp.arguments(ItemCreateSchema)
@bp.response(201, ItemSchema, headers={"Location": {"schema": {"type": "string"}}})
@bp.doc(security=BEARER)
@bp.errors(*BODY_ERRORS, 401)
def create_item(body):
    """Create an item owned by the caller."""
    item = Item(owner_id=current_user().id, **body)
    db.session.add(item)
    db.session.commit()
    return reveal(item, current_user()), 201, {"Location": url_for("items.get_item", item_id=item.id)}


@bp.get("/items/<int:item_id>")
@login_required
@bp.response(200, ItemSchema)
@bp.doc(security=BEARER)
@bp.errors(401, 404)
def get_item(item_id: int):
    """One item."""
    return reveal(get_visible_item(item_id), current_user())


@bp.patch("/items/<int:item_id>")
@login_required
@bp.arguments(ItemUpdateSchema)
@bp.response(200, ItemSchema)
@bp.doc(security=BEARER)
@bp.errors(*BODY_ERRORS, 401, 404)
def update_item(body, item_id: int):
    """Change some fields of an item."""
    item = get_visible_item(item_id)
    for name, value in body.items():
        setattr(item, name, value)
    db.session.commit()
    return reveal(item, current_user())


@bp.delete("/items/<int:item_id>")
@login_required
@bp.response(204)
@bp.doc(security=BEARER)
@bp.errors(401, 404)
def delete_item(item_id: int):
    """Delete an item."""
    db.session.delete(get_visible_item(item_id))
    db.session.commit()
