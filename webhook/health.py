"""``/healthz`` (the process answers) and ``/readyz`` (database and broker reachable)."""

from __future__ import annotations

import redis
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from commit_digest.runtime import Runtime

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> ResponseReturnValue:
    rt: Runtime = current_app.extensions["commit_digest"]
    problems: dict[str, str] = {}
    try:
        with rt.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        problems["database"] = f"unreachable: {type(cause).__name__}"
    broker: redis.Redis = current_app.extensions["commit_digest_broker"]
    try:
        broker.ping()
    except redis.RedisError as error:
        problems["broker"] = f"unreachable: {type(error).__name__}"
    if problems:
        return jsonify({"status": "unavailable", **problems}), 503
    return jsonify({"status": "ready", "database": "ok", "broker": "ok"})
