"""WSGI entry point: `gunicorn wsgi:app`, and FLASK_APP for `flask ...` commands."""

from app import create_app
from config import ConfigError
from safemigrate.errors import source_origin

try:
    app = create_app()
except ConfigError as exc:
    # One line for the operator, not a traceback.
    raise SystemExit(f"configuration error: {exc}") from None
except Exception as exc:  # noqa: BLE001 (a typo in app/models.py: the file and line to fix, not a traceback)
    raise SystemExit(f"cannot load the app: {source_origin(exc)}") from None
