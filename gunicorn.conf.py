"""gunicorn settings for the Procfile's `web:` line. Never migrates: that is the release phase's job.

Slow clients: gunicorn's sync workers serve one connection each, so a client that trickles its body
holds a whole worker (gunicorn's docs: sync workers belong behind a buffering proxy). Here each worker
runs `threads` threads (gthread): a slow connection holds one thread, and the others keep serving.
A flood of more slow connections than workers x threads needs a buffering proxy in front.
"""

import os
import sys

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"  # noqa: S104 (a dyno must listen on all interfaces)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
keepalive = 5
# The longest legitimate request line is under 100 bytes (GET /api/v1/items?limit=100&cursor=...);
# anything much longer is refused by gunicorn itself with its own (HTML) 414.
limit_request_line = 512
limit_request_fields = 50
limit_request_field_size = 8190
# Logs to stdout/stderr, where the platform collects them.
accesslog = "-"
errorlog = "-"
# Load the app before forking: a configuration error stops the master with one message.
preload_app = True


def on_starting(server):
    """A shared throttling store (RATELIMIT_STORAGE_URI) that does not answer stops the server before it
    listens: one line and exit 3. Here rather than in create_app, so `flask` commands (a migration, a
    user's deactivation) never depend on the throttling store."""
    from app.api.limits import require_reachable_storage
    from config import ConfigError

    try:
        require_reachable_storage(server.app.wsgi())
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
