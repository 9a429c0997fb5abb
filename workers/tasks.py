"""Celery tasks: short adapters with their policy on the decorator; the work lives elsewhere.

Tasks take ids and re-read rows. ``acks_late`` with ``reject_on_worker_lost`` means a task
whose worker dies is delivered again; every task is idempotent so that is always safe.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from celery import Task
from celery.signals import setup_logging, task_postrun, task_prerun, worker_process_init

from workers.analysis.pipeline import analyze_stored_commit
from workers.celery_app import app, settings_of
from workers.logs import configure_logging
from workers.runtime import worker_runtime
from workers.sweep import sweep as run_sweep

log = structlog.get_logger(__name__)


@setup_logging.connect
def _setup_logging(**_: Any) -> None:
    settings = settings_of(app)
    configure_logging(settings.log_level, settings.log_format)


@worker_process_init.connect
def _after_fork(**_: Any) -> None:
    worker_runtime(app)  # fresh engine in each pool process


@task_prerun.connect
def _bind_task(task_id: str | None = None, task: Task | None = None, **_: Any) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task_id=task_id, task=task.name if task else None)


@task_postrun.connect
def _unbind_task(**_: Any) -> None:
    structlog.contextvars.clear_contextvars()


@app.task(
    name="commit_digest.analyze_commit",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=300,
    time_limit=360,
    max_retries=None,
)
def analyze_commit(self: Task, commit_id: int) -> None:
    """Analyse one stored commit (by id) and store the result."""
    rt = worker_runtime(self.app)
    analyze_stored_commit(rt, commit_id, task_id=self.request.id or f"local-{commit_id}")


@app.task(name="commit_digest.sweep", bind=True, acks_late=True, time_limit=120)
def sweep(self: Task) -> None:
    """Queue recorded work that never reached a worker."""
    result = run_sweep(worker_runtime(self.app), datetime.now(UTC))
    if result.analysis_queued:
        log.info("sweep.queued", analysis=result.analysis_queued)
