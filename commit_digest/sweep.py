"""Find work that was recorded but never reached a worker, and queue it again.

Nothing accepted may be lost: a push answered while Redis was down, a message lost with a
Redis that kept nothing, a worker that died holding a claim. The sweep runs every 30 seconds
(beat) and is safe to run concurrently and repeatedly: analysis claims make duplicates no-ops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from commit_digest import outbox
from commit_digest.config import Settings
from commit_digest.models import Analysis, Commit, CommitComment, Delivery
from commit_digest.queueing import ANALYZE, COMMENT, FETCH_PUSH, SEND_CHAT, publish
from commit_digest.runtime import Runtime

# Work queued longer than settings.requeue_after (REQUEUE_AFTER) without being started is
# queued again, and a claim older than settings.claim_lease (ANALYSIS_LEASE) belongs to a
# worker that died. An analysis that had to fall back (LLM or GitHub unavailable) is tried
# again REANALYSE_AFTER later, up to MAX_ATTEMPTS analyses of the commit in all.
REANALYSE_AFTER = timedelta(minutes=30)
MAX_ATTEMPTS = 12
BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    analysis_queued: int
    compares_queued: int = 0
    reanalysis_queued: int = 0
    comments_queued: int = 0


def commits_to_queue(
    session: Session, now: datetime, settings: Settings, limit: int = BATCH
) -> list[int]:
    """Ids of commits without an analysis that no live worker or message is known to hold."""
    due = or_(Commit.retry_at.is_(None), Commit.retry_at <= now)
    not_queued = and_(Commit.queued_at.is_(None), Commit.started_at.is_(None))
    stale_queue = and_(Commit.queued_at < now - settings.requeue_after, Commit.started_at.is_(None))
    dead_claim = Commit.started_at < now - settings.claim_lease
    statement = (
        select(Commit.id)
        .where(Commit.analysed_at.is_(None), due, or_(not_queued, stale_queue, dead_claim))
        .order_by(Commit.id)
        .limit(limit)
    )
    return list(session.execute(statement).scalars())


def commits_to_reanalyse(
    session: Session, now: datetime, settings: Settings, limit: int = BATCH
) -> list[int]:
    """Ids of commits whose fallback analysis is due for another try with the LLM."""
    statement = (
        select(Commit.id)
        .join(Analysis, Analysis.commit_id == Commit.id)
        .where(
            Analysis.needs_reanalysis.is_(True),
            Analysis.updated_at < now - REANALYSE_AFTER,
            Commit.attempts < MAX_ATTEMPTS,
            or_(Commit.queued_at.is_(None), Commit.queued_at < now - REANALYSE_AFTER),
            or_(Commit.started_at.is_(None), Commit.started_at < now - settings.claim_lease),
        )
        .order_by(Commit.id)
        .limit(limit)
    )
    return list(session.execute(statement).scalars())


def deliveries_to_compare(
    session: Session, now: datetime, settings: Settings, limit: int = BATCH
) -> list[int]:
    """Ids of pushes whose compare walk was never queued, or was queued long ago."""
    statement = (
        select(Delivery.id)
        .where(
            Delivery.compare_state == "pending",
            or_(
                Delivery.compare_queued_at.is_(None),
                Delivery.compare_queued_at < now - settings.requeue_after,
            ),
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    return list(session.execute(statement).scalars())


def comments_to_queue(
    session: Session, now: datetime, settings: Settings, limit: int = BATCH
) -> list[int]:
    """Commits whose comment was queued long ago and never posted (the message was lost)."""
    statement = (
        select(CommitComment.commit_id)
        .where(
            CommitComment.state.in_(("queued", "posting")),
            CommitComment.updated_at < now - settings.requeue_after,
        )
        .order_by(CommitComment.commit_id)
        .limit(limit)
    )
    return list(session.execute(statement).scalars())


def sweep(rt: Runtime, now: datetime) -> SweepResult:
    """Queue every kind of recorded work that no message is known to carry."""
    with rt.session() as session:
        settings = rt.settings
        fresh = commits_to_queue(session, now, settings)
        again = commits_to_reanalyse(session, now, settings)
        compares = deliveries_to_compare(session, now, settings)
        comments = comments_to_queue(session, now, settings)
        messages = outbox.stale(session, now=now, older_than=settings.requeue_after, limit=BATCH)
        if fresh or again:
            session.execute(
                update(Commit).where(Commit.id.in_(fresh + again)).values(queued_at=now)
            )
        if compares:
            session.execute(
                update(Delivery).where(Delivery.id.in_(compares)).values(compare_queued_at=now)
            )
        if comments:
            session.execute(
                update(CommitComment)
                .where(CommitComment.commit_id.in_(comments))
                .values(updated_at=now)
            )
    analysed = publish(rt.celery, ANALYZE, fresh + again)
    compared = publish(rt.celery, FETCH_PUSH, compares)
    commented = publish(rt.celery, COMMENT, comments)
    publish(rt.celery, SEND_CHAT, messages)
    unsent = (fresh + again)[len(analysed) :]
    if unsent or len(compared) < len(compares):
        # the broker is down: leave them marked unqueued, for the next sweep
        with rt.session() as session:
            session.execute(update(Commit).where(Commit.id.in_(unsent)).values(queued_at=None))
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(compares[len(compared) :]))
                .values(compare_queued_at=None)
            )
    return SweepResult(
        analysis_queued=len(set(analysed) & set(fresh)),
        compares_queued=len(compared),
        reanalysis_queued=len(set(analysed) & set(again)),
        comments_queued=len(commented),
    )
