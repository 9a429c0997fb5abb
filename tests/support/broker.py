"""Read what was queued on the real Redis broker, without consuming it through Celery."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import redis

from commit_digest.config import Settings
from commit_digest.queueing import DISPATCH, QUEUES


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
    """Commit ids queued for analysis, once the waiting push deliveries are fanned out.

    The web process queues one dispatch message per push; a worker turns it into one analysis
    per commit with ``commit_digest.intake.fan_out``, which this runs here for each dispatch
    message it takes off the intake queue (nothing else is consumed).
    """
    fan_out_deliveries(settings)
    return [t.args[0] for t in queued_tasks(settings) if t.task == "commit_digest.analyze_commit"]  # type: ignore[misc]


def fan_out_deliveries(settings: Settings) -> list[int]:
    """Take the dispatch messages off the intake queue and fan each out as a worker would."""
    from commit_digest.intake import fan_out
    from commit_digest.runtime import Runtime

    assert settings.redis_url is not None
    client = redis.Redis.from_url(settings.redis_url)
    key = f"{settings.redis_key_prefix or ''}intake"
    kept, delivery_ids = [], []
    while (raw := client.rpop(key)) is not None:  # oldest first
        message = json.loads(raw)
        if message["headers"]["task"] == DISPATCH:
            delivery_ids.append(json.loads(base64.b64decode(message["body"]))[0][0])
        else:
            kept.append(raw)
    for raw in kept:
        client.lpush(key, raw)
    if delivery_ids:
        rt = Runtime.build(settings)
        try:
            for delivery_id in delivery_ids:
                fan_out(rt, delivery_id)
        finally:
            rt.close()
    return delivery_ids


def purge(settings: Settings) -> None:
    assert settings.redis_url is not None
    client = redis.Redis.from_url(settings.redis_url)
    prefix = settings.redis_key_prefix or ""
    for queue in QUEUES:
        client.delete(f"{prefix}{queue}")
