"""Gunicorn settings for the web process (``--config python:webhook.gunicorn_conf``)."""

# GitHub waits 10 s for an answer; nothing we do in a request should come near that.
timeout = 30
graceful_timeout = 20
keepalive = 5
# Requests are short and CPU-bound (HMAC, JSON, one transaction): sync workers, one per core.
worker_class = "sync"
accesslog = None
