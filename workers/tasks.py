"""Celery tasks: short adapters with their policy on the decorator; the work lives elsewhere.

Tasks take ids and re-read rows. ``acks_late`` with ``reject_on_worker_lost`` means a task
whose worker dies is delivered again; every task is idempotent, so that is always safe.
Waits follow the one retry policy (``commit_digest.retry``): Celery countdowns of at most
``MAX_WAIT`` (below the Redis visibility timeout); longer ones are left to the sweep through
the commit's ``retry_at``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from celery import Task
from celery.signals import (
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
)

from commit_digest.analysis.comments import (
    comment_is_queued,
    comments_enabled,
    publish_comment,
    send_comment_task,
)
from commit_digest.analysis.gate import LLMBusy
from commit_digest.analysis.pipeline import analyze_stored_commit
from commit_digest.analysis.results import RetryLater
from commit_digest.chat.compose import queue_commit_alert
from commit_digest.chat.deliver import deliver_chat
from commit_digest.commands import run_command as run_recorded_command
from commit_digest.compare import fetch_push_commits as record_missing_commits
from commit_digest.intake import fan_out
from commit_digest.logs import configure_logging
from commit_digest.queueing import (
    ANALYZE,
    COMMENT,
    DAILY_REPORT,
    DISPATCH,
    FETCH_PUSH,
    PURGE,
    RUN_COMMAND,
    SEND_CHAT,
    SWEEP,
    publish,
    settings_of,
)
from commit_digest.reporting.job import daily_report_step
from commit_digest.retention import purge_old_deliveries
from commit_digest.retry import ATTEMPTS, MAX_WAIT, TRANSIENT, backoff, wait_before_retry
from commit_digest.runtime import worker_runtime
from commit_digest.sweep import sweep as run_sweep
from commit_digest.timing import (
    ANALYSIS_HARD_LIMIT,
    ANALYSIS_SOFT_LIMIT,
    REPORT_HARD_LIMIT,
    REPORT_SOFT_LIMIT,
)
from report.days import previous_day
from report.errors import SendFailed
from workers.celery_app import app

log = structlog.get_logger(__name__)


@setup_logging.connect
def _setup_logging(**_: Any) -> None:
    settings = settings_of(app)
    configure_logging(settings.log_level, settings.log_format)


@worker_init.connect
def _load_before_fork(**_: Any) -> None:
    """Load what every analysis needs once, before the pool forks: its processes inherit it.

    Loaded lazily, the openai SDK (0.9 s to import here) and the model's token encoding
    (0.35 s to build) were paid by every pool process on its first analysis: a commit that
    met a fresh process waited over a second longer (the pipeline benchmark's p99). Nothing
    here opens a connection or starts a thread, which a fork would not carry over.
    """
    from commit_digest.analysis import llm  # noqa: F401 - the openai SDK and our adapter
    from commit_digest.analysis.tokens import token_counter

    token_counter(settings_of(app).openai_model).count("commit-digest")


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


def _retry(task: Task, error: BaseException) -> Exception:
    """A Celery retry after a transient ``error``, waiting as the retry policy says."""
    wait = wait_before_retry(error, task.request.retries, settings_of(task.app).retry_backoff)
    retry: Exception = task.retry(countdown=min(wait, MAX_WAIT))
    return retry


def _wait(task: Task, countdown: float) -> Exception | None:
    """A Celery retry for short waits; None (the sweep takes over) for long ones."""
    if countdown > MAX_WAIT:
        return None
    retry: Exception = task.retry(countdown=countdown)
    return retry


@app.task(
    name=ANALYZE,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=ANALYSIS_SOFT_LIMIT,
    time_limit=ANALYSIS_HARD_LIMIT,
    max_retries=None,  # the pipeline counts retries and falls back to heuristics itself
)
def analyze_commit(self: Task, commit_id: int) -> None:
    """Analyse one stored commit (by id), store the result and queue its comment."""
    rt = worker_runtime(self.app)
    task_id = self.request.id or f"local-{commit_id}"
    try:
        with rt.metrics.batch():
            result = analyze_stored_commit(
                rt, commit_id, task_id=task_id, retries=self.request.retries
            )
    except LLMBusy as busy:
        # a fresh message, not a Celery retry: waiting for a turn is not an attempt
        publish(self.app, ANALYZE, [commit_id], countdown=busy.countdown)
        return
    except RetryLater as wait:
        retry = _wait(self, wait.countdown)
        if retry is not None:
            raise retry from None
        return
    except TRANSIENT as error:
        # too slow this time, or the database went away (a restart): the claim is ours
        # (same task id) when the retry comes
        raise _retry(self, error) from None
    # the comment's row was written "queued" with the analysis; a redelivered task after a
    # crash before this point finds the analysis stored (no result) and the row still queued
    if comments_enabled(rt) and (result is not None or comment_is_queued(rt, commit_id)):
        send_comment_task(rt, commit_id)
    if result is not None:
        queue_commit_alert(rt, commit_id)  # once per (commit, channel): the outbox keeps it so


@app.task(
    name=COMMENT,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=120,
    time_limit=150,
    max_retries=ATTEMPTS["comment"],
)
def post_comment(self: Task, commit_id: int) -> None:
    """Create or edit the commit's comment on GitHub (never a second one)."""
    try:
        publish_comment(worker_runtime(self.app), commit_id)
    except TRANSIENT as error:
        raise _retry(self, error) from None


@app.task(name=DISPATCH, bind=True, acks_late=True, reject_on_worker_lost=True, time_limit=60)
def dispatch_delivery(self: Task, delivery_id: int) -> None:
    """Fan a push delivery out: one analysis task per new commit, and the compare fetch."""
    fan_out(worker_runtime(self.app), delivery_id)


@app.task(
    name=FETCH_PUSH,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=300,
    time_limit=330,
    max_retries=ATTEMPTS["fetch"],
)
def fetch_push_commits(self: Task, delivery_id: int) -> None:
    """Record the commits a push payload did not list, and queue their analysis."""
    rt = worker_runtime(self.app)
    try:
        new_ids = record_missing_commits(rt, delivery_id)
    except TRANSIENT as error:
        raise _retry(self, error) from None
    publish(rt.celery, ANALYZE, new_ids)


@app.task(
    name=SEND_CHAT,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=60,
    time_limit=90,
    max_retries=ATTEMPTS["chat"],
)
def send_chat(self: Task, outbox_id: int) -> None:
    """Send one chat message of the outbox (never twice, whoever else tries)."""
    rt = worker_runtime(self.app)
    try:
        deliver_chat(rt, outbox_id, rt.installation)
    except TRANSIENT as error:
        raise _retry(self, error) from None


@app.task(
    name=RUN_COMMAND,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=60,
    time_limit=90,
    max_retries=ATTEMPTS["command"],
)
def run_command(self: Task, run_id: int) -> None:
    """Run one /digest command from a comment on a commit (once per comment)."""
    try:
        run_recorded_command(worker_runtime(self.app), run_id)
    except TRANSIENT as error:
        raise _retry(self, error) from None


@app.task(name=PURGE, bind=True, acks_late=True, time_limit=600)
def purge_deliveries(self: Task) -> None:
    """Drop delivery bodies older than DELIVERY_RETENTION_DAYS (commits and analyses stay)."""
    purge_old_deliveries(worker_runtime(self.app), datetime.now(UTC))


@app.task(name=SWEEP, bind=True, acks_late=True, time_limit=120)
def sweep(self: Task) -> None:
    """Queue recorded work that never reached a worker."""
    result = run_sweep(worker_runtime(self.app), datetime.now(UTC))
    counts = {
        "analysis": result.analysis_queued,
        "reanalysis": result.reanalysis_queued,
        "compares": result.compares_queued,
        "comments": result.comments_queued,
    }
    if any(counts.values()):
        log.info("sweep.queued", **counts)


# While analyses of the day are still pending, the report task looks again this often.
REPORT_POLL_SECONDS = 5
REPORT_SEND_RETRIES = ATTEMPTS["report_send"]


@app.task(
    name=DAILY_REPORT,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=REPORT_SOFT_LIMIT,
    time_limit=REPORT_HARD_LIMIT,
    max_retries=None,
)
def send_daily_report(
    self: Task,
    day: str | None = None,
    deadline: str | None = None,
    reconciled: bool = False,
    problems: list[str] | None = None,
    send_attempts: int = 0,
) -> None:
    """Build and email the report of a day (default: yesterday in REPORT_TIMEZONE), once."""
    rt = worker_runtime(self.app)
    now = datetime.now(UTC)
    report_day = date.fromisoformat(day) if day else previous_day(now, rt.settings.report_timezone)
    until = (
        datetime.fromisoformat(deadline)
        if deadline
        else now + timedelta(seconds=rt.settings.report_max_wait)
    )
    try:
        step, reconciled = daily_report_step(
            rt, report_day, deadline=until, now=now, reconciled=reconciled, problems=problems or ()
        )
    except SendFailed as error:  # only transient failures are raised
        if self.request.retries >= REPORT_SEND_RETRIES:
            raise
        raise self.retry(
            countdown=backoff(self.request.retries, rt.settings.retry_backoff),
            # reconciled again (idempotent), so the report still says what it could not check
            kwargs={"day": report_day.isoformat(), "deadline": until.isoformat()},
        ) from error
    log.info("report.daily", status=step.status, day=step.day.isoformat(), pending=step.pending)
    # "in-progress": another run holds the send; if it died, its claim expires (REPORT_SEND_LEASE)
    # and this run takes the send over, so keep looking until then
    if step.status in ("waiting", "in-progress"):
        raise self.retry(
            countdown=REPORT_POLL_SECONDS,
            kwargs={
                "day": report_day.isoformat(),
                "deadline": until.isoformat(),
                "reconciled": reconciled,
                "problems": list(step.problems),
            },
        )
