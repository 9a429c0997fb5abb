"""Record the commits of a push that its payload did not list, walking before...after."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy import select, update

from commit_digest.models import Delivery, Repository
from commit_digest.push import ZERO_SHA
from commit_digest.runtime import Runtime
from commit_digest.storage import insert_new_commits

log = structlog.get_logger(__name__)


def fetch_push_commits(rt: Runtime, delivery_id: int) -> list[int]:
    """Walk the compare API for a push flagged as incomplete; return the ids of new commits.

    Errors from GitHub propagate (the task retries); the delivery stays ``pending`` until the
    walk succeeds, so the sweep can queue it again if the task is lost.
    """
    with rt.session() as session:
        row = session.execute(
            select(Delivery, Repository)
            .join(Repository, Repository.id == Delivery.repository_id)
            .where(Delivery.id == delivery_id)
        ).first()
    if row is None or row[0].compare_state != "pending":
        return []
    delivery, repository = row
    assert delivery.after_sha is not None
    assert delivery.ref is not None
    github = rt.github(repository.installation_id)
    # a new branch has no "before": compare with the default branch instead
    base = delivery.before_sha if delivery.before_sha and delivery.before_sha != ZERO_SHA else None
    base = base or repository.default_branch or github.default_branch(repository.full_name)
    commits = github.compare(repository.full_name, base, delivery.after_sha)
    now = datetime.now(UTC)
    with rt.session() as session:
        new_ids = insert_new_commits(
            session,
            repository_id=repository.id,
            commits=commits,
            branch=delivery.ref.removeprefix("refs/heads/"),
            landed_at=delivery.pushed_at or delivery.received_at,
            source="compare",
            delivery_id=delivery.id,
            now=now,
            queued=True,
        )
        session.execute(
            update(Delivery).where(Delivery.id == delivery.id).values(compare_state="done")
        )
    log.info(
        "intake.compare.done",
        repository=repository.full_name,
        listed=len(commits),
        new=len(new_ids),
    )
    return new_ids
