"""The Celery application: queues, routes, reliability policy and the beat schedule.

``app`` is what ``celery -A workers worker|beat`` finds. Creating it does no I/O and reads no
environment: its configuration is loaded from ``load_settings()`` the first time Celery asks
for it. Web processes and tests build their own configured instance with ``make_celery``.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.schedules import crontab
from kombu import Exchange, Queue

from workers.config import Settings, load_settings
from workers.errors import ConfigError

QUEUES = ("intake", "analysis", "comments", "reports")

# Longest countdown any task asks for; longer waits are kept in the database and re-queued by
# the sweep, because Redis redelivers an unacknowledged message after `visibility_timeout`.
MAX_COUNTDOWN = 600
VISIBILITY_TIMEOUT = 3600

TASK_ROUTES = {
    "commit_digest.analyze_commit": {"queue": "analysis"},
    "commit_digest.post_comment": {"queue": "comments"},
    "commit_digest.fetch_push_commits": {"queue": "intake"},
    "commit_digest.sweep": {"queue": "intake"},
    "commit_digest.send_daily_report": {"queue": "reports"},
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
        "imports": ("workers.tasks",),
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
        "beat_scheduler": "workers.beat:LockedScheduler",
        "beat_max_loop_interval": 5,
        "commit_digest_settings": settings,
    }


def beat_schedule(settings: Settings) -> dict[str, Any]:
    return {
        "daily-report": {
            "task": "commit_digest.send_daily_report",
            "schedule": crontab(hour=settings.report_time.hour, minute=settings.report_time.minute),
        },
        "sweep": {
            "task": "commit_digest.sweep",
            "schedule": timedelta(seconds=settings.sweep_interval),
        },
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


app = Celery("commit_digest", set_as_current=True)


@app.on_configure.connect
def _configure_from_environment(sender: Celery, **_: Any) -> None:
    try:
        settings = load_settings()
    except ConfigError as error:
        sys.exit(f"commit-digest: configuration error: {error}")
    if settings.redis_url is None:
        sys.exit(
            "commit-digest: configuration error: REDIS_URL is not set (the worker needs a broker)"
        )
    sender.conf.update(celery_config(settings))
