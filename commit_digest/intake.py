"""Record what a delivery brings, in one transaction, before the webhook answers."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, update

from commit_digest.config import Settings
from commit_digest.models import COMMITS, DELIVERIES, QuarantinedDelivery
from commit_digest.push import Push
from commit_digest.storage import (
    Executor,
    RepositoryCache,
    ensure_repository,
    insert_ignoring_conflicts,
    insert_new_commits,
)


@dataclass(frozen=True)
class DeliveryInfo:
    """The headers and raw body of one webhook delivery."""

    guid: str
    event: str
    received_at: datetime
    body: bytes = field(repr=False)
    hook_id: str = ""

    @property
    def body_key(self) -> str:
        """What makes a delivery the same one again: the hook and the exact signed body."""
        return hashlib.sha256(self.hook_id.encode() + b"\n" + self.body).hexdigest()


@dataclass(frozen=True)
class PushOutcome:
    """What recording a push did; ``commit_ids`` are the new commits to analyse."""

    status: str  # accepted, ignored, duplicate
    reason: str | None = None
    delivery_id: int | None = None
    commit_ids: tuple[int, ...] = ()
    known: int = 0
    fetch_missing: bool = False


def claim_delivery(session: Executor, info: DeliveryInfo, **columns: object) -> int | None:
    """Insert the delivery row; None when this delivery, or its very body, was recorded before.

    A signed body replayed under fresh delivery ids is the same delivery: the unique body
    key turns it into a duplicate, so it records nothing and calls nothing again.
    """
    table = DELIVERIES
    statement = (
        insert_ignoring_conflicts(session, table)
        .values(
            guid=info.guid,
            event=info.event,
            received_at=info.received_at,
            body_key=info.body_key,
            **columns,
        )
        .returning(table.c.id)
    )
    return session.execute(statement).scalar_one_or_none()


def ignore_reason(push: Push, settings: Settings) -> str | None:
    """Why this push records no commits, or None when its commits are analysed."""
    if push.is_tag:
        return "tag"
    if push.branch is None:
        return "not-a-branch"
    if push.is_deletion:
        return "branch-deleted"
    if push.is_merge_queue:
        return "merge-queue"
    if not settings.branch_is_tracked(push.branch, push.repository.default_branch):
        return "untracked-branch"
    return None


def record_push(
    session: Executor,
    settings: Settings,
    info: DeliveryInfo,
    push: Push,
    repositories: RepositoryCache | None = None,
) -> PushOutcome:
    """Record the delivery and its new commits; the caller commits, then enqueues."""
    reason = ignore_reason(push, settings)
    fetch_missing = reason is None and push.may_be_incomplete
    repository_id = ensure_repository(
        session, push.repository, push.installation_id, info.received_at, repositories
    )
    delivery_id = claim_delivery(
        session,
        info,
        repository_id=repository_id,
        ref=push.ref,
        before_sha=push.before,
        after_sha=push.after,
        outcome="accepted" if reason is None else f"ignored:{reason}",
        commits_in_payload=len(push.commits),
        pushed_at=push.pushed_at,
        body=zlib.compress(info.body, 1),
        compare_state="pending" if fetch_missing else None,
        compare_queued_at=info.received_at if fetch_missing else None,
    )
    if delivery_id is None:
        return PushOutcome(status="duplicate")
    if reason is not None:
        return PushOutcome(status="ignored", reason=reason, delivery_id=delivery_id)
    new_ids = insert_new_commits(
        session,
        repository_id=repository_id,
        commits=push.commits,
        branch=push.branch,
        # a redelivery days later still lands on the day GitHub says the push happened
        landed_at=push.pushed_at or info.received_at,
        source="webhook",
        delivery_id=delivery_id,
        now=info.received_at,
        queued=True,
    )
    return PushOutcome(
        status="accepted",
        delivery_id=delivery_id,
        commit_ids=tuple(new_ids),
        known=len({c.sha for c in push.commits}) - len(new_ids),
        fetch_missing=fetch_missing,
    )


def record_other_event(session: Executor, info: DeliveryInfo, outcome: str) -> bool:
    """Record a ping or an ignored event; False when it is a redelivery."""
    return claim_delivery(session, info, outcome=outcome) is not None


def mark_not_queued(session: Executor, commit_ids: list[int]) -> None:
    """Forget that these commits were queued (the publish failed), so the sweep picks them up."""
    if commit_ids:
        session.execute(update(COMMITS).where(COMMITS.c.id.in_(commit_ids)).values(queued_at=None))


def quarantine(session: Executor, info: DeliveryInfo, reason: str) -> None:
    """Keep a delivery that could not be stored (its raw body and why) for a person to look at."""
    session.execute(
        insert(QuarantinedDelivery).values(
            guid=info.guid,
            event=info.event,
            reason=reason[:2_000],
            body=info.body,
            received_at=info.received_at,
        )
    )
