"""Verify GitHub's ``X-Hub-Signature-256`` over the raw body, before anything is parsed."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value GitHub sends for ``body`` signed with ``secret``."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """Whether ``header`` is a valid signature of ``body`` under any of ``secrets``.

    Every configured secret is tried (rotation), each comparison in constant time.
    """
    if not header or not header.startswith(PREFIX) or len(header) != len(PREFIX) + 64:
        return False
    given = header.encode("utf-8", "surrogateescape")
    valid = False
    for secret in secrets:
        valid |= hmac.compare_digest(sign(body, secret).encode(), given)
    return valid
