"""The broker side of the core: task and queue names, Celery's configuration, publishing.

Every name a message carries is defined here once. The worker (``workers.celery_app``) and
every publisher (web process, commands) build their Celery instance from ``celery_config``;
a publish failure leaves the work to the sweep, never loses it.
"""

from __future__ import annotations

import base64
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import orjson
import redis
import structlog
from celery import Celery
from celery.schedules import crontab
from kombu import Exchange, Queue

from commit_digest.config import Settings

log = structlog.get_logger(__name__)

ANALYZE = "commit_digest.analyze_commit"
# one message per push delivery: the worker fans it out into ANALYZE (and FETCH_PUSH)
DISPATCH = "commit_digest.dispatch_delivery"
COMMENT = "commit_digest.post_comment"
FETCH_PUSH = "commit_digest.fetch_push_commits"
SWEEP = "commit_digest.sweep"
DAILY_REPORT = "commit_digest.send_daily_report"
SEND_CHAT = "commit_digest.send_chat"
RUN_COMMAND = "commit_digest.run_command"
PURGE = "commit_digest.purge_deliveries"

QUEUES = ("intake", "analysis", "comments", "reports")

# Redis redelivers an unacknowledged message after this; every countdown is shorter (retry.py)
VISIBILITY_TIMEOUT = 3600

TASK_ROUTES = {
    ANALYZE: {"queue": "analysis"},
    DISPATCH: {"queue": "intake"},
    COMMENT: {"queue": "comments"},
    FETCH_PUSH: {"queue": "intake"},
    SWEEP: {"queue": "intake"},
    DAILY_REPORT: {"queue": "reports"},
    # chat messages are outward side effects like comments: the same workers send them
    SEND_CHAT: {"queue": "comments"},
    RUN_COMMAND: {"queue": "comments"},
    PURGE: {"queue": "intake"},
}


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings derived from ours (see SPEC §6 for the reliability policy)."""
    transport: dict[str, Any] = {
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
        "health_check_interval": 25,
    }
    if settings.redis_key_prefix:
        transport["global_keyprefix"] = settings.redis_key_prefix
    return {
        "broker_url": settings.redis_url,
        "broker_transport_options": transport,
        "broker_connection_retry_on_startup": True,
        "result_backend": None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "worker_concurrency": settings.worker_concurrency,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "task_queues": [
            Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES
        ],
        "task_default_queue": "analysis",
        "task_default_exchange": "analysis",
        "task_default_routing_key": "analysis",
        "task_routes": TASK_ROUTES,
        # The web process must answer even when Redis is down: publish once, fail fast, and
        # leave the commit to the sweep.
        "task_publish_retry": False,
        "timezone": settings.report_timezone.key,
        "enable_utc": True,
        "beat_schedule": beat_schedule(settings),
        "beat_max_loop_interval": 5,
        "commit_digest_settings": settings,
    }


def beat_schedule(settings: Settings) -> dict[str, Any]:
    return {
        "daily-report": {
            "task": DAILY_REPORT,
            # weekly: Mondays, for the week (Monday to Sunday) that ended the day before
            "schedule": crontab(
                hour=settings.report_time.hour,
                minute=settings.report_time.minute,
                day_of_week="mon" if settings.report_period == "weekly" else "*",
            ),
        },
        "sweep": {
            "task": SWEEP,
            "schedule": timedelta(seconds=settings.sweep_interval),
        },
        "purge-deliveries": {"task": PURGE, "schedule": crontab(hour=3, minute=27)},
    }


def make_celery(settings: Settings) -> Celery:
    """Build a Celery instance that publishes tasks by name and fails fast when Redis is down.

    Web processes and commands use it: a publish that cannot reach Redis fails at once (one
    connection attempt, no reconnect loop) so the request is answered and the sweep queues
    the work later. Workers keep Celery's reconnecting defaults.
    """
    celery = Celery("commit_digest", set_as_current=False)
    config = celery_config(settings)
    config["broker_transport_options"] = {**config["broker_transport_options"], "max_retries": 0}
    celery.conf.update(config)
    return celery


def settings_of(celery: Celery) -> Settings:
    settings: Settings = celery.conf["commit_digest_settings"]
    return settings


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


class DirectPublisher:
    """The request path's publisher: one task message written with one LPUSH.

    It writes what Celery's ``send_task`` writes to a Redis broker (task message protocol 2,
    kombu's Redis envelope; a test compares the two) without Celery's per-message machinery or
    kombu's exchange lookup, which cost the webhook ~0.5 ms and a second round trip per
    message. Like ``publish`` it fails fast and says so: the caller leaves the work to the sweep.
    """

    def __init__(self, settings: Settings) -> None:
        self._prefix = settings.redis_key_prefix or ""
        self._url = settings.redis_url
        self._client: redis.Redis | None = None
        self._origin = f"gen{os.getpid()}@{socket.gethostname()}"

    def _redis(self) -> redis.Redis:
        if self._client is None:
            if self._url is None:
                raise redis.ConnectionError("REDIS_URL is not set")
            self._client = redis.Redis.from_url(
                self._url, socket_connect_timeout=2, socket_timeout=10
            )
        return self._client

    def publish(self, task: str, task_arg: int) -> bool:
        """Queue ``task(task_arg)``; False when the broker could not be reached."""
        queue = TASK_ROUTES[task]["queue"]
        try:
            self._redis().lpush(
                self._prefix + queue, task_message(task, [task_arg], queue, self._origin)
            )
        except redis.RedisError as error:
            log.warning("queue.publish.failed", task=task, count=1, error=type(error).__name__)
            return False
        return True


_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


def task_message(task: str, args: list[Any], queue: str, origin: str) -> bytes:
    """Celery's task message (protocol 2) in kombu's Redis envelope, as JSON bytes."""
    task_id = str(uuid.uuid4())
    body = orjson.dumps([args, {}, _EMBED])
    envelope = {
        "body": base64.b64encode(body).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py",
            "task": task,
            "id": task_id,
            "shadow": None,
            "eta": None,
            "expires": None,
            "group": None,
            "group_index": None,
            "retries": 0,
            "timelimit": [None, None],
            "root_id": task_id,
            "parent_id": None,
            "argsrepr": repr(args),
            "kwargsrepr": "{}",
            "origin": origin,
            "ignore_result": None,
            "replaced_task_nesting": 0,
            "stamped_headers": None,
            "stamps": {},
        },
        "properties": {
            "correlation_id": task_id,
            "reply_to": None,
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    return orjson.dumps(envelope)
