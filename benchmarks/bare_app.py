"""The ingest benchmark's baseline: a Flask app that answers every delivery 202 and does nothing.

Served by gunicorn exactly as the real app is (same config, same workers), so the difference
between the two is the work commit-digest does per delivery.
"""

from __future__ import annotations

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue


def create_app() -> Flask:
    """Build the do-nothing app (``gunicorn "benchmarks.bare_app:create_app()"``)."""
    app = Flask(__name__)

    @app.post("/webhooks/github")
    def github_webhook() -> ResponseReturnValue:
        return jsonify({"status": "accepted"}), 202

    return app
