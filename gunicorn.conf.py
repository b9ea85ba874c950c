"""gunicorn settings for the Procfile's `web:` line. Never migrates: that is the release phase's job."""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"  # noqa: S104 (a dyno must listen on all interfaces)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Logs to stdout/stderr, where the platform collects them.
accesslog = "-"
errorlog = "-"
# Load the app before forking: a configuration error stops the master with one message.
preload_app = True
