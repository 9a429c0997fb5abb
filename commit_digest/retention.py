"""Delivery bodies are kept DELIVERY_RETENTION_DAYS, then dropped; commits and analyses stay.

A delivery's raw body (the push payload) is what ``replay`` needs, and a little more than an
operator wants to keep for ever: it names people and carries commit messages. The nightly
purge empties the bodies of older deliveries (the rows stay, for the counts and the
duplicate check) and deletes quarantined deliveries past the same age.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, update

from commit_digest.models import Delivery, QuarantinedDelivery
from commit_digest.runtime import Runtime
from commit_digest.storage import rowcount

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Purged:
    bodies: int
    quarantined: int


def purge_old_deliveries(rt: Runtime, now: datetime) -> Purged:
    """Empty the bodies of deliveries older than the retention; delete old quarantined ones."""
    before = now - timedelta(days=rt.settings.delivery_retention_days)
    with rt.session() as session:
        bodies = rowcount(
            session.execute(
                update(Delivery)
                .where(Delivery.received_at < before, Delivery.body.is_not(None))
                .values(body=None)
            )
        )
        quarantined = rowcount(
            session.execute(
                delete(QuarantinedDelivery).where(QuarantinedDelivery.received_at < before)
            )
        )
    log.info("retention.purged", bodies=bodies, quarantined=quarantined, before=before.isoformat())
    return Purged(bodies, quarantined)
