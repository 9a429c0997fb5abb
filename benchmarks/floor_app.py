"""The ingest benchmark's second baseline: the least any intake with our guarantee can do.

A bare WSGI callable (not even Flask) that checks the signature, writes the delivery in one
committed statement, puts one message on the broker and answers 202: what the issue calls the
floor of the request path. No parsing, no commits, no repository row, no metrics, no log line.
Served by gunicorn exactly as the real app is, so its rate against the bare Flask app is what
the guarantee itself costs on this machine, and the real app's rate against it is what our own
handling adds.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
import redis
from sqlalchemy.engine import make_url

_TABLE = """
CREATE TABLE IF NOT EXISTS floor_deliveries (
    id bigserial PRIMARY KEY,
    guid text NOT NULL UNIQUE,
    body bytea NOT NULL
)
"""
_JSON = [("Content-Type", "application/json")]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _libpq_url(database_url: str) -> str:
    """DATABASE_URL as psycopg takes it (no ``+psycopg`` driver part)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def create_app() -> WSGIApp:
    """Build the floor app (``gunicorn "benchmarks.floor_app:create_app()"``; PostgreSQL only)."""
    secret = os.environ["GITHUB_WEBHOOK_SECRET"].encode()
    database = psycopg.connect(_libpq_url(os.environ["DATABASE_URL"]), autocommit=True)
    # Every gunicorn worker builds the app: on a new database two of them would race in
    # CREATE TABLE IF NOT EXISTS (one fails on pg_type's unique index and gunicorn halts), so
    # the statement runs under a transaction-scoped advisory lock.
    with database.transaction():
        database.execute("SELECT pg_advisory_xact_lock(hashtext('floor_deliveries'))")
        database.execute(_TABLE)
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    queue = os.environ.get("REDIS_KEY_PREFIX", "") + "floor"

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, environ.get("HTTP_X_HUB_SIGNATURE_256", "")):
            start_response("401 Unauthorized", _JSON)
            return [b'{"status":"bad signature"}']
        row = database.execute(
            "INSERT INTO floor_deliveries (guid, body) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING RETURNING id",
            (environ.get("HTTP_X_GITHUB_DELIVERY", ""), body),
        ).fetchone()
        if row is None:
            start_response("200 OK", _JSON)
            return [b'{"status":"duplicate"}']
        broker.lpush(queue, row[0])
        start_response("202 Accepted", _JSON)
        return [b'{"status":"accepted"}']

    return app
