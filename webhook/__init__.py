"""The web process: GitHub webhook intake, health, metrics and the report pages.

``create_app()`` builds everything; importing this package does no I/O and reads no
environment. Production runs it with ``gunicorn "webhook:create_app()"``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

import redis
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from commit_digest.config import Settings, load_settings
from commit_digest.errors import ConfigError
from commit_digest.logs import configure_logging
from commit_digest.runtime import Runtime

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub's own cap on a delivery
# a request counts in memory; the sums go to Redis at most once a second per process
METRICS_FLUSH_SECONDS = 1.0


def create_app(config: Settings | Mapping[str, str] | None = None) -> Flask:
    """Build the Flask app from ``config`` (settings, a dict of variables, or the environment)."""
    try:
        settings = config if isinstance(config, Settings) else load_settings(config)
        settings.require_webhook_secret()
        if settings.redis_url is None:
            raise ConfigError("REDIS_URL", "is not set; the web process queues work on it")
    except ConfigError as error:
        if config is None:  # started by gunicorn: one line, no traceback
            sys.exit(f"commit-digest: configuration error: {error}")
        raise
    if config is None:
        configure_logging(settings.log_level, settings.log_format, long_lived=True)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    runtime = Runtime.build(settings, pre_ping=False, checkpoint_in_background=True)
    runtime.metrics_flush_interval = METRICS_FLUSH_SECONDS
    app.extensions["commit_digest"] = runtime
    app.extensions["commit_digest_broker"] = redis.Redis.from_url(
        settings.redis_url, socket_connect_timeout=1, socket_timeout=1
    )

    from webhook import health, intake, metrics, pages

    app.register_blueprint(intake.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(metrics.blueprint)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_down)
    app.wsgi_app = intake.FastPath(app)  # type: ignore[method-assign]
    return app


def _http_error(error: HTTPException) -> ResponseReturnValue:
    return jsonify({"error": error.description}), error.code or 500


def _database_down(error: OperationalError) -> ResponseReturnValue:
    from webhook.intake import DATABASE_DOWN

    return jsonify(DATABASE_DOWN), 503
