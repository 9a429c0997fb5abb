"""One rule for everything behind ACCESS_TOKEN (the report pages, the JSON API, /metrics).

Unset: refused with 403 and what to set (``commit-digest run`` always sets one). Set: the
token from ``Authorization: Bearer …`` or, for a browser, ``?token=…``, compared in constant
time; anything else is 401.
"""

from __future__ import annotations

import hmac

from flask import Request, jsonify
from flask.typing import ResponseReturnValue


def refused(expected: str | None, request: Request) -> ResponseReturnValue | None:
    """The error answer when ``request`` may not see what ACCESS_TOKEN guards, else None."""
    if not expected:
        return jsonify({"error": "disabled: set ACCESS_TOKEN to open the pages and /metrics"}), 403
    given = request.args.get("token", "")
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        given = header.removeprefix("Bearer ").strip()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        response = jsonify({"error": "a valid ACCESS_TOKEN is required (Authorization: Bearer …)"})
        response.headers["WWW-Authenticate"] = 'Bearer realm="commit-digest"'
        return response, 401
    return None
