"""One outbox for what people see: written once per (kind, subject, target), claimed, then sent.

``add`` inserts the row or finds it (a double beat adds nothing); ``claim`` takes a row for
sending unless it was sent, is being sent under a live lease, or failed for good; ``finish``
records the outcome. A crash between the platform taking a message and ``finish`` leaves a
claim that expires after the lease and is sent again: at-least-once in that one window, by
choice, as for the email (a message nobody received is the worse failure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from commit_digest.models import OutboxItem
from commit_digest.storage import insert_ignoring_conflicts, rowcount

Skip = Literal["sent", "in-progress", "failed", "missing"]


@dataclass(frozen=True)
class Claimed:
    """A row taken for sending: what to send and where."""

    id: int
    kind: str
    subject: str
    target: str
    payload: dict[str, Any]
    attempts: int


def add(
    session: Session,
    *,
    kind: str,
    subject: str,
    target: str,
    payload: dict[str, Any],
    now: datetime,
) -> tuple[int, bool]:
    """The row's id, and whether this call created it (False: it was already there)."""
    inserted = session.execute(
        insert_ignoring_conflicts(session, OutboxItem)
        .values(
            kind=kind,
            subject=subject,
            target=target,
            payload=payload,
            state="pending",
            attempts=0,
            created_at=now,
        )
        .returning(OutboxItem.id)
    ).first()
    if inserted is not None:
        return inserted[0], True
    existing = session.execute(
        select(OutboxItem.id).where(
            OutboxItem.kind == kind, OutboxItem.subject == subject, OutboxItem.target == target
        )
    ).scalar_one()
    return existing, False


def claim(session: Session, item_id: int, *, now: datetime, lease: timedelta) -> Claimed | Skip:
    """Take the row for sending, or say why not; a compare-and-set makes one taker win."""
    row = session.get(OutboxItem, item_id)
    if row is None:
        return "missing"
    if row.state == "sent":
        return "sent"
    if row.state == "failed":
        return "failed"
    if row.state == "sending" and row.claimed_at is not None and row.claimed_at > now - lease:
        return "in-progress"
    taken = rowcount(
        session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.id == row.id,
                OutboxItem.state == row.state,
                OutboxItem.attempts == row.attempts,
            )
            .values(state="sending", claimed_at=now, attempts=row.attempts + 1)
        )
    )
    if not taken:
        return "in-progress"
    return Claimed(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        target=row.target,
        payload=dict(row.payload),
        attempts=row.attempts + 1,
    )


def finish(
    session: Session,
    item_id: int,
    state: Literal["sent", "failed", "pending"],
    *,
    now: datetime,
    error: str | None = None,
) -> None:
    """Record the outcome: sent, failed for good, or pending again (a retry will claim it)."""
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == item_id)
        .values(
            state=state,
            error=error[:2_000] if error else None,
            sent_at=now if state == "sent" else None,
            claimed_at=now,
        )
    )


def stale(session: Session, *, now: datetime, older_than: timedelta, limit: int) -> list[int]:
    """Rows nobody is sending: pending or claimed ``older_than`` ago (their message was lost).

    The rows are marked as looked at, so the next sweep does not queue them again at once.
    """
    since = now - older_than
    ids = list(
        session.execute(
            select(OutboxItem.id)
            .where(
                OutboxItem.state.in_(("pending", "sending")),
                func.coalesce(OutboxItem.claimed_at, OutboxItem.created_at) < since,
            )
            .order_by(OutboxItem.id)
            .limit(limit)
        ).scalars()
    )
    if ids:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(ids), OutboxItem.state == "pending")
            .values(claimed_at=now)
        )
    return ids
