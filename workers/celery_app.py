"""The Celery application that ``celery -A workers worker|beat`` finds.

Creating it does no I/O and reads no environment: its configuration is loaded from
``load_settings()`` the first time Celery asks for it (see ``commit_digest.queueing``).
"""

from __future__ import annotations

import sys
from typing import Any

import structlog
from celery import Celery

from commit_digest.config import load_settings
from commit_digest.errors import ConfigError
from commit_digest.queueing import celery_config
from commit_digest.timing import disagreements

log = structlog.get_logger(__name__)

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
    for line in disagreements(settings):
        log.warning("config.timing.disagree", problem=line)
    sender.conf.update(
        celery_config(settings),
        imports=("workers.tasks",),
        beat_scheduler="workers.beat:LockedScheduler",
    )
