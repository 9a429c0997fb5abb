"""Post the analysis as a comment on the commit — once, however often the task runs.

PyGithub may have sent a POST whose answer we never saw, and a task may run twice, so the
comment is never created blindly: we look for our marker first and edit our comment if it
is there; after creating one we look again and delete any duplicate a concurrent run made,
keeping the oldest. The result is exactly one comment per commit.

The comment's row is written "queued" in the transaction that stores the analysis, so a
worker dying before the comment task is published leaves a row the sweep finds. A run that
finds the row "posting" follows one that died mid-request, whose POST GitHub may still apply
after we looked: it checks again RECHECK_AFTER later and removes the late duplicate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commit_digest.analysis.github import CommentRef, GitHub
from commit_digest.models import Analysis as AnalysisRow
from commit_digest.models import Commit, CommitComment, Repository
from commit_digest.queueing import COMMENT, publish
from commit_digest.repo_policy import policy_for
from commit_digest.runtime import Runtime
from commit_digest.storage import upsert
from report.comment import PeopleNotes, is_ours, render_comment
from report.data import Coverage
from report.schema import Analysis

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CommentOutcome:
    status: str  # created, edited, unchanged, disabled, no-analysis, below-threshold
    comment_id: int | None = None
    duplicates_removed: int = 0


def comments_enabled(rt: Runtime) -> bool:
    return rt.settings.commit_comments and rt.settings.has_github_credentials


# Longer than a request of a dead worker can still be in flight at GitHub (our timeout is 15 s).
RECHECK_AFTER = 30.0
# A row made due at once: the sweep takes anything queued longer ago than REQUEUE_AFTER.
DUE_NOW = datetime(1970, 1, 1, tzinfo=UTC)


def mark_comment_queued(session: Session, commit_id: int, now: datetime) -> None:
    """Record that the commit's comment is due (in the analysis's own transaction)."""
    values = {"state": "queued", "updated_at": now}
    upsert(session, CommitComment, {"commit_id": commit_id, **values}, ["commit_id"], values)


def comment_is_queued(rt: Runtime, commit_id: int) -> bool:
    with rt.session() as session:
        state = session.execute(
            select(CommitComment.state).where(CommitComment.commit_id == commit_id)
        ).scalar_one_or_none()
    return state in ("queued", "posting")


def send_comment_task(rt: Runtime, commit_id: int, countdown: float | None = None) -> bool:
    """Publish the comment task; if Redis refuses, make the row due for the next sweep."""
    if publish(rt.celery, COMMENT, [commit_id], countdown=countdown):
        return True
    with rt.session() as session:
        session.execute(
            update(CommitComment)
            .where(CommitComment.commit_id == commit_id, CommitComment.state == "queued")
            .values(updated_at=DUE_NOW)
        )
    return False


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
    policy = policy_for(rt, repository, installation_id=installation_id)
    if not policy.wants_comment(analysis.importance):
        # recorded, so the sweep does not queue it again
        with rt.session() as session:
            values = {"state": "below-threshold", "updated_at": datetime.now(UTC)}
            upsert(
                session, CommitComment, {"commit_id": commit_id, **values}, ["commit_id"], values
            )
        log.info("comment.skipped", reason="below the repository's comment threshold")
        return CommentOutcome(status="below-threshold")
    with rt.session() as session:
        body = comment_body(sha, analysis, people=people_notes(session, commit_id, repository, sha))
    with rt.session() as session:
        before = session.execute(
            select(CommitComment.state).where(CommitComment.commit_id == commit_id)
        ).scalar_one_or_none()
        values = {"state": "posting", "updated_at": datetime.now(UTC)}
        upsert(session, CommitComment, {"commit_id": commit_id, **values}, ["commit_id"], values)
    outcome = ensure_single_comment(rt.github(installation_id), repository, sha, body)
    if before == "posting":
        # the run before this one died while talking to GitHub: its POST may land later
        send_comment_task(rt, commit_id, countdown=RECHECK_AFTER)
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


def people_notes(session: Session, commit_id: int, repository: str, sha: str) -> PeopleNotes:
    """What people said through ``/digest`` commands, for the comment."""
    from commit_digest.commands import comment_notes, override_of

    override = override_of(session, commit_id)
    helped, refused = comment_notes(session, repository, sha)
    return PeopleNotes(
        importance=override.importance if override else None,
        ignored=bool(override and override.ignored),
        set_by=override.set_by if override else None,
        set_on=override.set_at.date().isoformat() if override else None,
        help=helped,
        refused=refused,
    )


def comment_body(sha: str, row: AnalysisRow, people: PeopleNotes | None = None) -> str:
    """The comment for a stored analysis of commit ``sha``."""
    return render_comment(
        people=people,
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
    """Our comments on the commit, oldest first: our marker, written by our own account.

    The marker alone is not enough: anyone can write it, and we must never edit or delete
    someone else's comment.
    """
    own = github.own_login()
    found = [
        c
        for c in github.list_commit_comments(repository, sha)
        if is_ours(c.body, sha) and own is not None and c.user_login == own
    ]
    return sorted(found, key=lambda c: c.id)
