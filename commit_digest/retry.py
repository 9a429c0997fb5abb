"""The one retry policy: what is retried, how often, and how long to wait in between.

- **What.** Only failures that time can cure (``TRANSIENT``): GitHub, the LLM or a chat
  platform unreachable or rate limited, the database gone for a moment (a restart), a task
  that ran out of time. A refusal (bad credentials, a 4xx that is not a rate limit, a
  payload the other side will never take) is not retried: it is reported.
- **How long.** What the other side asked for (``Retry-After``, ``retry-after-ms``, GitHub's
  rate-limit reset) when it said; else exponential backoff from ``RETRY_BACKOFF``
  (15 s, 30 s, 60 s … capped at ``MAX_WAIT``).
- **How often.** ``ATTEMPTS`` per kind of work; the analysis counts its own attempts and
  falls back to the heuristics instead of giving up.
- **Who waits.** Never the client: every client here makes one attempt (the openai SDK with
  ``max_retries=0``) and raises; the Celery task retries with a countdown of at most
  ``MAX_WAIT``, below the broker's visibility timeout; longer waits are kept in the database
  (``retry_at``) and picked up by the sweep.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError

from commit_digest.errors import (
    ChatUnavailable,
    GitHubRateLimited,
    GitHubUnavailable,
    LLMUnavailable,
)

# The longest wait handed to Celery as a countdown (Redis redelivers an unacknowledged message
# after its visibility timeout, 3,600 s); longer ones go through the database and the sweep.
MAX_WAIT = 600.0

# Retries after the first attempt, by kind of work.
ATTEMPTS = {
    "comment": 8,  # a commit comment on GitHub
    "command": 8,  # a /digest command's answer
    "chat": 8,  # a chat message
    "fetch": 10,  # the commits a push payload left out (compare API)
    "github_in_analysis": 3,  # then the analysis uses the delivery's data instead
    "report_send": 10,  # the report email (SMTP)
}

TRANSIENT: tuple[type[BaseException], ...] = (
    GitHubRateLimited,
    GitHubUnavailable,
    LLMUnavailable,
    ChatUnavailable,
    OperationalError,
    SoftTimeLimitExceeded,
)


def backoff(retries: int, base: float = 15.0) -> float:
    """Seconds before retry number ``retries + 1``: base, 2×, 4×, … up to ``MAX_WAIT``."""
    return float(min(base * 2**retries, MAX_WAIT))


def wait_before_retry(error: BaseException, retries: int, base: float) -> float:
    """How long to wait after ``error``: what the other side asked for, else the backoff."""
    asked = getattr(error, "retry_after", None)
    if isinstance(asked, int | float) and math.isfinite(asked) and asked > 0:
        return float(asked)
    return backoff(retries, base)


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds a server asks us to wait: ``retry-after-ms``, or ``Retry-After`` as seconds or
    as an HTTP date; None when it says nothing usable."""
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = lowered.get(name, "").strip()
        if not raw:
            continue
        try:
            seconds = float(raw) / divisor
        except ValueError:
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    raw = lowered.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
