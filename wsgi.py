"""WSGI entry point: `gunicorn wsgi:app`, and FLASK_APP for `flask ...` commands."""

from app import create_app
from config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    # One line for the operator, not a traceback.
    raise SystemExit(f"configuration error: {exc}") from None
