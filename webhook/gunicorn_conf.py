"""Gunicorn settings for the web process (``--config python:webhook.gunicorn_conf``).

``--bind`` on the command line wins; without it the web process listens on HOST:PORT like
``commit-digest run`` does.
"""

import os

bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]

# GitHub waits 10 s for an answer; nothing we do in a request should come near that.
timeout = 30
graceful_timeout = 20
keepalive = 5
# Requests are short and CPU-bound (HMAC, JSON, one transaction): sync workers, one per core.
worker_class = "sync"
accesslog = None
