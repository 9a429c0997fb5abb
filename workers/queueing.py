"""Publish task ids to the broker; a failure leaves the work to the sweep, never loses it."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from celery import Celery

log = structlog.get_logger(__name__)

ANALYZE = "commit_digest.analyze_commit"
COMMENT = "commit_digest.post_comment"
FETCH_PUSH = "commit_digest.fetch_push_commits"
SWEEP = "commit_digest.sweep"
DAILY_REPORT = "commit_digest.send_daily_report"


def publish(
    celery: Celery, task: str, ids: Sequence[int], *, countdown: float | None = None
) -> list[int]:
    """Send ``task(id)`` for each id in one round trip; return the ids that reached the broker.

    The messages go out together (kombu's publish batch: one Redis pipeline), so it is all
    or nothing: on failure nothing was queued and the caller leaves the ids to the sweep.
    """
    if not ids:
        return []
    try:
        with celery.producer_or_acquire() as producer, producer.batch():
            for task_id in ids:
                celery.send_task(task, args=[task_id], countdown=countdown, producer=producer)
    except Exception as error:  # kombu and redis raise many types; all mean "not queued"
        log.warning("queue.publish.failed", task=task, count=len(ids), error=type(error).__name__)
        return []
    return list(ids)
