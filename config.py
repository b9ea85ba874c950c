"""Application configuration, chosen by the APP_ENV environment variable.

APP_ENV=development (default) | testing | production. DATABASE_URL always wins when set.
Configuration objects read the environment when they are instantiated, not at import time,
so a test can build one from a dict.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from safemigrate.errors import ConfigError, error_summary
from safemigrate.urls import PSYCOPG2_DRIVERNAME, normalise_database_url, safe_url

PROJECT_ROOT = Path(__file__).resolve().parent
# Local state that is never committed: the development database lives here.
INSTANCE_DIR = PROJECT_ROOT / "instance"
# The migration scripts (Flask-Migrate's folder) that the app hands to the toolkit.
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"

# The database URL rules, ConfigError and the one-line error summary are the migration toolkit's;
# the app uses the same ones, so a URL the app accepts is one the release runner accepts.
__all__ = [
    "INSTANCE_DIR",
    "MIGRATIONS_DIR",
    "PROJECT_ROOT",
    "PSYCOPG2_DRIVERNAME",
    "Config",
    "ConfigError",
    "config_from_env",
    "error_summary",
    "normalise_database_url",
    "safe_url",
]


MIN_SECRET_KEY_BYTES = 32


def _whole_number(environ: Mapping[str, str], name: str, default: int, *, minimum: int, unit: str) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or int(raw) < minimum:
        kind = "a positive" if minimum > 0 else "a"
        raise ConfigError(f"{name} must be {kind} whole number{unit}, not {raw[:20]!r}")
    return int(raw)


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    DEBUG = False
    TESTING = False
    # Development and tests may fall back to the embedded PostgreSQL under instance/.
    USE_EMBEDDED_DB = False
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # pre_ping: survive database restarts; connect_timeout: a probe never hangs on an unreachable host.
    # hide_parameters: a failing statement is logged without its values (emails, password hashes).
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {
        "pool_pre_ping": True,
        "connect_args": {"connect_timeout": 5},
        "hide_parameters": True,
    }
    MAX_CONTENT_LENGTH = 1024 * 1024
    # werkzeug's method string: "scrypt" is its default strength (N=32768, r=8, p=1).
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a hash method, not a password)
    # Throttling (app/api/limits.py). memory:// is per process: fine for one development server.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # A shared store (Redis) that stops answering: fail open, to per-process counting of the same limits,
    # until it answers again. Failing closed would turn a cache outage into every user's login outage;
    # failing wide open would leave logins unthrottled; counting per process keeps a limit (the table's
    # times the processes, as without a shared store) and no request waits on a dead store.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # A store error in the after-request step (a failed login's deduction) is logged, never a 500.
    RATELIMIT_SWALLOW_ERRORS = True
    LOGIN_LIMIT_PER_IP = "20 per minute; 200 per hour"
    LOGIN_FAILURES_PER_ACCOUNT = "5 per minute; 30 per hour"
    REGISTER_LIMIT_PER_IP = "10 per hour"
    # OpenAPI document, served at /api/v1/openapi.json
    API_TITLE = "Items API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    def __init__(self, environ: Mapping[str, str] | None = None):
        environ = os.environ if environ is None else environ
        self.SECRET_KEY = environ.get("SECRET_KEY") or self.default_secret_key()
        self.TOKEN_TTL_SECONDS = _whole_number(
            environ, "TOKEN_TTL_SECONDS", 3600, minimum=1, unit=" of seconds"
        )
        # How many proxies (the platform's router: 1) put the client's address in X-Forwarded-For.
        self.TRUSTED_PROXIES = _whole_number(environ, "TRUSTED_PROXIES", 0, minimum=0, unit="")
        self.RATELIMIT_STORAGE_URI = (
            environ.get("RATELIMIT_STORAGE_URI", "").strip() or self.RATELIMIT_STORAGE_URI
        )
        raw_url = environ.get("DATABASE_URL", "").strip()
        # None means "use the embedded server"; the app factory fills it in.
        self.SQLALCHEMY_DATABASE_URI: str | None = (
            normalise_database_url(raw_url).render_as_string(hide_password=False) if raw_url else None
        )
        self.validate()

    def default_secret_key(self) -> str | None:
        # A per-process random key: sessions and tokens do not survive a restart, which is
        # the honest behaviour for a machine that was given no secret.
        return secrets.token_urlsafe(32)

    def validate(self) -> None:
        if self.SQLALCHEMY_DATABASE_URI is None and not self.USE_EMBEDDED_DB:
            raise ConfigError(f"DATABASE_URL must be set when APP_ENV={self.ENV_NAME}")


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True
    USE_EMBEDDED_DB = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    USE_EMBEDDED_DB = True
    # The same algorithm and hash format at 1/32 of the cost: the suite hashes hundreds of passwords
    # (0.15 s of CPU each at full strength). Verification reads the cost from each stored hash.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105 (a hash method, not a password)


class ProductionConfig(Config):
    ENV_NAME = "production"

    def default_secret_key(self) -> str | None:
        return None

    def validate(self) -> None:
        if not self.SECRET_KEY:
            raise ConfigError("SECRET_KEY must be set when APP_ENV=production")
        if len(self.SECRET_KEY.encode()) < MIN_SECRET_KEY_BYTES:
            # The length only: the secret itself is never printed.
            raise ConfigError(
                f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes when APP_ENV=production "
                f"(it has {len(self.SECRET_KEY.encode())}); generate one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        super().validate()


CONFIGS: dict[str, type[Config]] = {
    cls.ENV_NAME: cls for cls in (DevelopmentConfig, TestingConfig, ProductionConfig)
}


def config_from_env(environ: Mapping[str, str] | None = None) -> Config:
    """The configuration APP_ENV asks for, built from the environment."""
    environ = os.environ if environ is None else environ
    name = environ.get("APP_ENV", "development").strip().lower() or "development"
    try:
        config_class = CONFIGS[name]
    except KeyError:
        choices = ", ".join(CONFIGS)
        raise ConfigError(f"APP_ENV={name!r} is not one of: {choices}") from None
    return config_class(environ)
