"""The database side of an analysis: claim the commit, release it, store the result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from commit_digest.analysis.github import PullRef
from commit_digest.analysis.results import AnalysisResult, StoredCommit
from commit_digest.models import Analysis as AnalysisRow
from commit_digest.models import Commit
from commit_digest.push import clean_text
from commit_digest.runtime import Runtime
from commit_digest.storage import rowcount, upsert

PULL_TITLE_LIMIT = 500  # characters of a pull request's title kept


def claim_commit(
    session: Session, commit_id: int, task_id: str, now: datetime, lease: timedelta
) -> StoredCommit | None:
    """Claim the commit for this task; None when it is analysed or another task holds it."""
    row = session.execute(
        select(Commit, AnalysisRow.needs_reanalysis)
        .outerjoin(AnalysisRow, AnalysisRow.commit_id == Commit.id)
        .where(Commit.id == commit_id)
    ).first()
    if row is None:
        return None
    commit, needs_reanalysis = row
    has_analysis = needs_reanalysis is not None
    if has_analysis and not needs_reanalysis:
        return None
    claimed = rowcount(
        session.execute(
            update(Commit)
            .where(
                Commit.id == commit_id,
                or_(
                    Commit.started_at.is_(None),
                    Commit.started_at < now - lease,
                    Commit.claimed_by == task_id,
                ),
            )
            .values(started_at=now, claimed_by=task_id, attempts=Commit.attempts + 1)
        )
    )
    if not claimed:
        return None
    return StoredCommit(
        id=commit.id,
        repository=commit.repository.full_name,
        installation_id=commit.repository.installation_id,
        sha=commit.sha,
        message=commit.message,
        author=commit.author_name or commit.author_login,
        files=commit.files,
        has_analysis=has_analysis,
        needs_reanalysis=bool(needs_reanalysis),
        recorded_at=commit.created_at,
    )


def release_claim(
    session: Session,
    commit_id: int,
    task_id: str,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """Give the claim back (the task will retry, or the sweep will pick the commit up)."""
    session.execute(
        update(Commit)
        .where(Commit.id == commit_id, Commit.claimed_by == task_id)
        .values(
            started_at=None,
            claimed_by=None,
            last_error=error[:500] if error else None,
            retry_at=retry_at,
        )
    )


def store_result(
    session: Session,
    commit_id: int,
    task_id: str,
    result: AnalysisResult,
    language: str,
    now: datetime,
) -> None:
    """Upsert the one analysis row of the commit and mark the commit analysed."""
    analysis = result.analysis
    values = {
        "analyzer": result.analyzer,
        "model": result.model,
        "prompt_version": result.prompt_version,
        "language": language,
        "change_type": analysis.change_type.value,
        "importance": analysis.importance.value,
        "breaking_change": analysis.breaking_change,
        "body": analysis.model_dump(mode="json"),
        "source": result.source,
        "tokens_in": result.tokens_in,
        "tokens_out": result.tokens_out,
        "cost_usd": result.cost_usd,
        "files_analysed": result.coverage.files_analysed,
        "files_total": result.coverage.files_total,
        "lines_analysed": result.coverage.lines_analysed,
        "lines_total": result.coverage.lines_total,
        "omitted": list(result.coverage.omitted),
        "redactions": result.redactions,
        "fallback_reason": result.fallback_reason,
        "needs_reanalysis": result.needs_reanalysis,
        "updated_at": now,
    }
    upsert(
        session,
        AnalysisRow,
        {"commit_id": commit_id, "created_at": now, **values},
        ["commit_id"],
        values,
    )
    session.execute(
        update(Commit)
        .where(Commit.id == commit_id)
        .values(analysed_at=now, started_at=None, claimed_by=None, retry_at=None, last_error=None)
    )


def store_pull(session: Session, commit_id: int, pull: PullRef | None) -> None:
    """Record the pull request the commit came in through (None: it came in through none)."""
    session.execute(
        update(Commit)
        .where(Commit.id == commit_id)
        .values(
            pull_number=pull.number if pull else None,
            # as GitHub gave them, stored like commit text (NUL: PostgreSQL's text refuses it)
            pull_title=clean_text(pull.title[:PULL_TITLE_LIMIT]) if pull else None,
            pull_url=clean_text(pull.url) if pull else None,
        )
    )


def record_metrics(
    rt: Runtime, commit: StoredCommit, result: AnalysisResult, started: datetime
) -> None:
    """Count the stored analysis: latencies, analyzer, tokens and cost."""
    metrics = rt.metrics
    stored = datetime.now(UTC)
    metrics.count(
        "analyses", analyzer=result.analyzer, fallback="yes" if result.fallback_reason else "no"
    )
    metrics.observe("analysis_duration_seconds", (stored - started).total_seconds())
    metrics.observe("push_to_analysis_seconds", (stored - commit.recorded_at).total_seconds())
    if result.analyzer == "llm" and result.model:
        metrics.count("llm_tokens", result.tokens_in, direction="input", model=result.model)
        metrics.count("llm_tokens", result.tokens_out, direction="output", model=result.model)
        metrics.count("llm_cost_usd", result.cost_usd, model=result.model)
