"""``POST /webhooks/github``: verify → parse → record → commit → enqueue ids → answer."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import orjson
import structlog
from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError
from werkzeug.exceptions import RequestEntityTooLarge

from commit_digest.intake import DeliveryInfo, quarantine
from commit_digest.push import PayloadError
from commit_digest.runtime import Runtime
from commit_digest.signature import verify_signature
from webhook.events import handler_for
from webhook.payloads import BodyError, decode_body

log = structlog.get_logger("webhook")
blueprint = Blueprint("intake", __name__)

_HEADER_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def runtime() -> Runtime:
    value: Runtime = current_app.extensions["commit_digest"]
    return value


@blueprint.post("/webhooks/github")
def github_webhook() -> ResponseReturnValue:
    rt = runtime()
    body = _read_body()
    signature = request.headers.get("X-Hub-Signature-256")
    if not verify_signature(body, signature, rt.settings.webhook_secrets):
        log.warning("commit_digest.signature.invalid", present=signature is not None)
        return _error(rt, 401, "invalid or missing X-Hub-Signature-256", "invalid-signature")
    event = request.headers.get("X-GitHub-Event", "")
    guid = request.headers.get("X-GitHub-Delivery", "")
    if not _HEADER_TOKEN.match(event):
        return _error(rt, 400, "missing or invalid X-GitHub-Event header", "bad-request")
    if not _HEADER_TOKEN.match(guid):
        return _error(rt, 400, "missing or invalid X-GitHub-Delivery header", "bad-request")
    structlog.contextvars.bind_contextvars(delivery=guid, github_event=event)
    try:
        payload = decode_body(body, request.mimetype)
        hook_id = request.headers.get("X-GitHub-Hook-ID", "")
        info = DeliveryInfo(
            guid=guid,
            event=event,
            received_at=datetime.now(UTC),
            body=body,
            hook_id=hook_id if _HEADER_TOKEN.match(hook_id) else "",
        )
        answer, status = handler_for(event)(rt, info, payload)
        outcome = str(answer.get("reason") or answer.get("status"))
        rt.metrics.count("deliveries", event=_event_label(event), outcome=outcome)
    except (BodyError, PayloadError) as error:
        log.info("webhook.payload.invalid", reason=str(error))
        return _error(rt, 400, str(error), "bad-request", event)
    except (DataError, IntegrityError, ProgrammingError) as error:
        # not the database being down (that is OperationalError: 503, GitHub redelivers) but
        # a value it will never take: redelivery cannot cure it, so keep the body for a person
        reason = f"{type(error).__name__}: {str(error.orig).splitlines()[0][:300]}"
        rt.in_transaction(lambda connection: quarantine(connection, info, reason))
        log.error("webhook.delivery.quarantined", reason=reason)
        rt.metrics.count("deliveries", event=_event_label(event), outcome="quarantined")
        return jsonify({"status": "quarantined", "reason": "kept for inspection"}), 202
    finally:
        structlog.contextvars.unbind_contextvars("delivery", "github_event")
    # the answer's few keys and numbers, written by orjson into the response directly
    return current_app.response_class(orjson.dumps(answer), status, mimetype="application/json")


READ_CHUNK = 1 << 16


def _read_body() -> bytes:
    """The raw body, at most MAX_CONTENT_LENGTH bytes, else 413 — whether or not it is chunked.

    With a Content-Length werkzeug refuses an oversized body before reading it. A chunked body
    has none: it is read a chunk at a time and refused as soon as it passes the cap, never
    buffered whole (werkzeug would cut it at the cap, and the signature would then fail: 401).
    """
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None:
        return request.get_data(cache=False)
    stream = request.environ["wsgi.input"]
    pieces: list[bytes] = []
    size = 0
    while chunk := stream.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise RequestEntityTooLarge()
        pieces.append(chunk)
    return b"".join(pieces)


def _event_label(event: str) -> str:
    """Bounded label values: the events we handle by name, every other one as "other"."""
    return event if event in ("push", "ping") else "other"


def _error(
    rt: Runtime, status: int, message: str, outcome: str, event: str = ""
) -> ResponseReturnValue:
    rt.metrics.count("deliveries", event=_event_label(event), outcome=outcome)
    return jsonify({"error": message}), status
