"""Throttling with Flask-Limiter: login per client IP and per account, registration per client IP.

Limits are counted in RATELIMIT_STORAGE_URI. memory:// (development, tests) counts per process: under
gunicorn every worker of every dyno counts on its own, so production wants a shared store
(redis://, memcached://); without one the app warns at start-up. Limit strings are read from the
configuration on every request ("5 per minute; 30 per hour", Flask-Limiter's notation).

A shared store that stops answering fails open to per-process counting (config.py,
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED): the same limits, counted in each process until the store answers
again, announced by one line in the log. A URI that cannot work stops the app at start-up (ConfigError:
wsgi.py's one line, exit 1), and one that does not answer stops the web server before it listens (exit 3).
"""

from __future__ import annotations

import hashlib
import logging
import re

from flask import Flask, current_app, request
from flask.logging import default_handler
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.errors import ConfigurationError

from app.api.docs import ApiBlueprint
from app.api.schemas import ErrorSchema
from config import ConfigError, error_summary
from safemigrate.errors import EXIT_UNREACHABLE

limiter = Limiter(key_func=get_remote_address)

PER_PROCESS_STORAGE = "memory://"
# A store that does not answer costs a request at most this long (connect, then each command) before
# the limiter falls back to counting per process; redis-py's default is to wait forever.
STORE_TIMEOUT_SECONDS = 1.0
REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://", "redis+sentinel://", "redis+cluster://")
# Flask-Limiter's logger: it has only a NullHandler, so its "storage unreachable" warning went nowhere.
LIMITER_LOGGER = "flask-limiter"


class StorageUnreachable(ConfigError):
    """The shared store does not answer when the web server starts."""

    exit_code = EXIT_UNREACHABLE


def masked_uri(uri: str) -> str:
    """The URI as it may be printed: a password (redis://:secret@host, redis://user:secret@host) is ***."""
    return re.sub(r"([/:][^/:@]*:)[^@]*@", r"\1***@", uri)


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


class OneLine(logging.Filter):
    """Flask-Limiter logs a failed deduction or header update with its traceback (logger.exception):
    the operator gets one line, the exception's first line appended, and no stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}: {error_summary(record.exc_info[1])}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def _route_limiter_log() -> None:
    logger = logging.getLogger(LIMITER_LOGGER)
    if default_handler not in logger.handlers:
        # The app's own handler and format (stderr, collected by the platform), at the level the process
        # sets (WARNING by default): its INFO lines are one per throttled request, a flood in an attack.
        logger.addHandler(default_handler)
        logger.addFilter(OneLine())


def _unusable(uri: str, exc: Exception) -> str:
    text = str(exc)
    if "prerequisite not available" in text:
        return "its driver is not installed (pin it in requirements.txt)"
    if "unknown storage scheme" in text:
        return "unknown scheme: use memory://, redis://, rediss:// or memcached://"
    # Whatever else the driver says, without the URI it may quote (password included).
    return error_summary(exc).replace(uri, masked_uri(uri))


def register_limiter(app: Flask) -> None:
    _route_limiter_log()
    uri = app.config["RATELIMIT_STORAGE_URI"]
    if uri.startswith(REDIS_SCHEMES):
        options = {"socket_connect_timeout": STORE_TIMEOUT_SECONDS, "socket_timeout": STORE_TIMEOUT_SECONDS}
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", options)
    try:
        limiter.init_app(app)
    except (ConfigurationError, ValueError) as exc:
        raise ConfigError(
            f"RATELIMIT_STORAGE_URI={masked_uri(uri)} cannot be used: {_unusable(uri, exc)}"
        ) from None
    if (
        app.config.get("ENV_NAME") == "production"
        and app.config["RATELIMIT_STORAGE_URI"] == PER_PROCESS_STORAGE
    ):
        app.logger.warning(
            "RATELIMIT_STORAGE_URI is not set: login and registration limits are counted per process, "
            "so they multiply by gunicorn workers x dynos; set it to redis://... or memcached://..."
        )


def require_reachable_storage(app: Flask) -> None:
    """The web server's start (gunicorn.conf.py): a shared store that does not answer now is, far more
    often than an outage, a wrong host, password or scheme; counting per process in silence until
    someone notices would hide it, so the server does not start (StorageUnreachable, exit 3)."""
    uri = app.config["RATELIMIT_STORAGE_URI"]
    if uri.startswith(PER_PROCESS_STORAGE):
        return
    storage = limiter.storage
    # RedisStorage.check() swallows the reason; asking the connection itself keeps it.
    connection = getattr(storage, "get_connection", None)
    try:
        answered = bool(connection().ping()) if connection else storage.check()
        reason = "no answer"
    except Exception as exc:  # noqa: BLE001 (any driver error means the same: it does not answer)
        answered, reason = False, error_summary(exc).replace(uri, masked_uri(uri))
    if not answered:
        raise StorageUnreachable(f"RATELIMIT_STORAGE_URI={masked_uri(uri)} does not answer: {reason}")
