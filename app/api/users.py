"""Users: registration, the caller, and password changes."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import abort
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash

from app.api.auth import current_user, hash_password, issue_token, login_required, revoke_tokens
from app.api.docs import BEARER, BODY_ERRORS, NO_STORE, ApiBlueprint
from app.api.limits import document_throttling, password_change_limits, registration_limits
from app.api.schemas import PasswordChangeSchema, TokenSchema, UserCreateSchema, UserSchema
from app.extensions import db
from app.models import User

bp = ApiBlueprint("users", __name__, url_prefix="/api/v1", description="Users")


@bp.post("/users")
@registration_limits
@bp.arguments(UserCreateSchema)
@bp.response(201, UserSchema)
@bp.errors(*BODY_ERRORS, 409)
@document_throttling(bp)
def create_user(body):
    """Register a user."""
    email = body["email"].strip().lower()
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        abort(409, message="a user with this email already exists")
    user = User(email=email, password_hash=hash_password(body["password"]), full_name=body.get("full_name"))
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # the same email registered concurrently
        db.session.rollback()
        abort(409, message="a user with this email already exists")
    return user


@bp.get("/users/me")
@login_required
@bp.response(200, UserSchema)
@bp.doc(security=BEARER)
@bp.errors(401)
def me():
    """The authenticated user."""
    return current_user()


@bp.post("/users/me/password")
@password_change_limits
@login_required
@bp.arguments(PasswordChangeSchema)
@bp.response(200, TokenSchema)
@bp.doc(security=BEARER)
@bp.errors(*BODY_ERRORS, 401, 403)
@document_throttling(bp)
def change_password(body):
    """Change the caller's password: every older token is revoked; the answer is a new token."""
    user = current_user()
    if not check_password_hash(user.password_hash, body["current_password"]):
        abort(403, message="the current password is wrong")
    user.password_hash = hash_password(body["new_password"])
    revoke_tokens(user)
    db.session.commit()
    token, ttl = issue_token(user)
    return {"access_token": token, "token_type": "bearer", "expires_in": ttl}, 200, NO_STORE
