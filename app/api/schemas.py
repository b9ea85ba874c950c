"""Request and response bodies. The same schemas validate requests, shape responses and
generate the OpenAPI document, so the document cannot drift from what the server does."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.api.pagination import CURSOR_PATTERN

TITLE_MAX = 255
DESCRIPTION_MAX = 10_000
PASSWORD_MIN, PASSWORD_MAX = 8, 128
# A letter and something that is not a letter: the whole rule is in the schema, so the OpenAPI
# document states exactly what the server accepts.
PASSWORD_PATTERN = r"^(?:[\s\S]*[A-Za-z][\s\S]*[^A-Za-z][\s\S]*|[\s\S]*[^A-Za-z][\s\S]*[A-Za-z][\s\S]*)$"  # noqa: S105
# Deliberately simple, and stated in the document: the mail server is the real judge.
EMAIL_PATTERN = r"^[^@ \x00]+@[^@ \x00]+\.[^@ \x00]+$"


def valid_unicode(value: str) -> None:
    """JSON can carry lone surrogates, which are not UTF-8: refuse them as 422, not a 500."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ma.ValidationError("must be valid Unicode text") from None


# PostgreSQL text cannot hold NUL; as a pattern, the rule is in the OpenAPI document too.
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="must not contain NUL characters")


def Text(*, max_length: int, min_length: int = 0, **kw) -> fields.String:
    """A string stored in PostgreSQL: bounded, NUL-free, valid Unicode."""
    return fields.String(
        validate=[validate.Length(min=min_length, max=max_length), NO_NUL, valid_unicode], **kw
    )


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE  # unknown fields are refused, not silently dropped


def NewPassword() -> fields.String:
    """A password being chosen: the strength rule, stated in the document (the users CLI applies it too)."""
    return fields.String(
        required=True,
        load_only=True,
        validate=[
            validate.Length(min=PASSWORD_MIN, max=PASSWORD_MAX),
            validate.Regexp(
                PASSWORD_PATTERN, error="password is too weak: mix letters with digits or symbols"
            ),
            valid_unicode,
        ],
        metadata={"description": "8 to 128 characters, with a letter and a digit or symbol"},
    )


def CurrentPassword() -> fields.String:
    return fields.String(
        required=True, load_only=True, validate=[validate.Length(max=PASSWORD_MAX), valid_unicode]
    )


class UserCreateSchema(StrictSchema):
    email = fields.String(
        required=True,
        validate=[
            validate.Length(max=320),
            validate.Regexp(EMAIL_PATTERN, error="not a valid email address"),
            valid_unicode,
        ],
    )
    password = NewPassword()
    full_name = Text(max_length=255, allow_none=True)


class UserSchema(ma.Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    full_name = fields.String(allow_none=True)
    is_active = fields.Boolean(required=True)
    is_superuser = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class TokenRequestSchema(StrictSchema):
    email = fields.String(required=True, validate=[validate.Length(max=320), NO_NUL, valid_unicode])
    password = CurrentPassword()


class PasswordChangeSchema(StrictSchema):
    current_password = CurrentPassword()
    new_password = NewPassword()


class TokenSchema(ma.Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class ItemCreateSchema(StrictSchema):
    title = Text(required=True, min_length=1, max_length=TITLE_MAX)
    description = Text(max_length=DESCRIPTION_MAX, allow_none=True)
    internal_description = Text(max_length=DESCRIPTION_MAX, allow_none=True)


class ItemUpdateSchema(StrictSchema):
    title = Text(min_length=1, max_length=TITLE_MAX)
    description = Text(max_length=DESCRIPTION_MAX, allow_none=True)
    internal_description = Text(max_length=DESCRIPTION_MAX, allow_none=True)


class ItemSchema(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(allow_none=True)
    internal_description = fields.String(
        allow_none=True, metadata={"description": "present only for the item's owner and superusers"}
    )
    owner_id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)

    @ma.post_dump(pass_original=True)
    def hide_internal(self, data, original, **kwargs):
        # Hidden unless the view said this reader may see it (app/api/items.py: reveal).
        if not getattr(original, "reveal_internal", False):
            data.pop("internal_description", None)
        return data


class ItemListQuerySchema(StrictSchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(
        validate=validate.Regexp(CURSOR_PATTERN, error="not a cursor from this API"),
        metadata={"description": "the `next_cursor` of the previous page"},
    )


class ItemPageSchema(ma.Schema):
    items = fields.List(fields.Nested(ItemSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
    next = fields.String(allow_none=True, required=True, metadata={"description": "URL of the next page"})


class ErrorSchema(ma.Schema):
    """Every error body (app/errors.py)."""

    error = fields.String(required=True, metadata={"example": "not_found"})
    message = fields.String(required=True)
    details = fields.Raw(metadata={"description": "per-field validation messages, when there are some"})
