"""Publish task ids to the broker; a failure leaves the work to the sweep, never loses it."""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from celery import Celery

log = structlog.get_logger(__name__)

ANALYZE = "commit_digest.analyze_commit"
COMMENT = "commit_digest.post_comment"
FETCH_PUSH = "commit_digest.fetch_push_commits"
SWEEP = "commit_digest.sweep"
DAILY_REPORT = "commit_digest.send_daily_report"


def publish(
    celery: Celery, task: str, ids: Iterable[int], *, countdown: float | None = None
) -> list[int]:
    """Send ``task(id)`` for each id; return the ids that reached the broker."""
    sent: list[int] = []
    for task_id in ids:
        try:
            celery.send_task(task, args=[task_id], countdown=countdown)
        except Exception as error:  # kombu and redis raise many types; all mean "not queued"
            log.warning("queue.publish.failed", task=task, error=type(error).__name__)
            break
        sent.append(task_id)
    return sent
