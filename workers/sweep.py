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

from workers.analysis.pipeline import CLAIM_LEASE
from workers.models import Commit
from workers.queueing import ANALYZE, publish
from workers.runtime import Runtime

# A queued commit nobody started for this long is queued again (its message may be gone).
REQUEUE_AFTER = timedelta(minutes=15)
# An analysis that had to fall back (LLM or GitHub unavailable) is tried again this much later,
# up to MAX_ATTEMPTS analyses of the commit in all.
REANALYSE_AFTER = timedelta(minutes=30)
MAX_ATTEMPTS = 12
BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    analysis_queued: int
    compares_queued: int = 0
    reanalysis_queued: int = 0


def commits_to_queue(session: Session, now: datetime, limit: int = BATCH) -> list[int]:
    """Ids of commits without an analysis that no live worker or message is known to hold."""
    due = or_(Commit.retry_at.is_(None), Commit.retry_at <= now)
    not_queued = and_(Commit.queued_at.is_(None), Commit.started_at.is_(None))
    stale_queue = and_(Commit.queued_at < now - REQUEUE_AFTER, Commit.started_at.is_(None))
    dead_claim = Commit.started_at < now - CLAIM_LEASE
    statement = (
        select(Commit.id)
        .where(Commit.analysed_at.is_(None), due, or_(not_queued, stale_queue, dead_claim))
        .order_by(Commit.id)
        .limit(limit)
    )
    return list(session.execute(statement).scalars())


def sweep(rt: Runtime, now: datetime) -> SweepResult:
    with rt.session() as session:
        ids = commits_to_queue(session, now)
        if ids:
            session.execute(update(Commit).where(Commit.id.in_(ids)).values(queued_at=now))
    queued = publish(rt.celery, ANALYZE, ids)
    if len(queued) < len(ids):
        with rt.session() as session:
            session.execute(
                update(Commit).where(Commit.id.in_(ids[len(queued) :])).values(queued_at=None)
            )
    return SweepResult(analysis_queued=len(queued))
