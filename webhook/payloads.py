"""Decode a delivery body (JSON or form-encoded ``payload=``) into a JSON object."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import orjson

from commit_digest.errors import CommitDigestError


class BodyError(CommitDigestError):
    """The body is not a JSON object in a content type GitHub uses."""


def decode_body(body: bytes, mimetype: str) -> dict[str, Any]:
    """Return the payload object; raise ``BodyError`` for anything else."""
    if mimetype == "application/x-www-form-urlencoded":
        try:
            fields = parse_qs(body.decode("utf-8"), strict_parsing=False, max_num_fields=10)
        except (UnicodeDecodeError, ValueError):
            raise BodyError("the form body is not valid") from None
        if "payload" not in fields:
            raise BodyError("the form body has no payload field")
        text: str | bytes = fields["payload"][0]
    elif mimetype in ("application/json", "") or mimetype.endswith("+json"):
        text = body
    else:
        raise BodyError(f"content type {mimetype[:80]!r} is neither JSON nor form-encoded")
    try:
        payload = orjson.loads(text)  # a quarter of the standard library's time on a push
    except orjson.JSONDecodeError:
        # what orjson refuses and the standard library reads (lone surrogates, which are
        # stored as U+FFFD; integers past 64 bits) is read the standard library's way
        try:
            payload = json.loads(text)
        except (ValueError, RecursionError):
            raise BodyError("the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BodyError("the body is not a JSON object")
    return payload
