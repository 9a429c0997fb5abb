"""Work started by a person rather than a webhook: analyse one commit, backfill, replay."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select, update

from commit_digest.analysis.pipeline import analyze_stored_commit
from commit_digest.analysis.results import AnalysisResult, RetryLater
from commit_digest.errors import CommitDigestError
from commit_digest.intake import ignore_reason
from commit_digest.models import Analysis, Commit, Delivery, Repository
from commit_digest.push import PushCommit, RepositoryRef, parse_push
from commit_digest.queueing import ANALYZE, FETCH_PUSH, publish
from commit_digest.reporting.reconcile import tracked_branches
from commit_digest.runtime import Runtime
from commit_digest.storage import ensure_repository, insert_new_commits
from report.days import day_window


def record_commit(rt: Runtime, repository: str, sha: str) -> int:
    """The id of the commit's row, fetching its metadata from GitHub to create it if needed."""
    with rt.session() as session:
        found = session.execute(
            select(Commit.id)
            .join(Repository)
            .where(Repository.full_name == repository, Commit.sha == sha)
        ).scalar_one_or_none()
    if found is not None:
        return int(found)
    fetched = rt.github(None).get_commit(repository, sha)
    now = datetime.now(UTC)
    commit = PushCommit(
        sha=fetched.sha,
        message=fetched.message,
        author_name=fetched.author,
        author_email=None,
        author_login=None,
        committed_at=fetched.committed_at,
        url=None,
        added=tuple(f.path for f in fetched.files if f.status == "added"),
        removed=tuple(f.path for f in fetched.files if f.status == "removed"),
        modified=tuple(f.path for f in fetched.files if f.status not in ("added", "removed")),
    )
    with rt.session() as session:
        repository_id = ensure_repository(
            session, RepositoryRef(repository, None, None, None), None, now
        )
        insert_new_commits(
            session,
            repository_id=repository_id,
            commits=[commit],
            branch=None,
            landed_at=None,
            source="manual",
            delivery_id=None,
            now=now,
            queued=False,
        )
        return int(
            session.execute(
                select(Commit.id).where(
                    Commit.repository_id == repository_id, Commit.sha == fetched.sha
                )
            ).scalar_one()
        )


def analyze_now(
    rt: Runtime, repository: str, sha: str, *, force: bool = False
) -> tuple[int, AnalysisResult | None]:
    """Analyse one commit in this process (``force``: again, even if it has an analysis)."""
    commit_id = record_commit(rt, repository, sha)
    if force:
        with rt.session() as session:
            session.execute(
                update(Analysis)
                .where(Analysis.commit_id == commit_id)
                .values(needs_reanalysis=True)
            )
    task_id = f"cli-{commit_id}-{datetime.now(UTC).timestamp():.0f}"
    result = analyze_stored_commit(rt, commit_id, task_id=task_id, retries=rt.settings.llm_retries)
    return commit_id, result


@dataclass(frozen=True)
class BackfillPlan:
    """The commits a backfill found on GitHub and those of them still without an analysis."""

    repository: str
    branches: tuple[str, ...]
    found: int
    missing: tuple[PushCommit, ...]


def plan_backfill(rt: Runtime, repository: str, since: date, until: date) -> BackfillPlan:
    """List the tracked branches' commits of [since, until] and pick those not analysed yet."""
    zone = rt.settings.report_timezone
    start = day_window(since, zone)[0]
    end = day_window(until, zone)[1]
    github = rt.github(None)
    with rt.session() as session:
        row = session.execute(
            select(Repository).where(Repository.full_name == repository)
        ).scalar_one_or_none()
        seen = (
            [
                b
                for b in session.execute(
                    select(Commit.branch).distinct().where(Commit.repository_id == row.id)
                ).scalars()
                if b
            ]
            if row
            else []
        )
    default = (row.default_branch if row else None) or github.default_branch(repository)
    branches = tracked_branches(rt.settings, default, seen)
    found: dict[str, PushCommit] = {}
    for branch in branches:
        for commit in github.list_commits(repository, branch, start, end):
            found.setdefault(commit.sha, commit)
    with rt.session() as session:
        analysed = set(
            session.execute(
                select(Commit.sha)
                .join(Repository)
                .join(Analysis, Analysis.commit_id == Commit.id)
                .where(Repository.full_name == repository, Commit.sha.in_(list(found)))
            ).scalars()
        )
    missing = tuple(c for sha, c in found.items() if sha not in analysed)
    return BackfillPlan(repository, tuple(branches), len(found), missing)


