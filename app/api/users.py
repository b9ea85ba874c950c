"""Users and tokens."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import abort
from sqlalchemy.exc import IntegrityError

from app.api.auth import authenticate, current_user, hash_password, issue_token, login_required
from app.api.docs import BEARER, BODY_ERRORS, ApiBlueprint
from app.api.schemas import TokenRequestSchema, TokenSchema, UserCreateSchema, UserSchema
from app.extensions import db
from app.models import User

bp = ApiBlueprint("users", __name__, url_prefix="/api/v1", description="Users and access tokens")


@bp.post("/users")
@bp.arguments(UserCreateSchema)
@bp.response(201, UserSchema)
@bp.errors(*BODY_ERRORS, 409)
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


@bp.post("/auth/token")
@bp.arguments(TokenRequestSchema)
@bp.response(200, TokenSchema)
@bp.errors(*BODY_ERRORS, 401)
def create_token(body):
    """Exchange email and password for a bearer token."""
    user = authenticate(body["email"], body["password"])
    if user is None:
        # The same answer whether or not the email exists.
        abort(401, message="wrong email or password")
    token, ttl = issue_token(user)
    return {"access_token": token, "token_type": "bearer", "expires_in": ttl}


@bp.get("/users/me")
@login_required
@bp.response(200, UserSchema)
@bp.doc(security=BEARER)
@bp.errors(401)
def me():
    """The authenticated user."""
    return current_user()
