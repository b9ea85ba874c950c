"""Passwords, signed bearer tokens, and the current user."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import current_app, g, request
from flask_smorest import abort
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from app.api.pagination import MAX_ID
from app.extensions import db
from app.models import User

TOKEN_SALT = "api-access-token"  # noqa: S105 (a namespace for signatures, not a secret)


@functools.cache
def _dummy_hash(method: str) -> str:
    """Hashed once, so a login for an unknown email costs the same time as a wrong password.
    Lazily: scrypt at import would slow every `flask` command and runner start by ~0.3 s."""
    return generate_password_hash("not-a-real-password", method=method)


def hash_password(password: str) -> str:
    # PASSWORD_HASH_METHOD: werkzeug's default scrypt, cheaper parameters under TestingConfig only.
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def issue_token(user: User) -> tuple[str, int]:
    """A token for `user`'s current token version: bumping the version revokes it."""
    ttl = current_app.config["TOKEN_TTL_SECONDS"]
    return _serializer().dumps({"sub": user.id, "ver": user.token_version}), ttl


def revoke_tokens(user: User) -> None:
    """Revoke every token issued to `user` so far (the caller commits)."""
    user.token_version = User.token_version + 1


def _is_int_in(value, low: int, high: int) -> bool:
    # type(), not isinstance(): True is an int to Python, and {"sub": true} must not find user 1.
    return type(value) is int and low <= value <= high


def _unauthorized(message: str):
    abort(401, message=message, headers={"WWW-Authenticate": 'Bearer realm="api"'})


def user_from_request() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        _unauthorized("missing bearer token")
    try:
        payload = _serializer().loads(token.strip(), max_age=current_app.config["TOKEN_TTL_SECONDS"])
    except SignatureExpired:
        _unauthorized("token expired")
    except BadSignature:
        _unauthorized("invalid token")
    # Only a holder of SECRET_KEY can sign a payload, but its types are still checked, never trusted.
    if not isinstance(payload, dict) or not (
        _is_int_in(payload.get("sub"), 1, MAX_ID) and _is_int_in(payload.get("ver"), 0, MAX_ID)
    ):
        _unauthorized("invalid token")
    # populate_existing: the row as it is now, even if this session saw the user before.
    user = db.session.get(User, payload["sub"], populate_existing=True)
    if user is None or not user.is_active:
        _unauthorized("invalid token")
    if user.token_version != payload["ver"]:
        _unauthorized("token revoked")
    return user


def login_required(view):
    """Authenticate every request: the user is re-read and must still be active."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.current_user = user_from_request()
        return view(*args, **kwargs)

    return wrapper


def current_user() -> User:
    return g.current_user
