"""WSGI entry point: `gunicorn wsgi:app`, and FLASK_APP for `flask ...` commands."""

import sys

from app import create_app
from config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    # One line for the operator, not a traceback, and the error's exit code (2: a setting that cannot work).
    print(f"configuration error: {exc}", file=sys.stderr)
    raise SystemExit(exc.exit_code) from None