def record_backfill(rt: Runtime, plan: BackfillPlan) -> list[int]:
    """Store the missing commits (landing at their commit date); return the ids to analyse."""
    now = datetime.now(UTC)
    shas = [c.sha for c in plan.missing]
    with rt.session() as session:
        repository_id = ensure_repository(
            session, RepositoryRef(plan.repository, None, None, None), None, now
        )
        insert_new_commits(
            session,
            repository_id=repository_id,
            commits=plan.missing,
            branch=plan.branches[0] if len(plan.branches) == 1 else None,
            landed_at=None,
            source="backfill",
            delivery_id=None,
            now=now,
            queued=False,
        )
        return list(
            session.execute(
                select(Commit.id)
                .where(Commit.repository_id == repository_id, Commit.sha.in_(shas))
                .order_by(Commit.id)
            ).scalars()
        )


def analyze_recorded(
    rt: Runtime, commit_id: int, *, sleep: Callable[[float], None] = time.sleep
) -> AnalysisResult | None:
    """Analyse a stored commit in this process, waiting out rate limits (a command may sleep)."""
    for attempt in range(20):
        try:
            return analyze_stored_commit(
                rt,
                commit_id,
                task_id=f"cli-{commit_id}",
                retries=max(attempt, rt.settings.llm_retries),
            )
        except RetryLater as wait:
            sleep(min(wait.countdown, 900))
    raise RetryLater(60, "still rate limited after 20 waits")


@dataclass(frozen=True)
class ReplayOutcome:
    delivery: str
    new: int
    requeued: int
    fetching_missing: bool


def replay_delivery(rt: Runtime, guid: str) -> ReplayOutcome:
    """Process a stored delivery again: record what is missing and queue what is unanalysed."""
    with rt.session() as session:
        delivery = session.execute(
            select(Delivery).where(Delivery.guid == guid)
        ).scalar_one_or_none()
        if delivery is None:
            raise CommitDigestError(
                f"no delivery {guid!r} is stored (see the Recent Deliveries of the webhook)"
            )
        if delivery.event != "push" or delivery.body is None:
            raise CommitDigestError(
                f"delivery {guid!r} is a {delivery.event} event: there is nothing to replay"
            )
        delivery_id, received_at, body = delivery.id, delivery.received_at, delivery.body
    push = parse_push(json.loads(zlib.decompress(body)))
    reason = ignore_reason(push, rt.settings)
    if reason is not None:
        raise CommitDigestError(
            f"delivery {guid!r} is ignored under the current settings ({reason})"
        )
    now = datetime.now(UTC)
    with rt.session() as session:
        repository_id = ensure_repository(session, push.repository, push.installation_id, now)
        new_ids = insert_new_commits(
            session,
            repository_id=repository_id,
            commits=push.commits,
            branch=push.branch,
            landed_at=push.pushed_at or received_at,
            source="webhook",
            delivery_id=delivery_id,
            now=now,
            queued=True,
        )
        unanalysed = list(
            session.execute(
                select(Commit.id)
                .outerjoin(Analysis, Analysis.commit_id == Commit.id)
                .where(
                    Commit.repository_id == repository_id,
                    Commit.sha.in_([c.sha for c in push.commits]),
                    Analysis.id.is_(None),
                    Commit.id.not_in(new_ids) if new_ids else Commit.id.is_not(None),
                )
            ).scalars()
        )
        if unanalysed:
            session.execute(update(Commit).where(Commit.id.in_(unanalysed)).values(queued_at=now))
        if push.may_be_incomplete:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id)
                .values(compare_state="pending", compare_queued_at=now)
            )
    publish(rt.celery, ANALYZE, [*new_ids, *unanalysed])
    if push.may_be_incomplete:
        publish(rt.celery, FETCH_PUSH, [delivery_id])
    return ReplayOutcome(guid, len(new_ids), len(unanalysed), push.may_be_incomplete)
