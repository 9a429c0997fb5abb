"""Before a report is built: ask GitHub for the day's commits and analyse any that never came.

A webhook can be missed (the service was down, GitHub gave up, the hook was misconfigured).
For each repository we know, every tracked branch is listed for the report's window and the
commits we have no row for are recorded (landing at their committer date) and queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import structlog
from sqlalchemy import func, select

from commit_digest.config import Settings
from commit_digest.errors import GitHubError, GitHubRateLimited, GitHubUnavailable
from commit_digest.models import Analysis, Commit, Repository
from commit_digest.queueing import ANALYZE, publish
from commit_digest.runtime import Runtime
from commit_digest.storage import insert_new_commits
from report.days import period_window

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ReconcileResult:
    recorded: int
    queued: int
    problems: tuple[str, ...] = field(default_factory=tuple)


def tracked_branches(
    settings: Settings, default_branch: str | None, seen: Sequence[str]
) -> list[str]:
    """The branches (of those known: the default one and ``seen``) whose commits are analysed."""
    if not settings.tracked_branches:
        return [default_branch] if default_branch else []
    names = set(seen) | ({default_branch} if default_branch else set())
    return sorted(n for n in names if settings.branch_is_tracked(n, default_branch))


def reconcile_day(
    rt: Runtime, day: date, repositories: Sequence[str] | None = None, days: int = 1
) -> ReconcileResult:
    """Record and queue the commits of ``day`` (the ``days`` ending with it) on tracked
    branches that never arrived."""
    start, end = period_window(day, days, rt.settings.report_timezone)
    with rt.session() as session:
        statement = select(Repository)
        if repositories:
            statement = statement.where(Repository.full_name.in_(list(repositories)))
        known = list(session.execute(statement).scalars())
        branches_seen = {
            repository.id: [
                branch
                for branch in session.execute(
                    select(Commit.branch).distinct().where(Commit.repository_id == repository.id)
                ).scalars()
                if branch
            ]
            for repository in known
        }
    recorded: list[int] = []
    problems: list[str] = []
    for repository in known:
        github = rt.github(repository.installation_id)
        branches = tracked_branches(
            rt.settings, repository.default_branch, branches_seen[repository.id]
        )
        for branch in branches:
            try:
                commits = github.list_commits(repository.full_name, branch, start, end)
            except (GitHubRateLimited, GitHubUnavailable, GitHubError) as error:
                problems.append(f"{repository.full_name}@{branch}: {error}")
                log.warning(
                    "reconcile.failed",
                    repository=repository.full_name,
                    branch=branch,
                    error=str(error),
                )
                continue
            with rt.session() as session:
                # commits found here land at their committer date (SPEC §7)
                recorded += insert_new_commits(
                    session,
                    repository_id=repository.id,
                    commits=commits,
                    branch=branch,
                    landed_at=None,
                    source="reconcile",
                    delivery_id=None,
                    now=datetime.now(UTC),
                    queued=True,
                )
    queued = publish(rt.celery, ANALYZE, recorded)
    if recorded:
        log.info(
            "reconcile.recorded", day=day.isoformat(), recorded=len(recorded), queued=len(queued)
        )
    return ReconcileResult(recorded=len(recorded), queued=len(queued), problems=tuple(problems))


def pending_in_day(
    rt: Runtime, day: date, repositories: Sequence[str] | None = None, days: int = 1
) -> int:
    """Commits of ``day`` (the ``days`` ending with it) that have no analysis yet."""
    start, end = period_window(day, days, rt.settings.report_timezone)
    statement = (
        select(func.count())
        .select_from(Commit)
        .join(Repository, Repository.id == Commit.repository_id)
        .outerjoin(Analysis, Analysis.commit_id == Commit.id)
        .where(Commit.landed_at >= start, Commit.landed_at < end, Analysis.id.is_(None))
    )
    if repositories:
        statement = statement.where(Repository.full_name.in_(list(repositories)))
    with rt.session() as session:
        return int(session.execute(statement).scalar_one())
