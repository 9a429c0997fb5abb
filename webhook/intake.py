"""``POST /webhooks/github``: verify → parse → record → commit → enqueue ids → answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from flask import Blueprint, Flask, current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError
from werkzeug.exceptions import InternalServerError, RequestEntityTooLarge

from commit_digest.intake import DeliveryInfo, quarantine
from commit_digest.push import PayloadError
from commit_digest.runtime import Runtime
from commit_digest.signature import verify_signature
from webhook.events import handler_for
from webhook.payloads import BodyError, decode_body

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = structlog.get_logger("webhook")
blueprint = Blueprint("intake", __name__)

_HEADER_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def runtime() -> Runtime:
    value: Runtime = current_app.extensions["commit_digest"]
    return value


@blueprint.post("/webhooks/github")
def github_webhook() -> ResponseReturnValue:
    """The deliveries the fast path leaves to Flask: chunked or oversized bodies."""
    answer, status = receive(runtime(), request.headers.get, _read_body(), request.mimetype)
    return current_app.response_class(orjson.dumps(answer), status, mimetype="application/json")


Answer = tuple[dict[str, Any], int]


def receive(rt: Runtime, header: Callable[[str], str | None], body: bytes, mimetype: str) -> Answer:
    """Verify, decode and handle one delivery; return the JSON answer and its status.

    ``header(name)`` reads a request header. Free of Flask, so that the WSGI fast path and the
    Flask view share it; a database that is down raises ``OperationalError`` (a 503 in both).
    """
    signature = header("X-Hub-Signature-256")
    if not verify_signature(body, signature, rt.settings.webhook_secrets):
        log.warning("commit_digest.signature.invalid", present=signature is not None)
        return _error(rt, 401, "invalid or missing X-Hub-Signature-256", "invalid-signature")
    event = header("X-GitHub-Event") or ""
    guid = header("X-GitHub-Delivery") or ""
    if not _HEADER_TOKEN.match(event):
        return _error(rt, 400, "missing or invalid X-GitHub-Event header", "bad-request")
    if not _HEADER_TOKEN.match(guid):
        return _error(rt, 400, "missing or invalid X-GitHub-Delivery header", "bad-request")
    structlog.contextvars.bind_contextvars(delivery=guid, github_event=event)
    try:
        payload = decode_body(body, mimetype)
        hook_id = header("X-GitHub-Hook-ID") or ""
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
        return {"status": "quarantined", "reason": "kept for inspection"}, 202
    finally:
        structlog.contextvars.unbind_contextvars("delivery", "github_event")
    return answer, status


class FastPath:
    """WSGI middleware: a delivery with a Content-Length goes to ``receive`` without Flask.

    Flask's request and response objects, routing and context cost about a tenth of a
    delivery's CPU (benchmarks/RESULTS.md); everything else — other paths, a chunked or
    oversized body — goes on to the Flask app as before.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.flask_wsgi = app.wsgi_app
        self.limit: int = app.config["MAX_CONTENT_LENGTH"]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH", "")
        if (
            environ.get("PATH_INFO") != PATH
            or environ.get("REQUEST_METHOD") != "POST"
            or not length.isdigit()
            or int(length) > self.limit
            or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            return self.flask_wsgi(environ, start_response)
        body = environ["wsgi.input"].read(int(length))
        mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        rt: Runtime = self.app.extensions["commit_digest"]
        try:
            if len(body) < int(length):
                answer, status = _error(
                    rt, 400, "the body ended before its Content-Length", "bad-request"
                )
            else:
                answer, status = receive(
                    rt, lambda name: environ.get(_wsgi_key(name)), body, mimetype
                )
        except OperationalError:
            answer, status = DATABASE_DOWN, 503
        except Exception:
            log.exception("webhook.request.failed")
            answer, status = {"error": InternalServerError.description}, 500
        data = orjson.dumps(answer)
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
        )
        return [data]


PATH = "/webhooks/github"
DATABASE_DOWN = {"error": "the database is unavailable; GitHub can redeliver later"}


@cache
def _wsgi_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


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


def _error(rt: Runtime, status: int, message: str, outcome: str, event: str = "") -> Answer:
    rt.metrics.count("deliveries", event=_event_label(event), outcome=outcome)
    return {"error": message}, status
