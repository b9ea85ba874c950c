"""Throttling with Flask-Limiter: login per client IP and per account, registration per client IP.

Limits are counted in RATELIMIT_STORAGE_URI. memory:// (development, tests) counts per process: under
gunicorn every worker of every dyno counts on its own, so production wants a shared store
(redis://, memcached://); without one the app warns at start-up. Limit strings are read from the
configuration on every request ("5 per minute; 30 per hour", Flask-Limiter's notation).
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.api.docs import ApiBlueprint
from app.api.schemas import ErrorSchema

limiter = Limiter(key_func=get_remote_address)

PER_PROCESS_STORAGE = "memory://"


def _configured(name: str):
    return lambda: current_app.config[name]


def account_key() -> str:
    """The account a login names, hashed (no email in the limiter's storage), or the IP if none."""
    body = request.get_json(silent=True)  # bounded parser: never raises
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email.strip():
        return f"no-account:{get_remote_address()}"
    digest = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
    return f"account:{digest}"


def _failed_login(response) -> bool:
    return response.status_code == 401


def login_limits(view):
    """Every attempt counts per IP; only failures count per account (a user who signs in is not
    locked out by their own successes)."""
    view = limiter.limit(_configured("LOGIN_LIMIT_PER_IP"))(view)
    view = limiter.limit(
        _configured("LOGIN_FAILURES_PER_ACCOUNT"), key_func=account_key, deduct_when=_failed_login
    )(view)
    return view


def password_change_limits(view):
    """Guessing the current password with a stolen token costs like guessing at login."""
    return limiter.limit(_configured("LOGIN_LIMIT_PER_IP"))(view)


def registration_limits(view):
    return limiter.limit(_configured("REGISTER_LIMIT_PER_IP"))(view)


def document_throttling(blueprint: ApiBlueprint):
    """The 429 answer in the OpenAPI document, with its Retry-After header."""
    return blueprint.alt_response(
        429,
        schema=ErrorSchema,
        description="Too many requests: wait Retry-After seconds",
        headers={"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    )


def register_limiter(app: Flask) -> None:
    limiter.init_app(app)
    if (
        app.config.get("ENV_NAME") == "production"
        and app.config["RATELIMIT_STORAGE_URI"] == PER_PROCESS_STORAGE
    ):
        app.logger.warning(
            "RATELIMIT_STORAGE_URI is not set: login and registration limits are counted per process, "
            "so they multiply by gunicorn workers x dynos; set it to redis://... or memcached://..."
        )
