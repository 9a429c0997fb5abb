"""Post the analysis as a comment on the commit — once, however often the task runs.

PyGithub may have sent a POST whose answer we never saw, and a task may run twice, so the
comment is never created blindly: we look for our marker first and edit our comment if it
is there; after creating one we look again and delete any duplicate a concurrent run made,
keeping the oldest. The result is exactly one comment per commit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import select

from report.comment import is_ours, render_comment
from report.data import Coverage
from report.schema import Analysis
from workers.analysis.github import CommentRef, GitHub
from workers.models import Analysis as AnalysisRow
from workers.models import Commit, CommitComment, Repository
from workers.queueing import COMMENT, publish
from workers.runtime import Runtime
from workers.storage import upsert

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CommentOutcome:
    status: str  # created, edited, unchanged, disabled, no-analysis
    comment_id: int | None = None
    duplicates_removed: int = 0


def comments_enabled(rt: Runtime) -> bool:
    return rt.settings.commit_comments and rt.settings.has_github_credentials


def queue_comment(rt: Runtime, commit_id: int) -> bool:
    """Mark the commit's comment as due and queue it; the sweep re-queues it if this is lost."""
    now = datetime.now(UTC)
    values = {"state": "queued", "updated_at": now}
    with rt.session() as session:
        upsert(session, CommitComment, {"commit_id": commit_id, **values}, ["commit_id"], values)
    return bool(publish(rt.celery, COMMENT, [commit_id]))


def publish_comment(rt: Runtime, commit_id: int) -> CommentOutcome:
    """Create or update the comment of one analysed commit on GitHub."""
    if not comments_enabled(rt):
        return CommentOutcome(status="disabled")
    with rt.session() as session:
        row = session.execute(
            select(Commit.sha, Repository.full_name, Repository.installation_id, AnalysisRow)
            .join(Repository, Repository.id == Commit.repository_id)
            .join(AnalysisRow, AnalysisRow.commit_id == Commit.id)
            .where(Commit.id == commit_id)
        ).first()
    if row is None:
        return CommentOutcome(status="no-analysis")
    sha, repository, installation_id, analysis = row
    body = comment_body(sha, analysis)
    outcome = ensure_single_comment(rt.github(installation_id), repository, sha, body)
    with rt.session() as session:
        values = {
            "github_comment_id": outcome.comment_id,
            "body_sha256": hashlib.sha256(body.encode()).hexdigest(),
            "state": outcome.status,
            "updated_at": datetime.now(UTC),
        }
        upsert(session, CommitComment, {"commit_id": commit_id, **values}, ["commit_id"], values)
    rt.metrics.count("comments", status=outcome.status)
    log.info("comment.published", status=outcome.status, removed=outcome.duplicates_removed)
    return outcome


def comment_body(sha: str, row: AnalysisRow) -> str:
    """The comment for a stored analysis of commit ``sha``."""
    return render_comment(
        sha=sha,
        analysis=Analysis.model_validate(row.body),
        language=row.language,
        coverage=Coverage(
            row.files_analysed,
            row.files_total,
            row.lines_analysed,
            row.lines_total,
            tuple(row.omitted or ()),
        ),
        analyzer=row.analyzer,
        model=row.model,
    )


def ensure_single_comment(github: GitHub, repository: str, sha: str, body: str) -> CommentOutcome:
    """Leave exactly one comment of ours on the commit, with ``body``."""
    ours = _our_comments(github, repository, sha)
    if ours:
        keep, extra = ours[0], ours[1:]
        status = "unchanged"
        if keep.body.strip() != body.strip():
            github.edit_commit_comment(repository, keep.id, body)
            status = "edited"
        for duplicate in extra:
            github.delete_commit_comment(repository, duplicate.id)
        return CommentOutcome(status=status, comment_id=keep.id, duplicates_removed=len(extra))
    created = github.create_commit_comment(repository, sha, body)
    # a concurrent run may have created one too: keep the oldest, delete the rest
    ours = _our_comments(github, repository, sha)
    removed = 0
    for duplicate in ours[1:]:
        github.delete_commit_comment(repository, duplicate.id)
        removed += 1
    kept = ours[0].id if ours else created
    return CommentOutcome(status="created", comment_id=kept, duplicates_removed=removed)


def _our_comments(github: GitHub, repository: str, sha: str) -> list[CommentRef]:
    """Our comments on the commit, oldest first."""
    found = [c for c in github.list_commit_comments(repository, sha) if is_ours(c.body, sha)]
    return sorted(found, key=lambda c: c.id)
