"""Database URLs as the toolkit accepts and prints them: psycopg2 only, passwords never shown."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from safemigrate.errors import ConfigError

PSYCOPG2_DRIVERNAME = "postgresql+psycopg2"
# Heroku still hands out postgres://; SQLAlchemy 2.1 maps postgresql:// to psycopg 3, which we do not ship.
_SCHEMES_TO_NORMALISE = {"postgres", "postgresql"}


def normalise_database_url(raw: str, *, setting: str = "DATABASE_URL") -> URL:
    """Parse a database URL and pin it to the psycopg2 driver.

    Raises ConfigError (never echoing the password, naming `setting`) for anything that is not a
    PostgreSQL URL.
    """
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError):
        raise ConfigError(f"{setting} is not a valid database URL") from None
    if url.drivername in _SCHEMES_TO_NORMALISE:
        url = url.set(drivername=PSYCOPG2_DRIVERNAME)
    if url.drivername != PSYCOPG2_DRIVERNAME:
        raise ConfigError(
            f"{setting} must be a PostgreSQL URL (postgres://, postgresql://), not {url.drivername}://"
        )
    if not url.database:
        raise ConfigError(f"{setting} names no database")
    return url


def safe_url(url: URL | str) -> str:
    """The URL as it may be printed or logged: password masked."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except (ArgumentError, ValueError):
            return "<unparseable database URL>"
    return url.render_as_string(hide_password=True)
