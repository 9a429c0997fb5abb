"""Read what was queued on the real Redis broker, without consuming it through Celery."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import redis

from commit_digest.config import Settings
from commit_digest.queueing import QUEUES


@dataclass(frozen=True)
class QueuedTask:
    queue: str
    task: str
    args: list[object]
    eta: str | None


def queued_tasks(settings: Settings) -> list[QueuedTask]:
    """Every task message waiting in our queues (oldest first)."""
    assert settings.redis_url is not None
    client = redis.Redis.from_url(settings.redis_url)
    prefix = settings.redis_key_prefix or ""
    found = []
    for queue in QUEUES:
        for raw in reversed(client.lrange(f"{prefix}{queue}", 0, -1)):  # LPUSH: newest first
            message = json.loads(raw)
            body = json.loads(base64.b64decode(message["body"]))
            headers = message["headers"]
            found.append(QueuedTask(queue, headers["task"], body[0], headers.get("eta")))
    return found


def analysis_ids(settings: Settings) -> list[int]:
    """Commit ids queued for analysis."""
    return [t.args[0] for t in queued_tasks(settings) if t.task == "commit_digest.analyze_commit"]  # type: ignore[misc]


def purge(settings: Settings) -> None:
    assert settings.redis_url is not None
    client = redis.Redis.from_url(settings.redis_url)
    prefix = settings.redis_key_prefix or ""
    for queue in QUEUES:
        client.delete(f"{prefix}{queue}")
