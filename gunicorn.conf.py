"""gunicorn settings for the Procfile's `web:` line. Never migrates: that is the release phase's job.

Slow clients: gunicorn's sync workers serve one connection each, so a client that trickles its body
holds a whole worker (gunicorn's docs: sync workers belong behind a buffering proxy). Here each worker
runs `threads` threads (gthread): a slow connection holds one thread, and the others keep serving.
A flood of more slow connections than workers x threads needs a buffering proxy in front.
"""

import os

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
