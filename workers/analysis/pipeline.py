"""Analyse one stored commit: claim it, gather its input, run the analyzer, store the result.

The task in ``workers.tasks`` is a thin adapter over ``analyze_stored_commit``; errors that
deserve a retry propagate as the exception types of ``workers.errors``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from report.schema import Analysis
from workers.analysis.heuristic import heuristic_analysis
from workers.analysis.inputs import CommitInput, FileChange
from workers.models import Analysis as AnalysisRow
from workers.models import Commit
from workers.runtime import Runtime
from workers.storage import rowcount, upsert

log = structlog.get_logger(__name__)

# A claim older than this belongs to a worker that died (hard time limit plus a margin).
CLAIM_LEASE = timedelta(minutes=8)


@dataclass(frozen=True)
class Coverage:
    files_analysed: int
    files_total: int
    lines_analysed: int
    lines_total: int
    omitted: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalysisResult:
    analysis: Analysis
    analyzer: str  # llm, heuristic
    source: str  # github, delivery
    coverage: Coverage
    model: str | None = None
    prompt_version: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    redactions: int = 0
    fallback_reason: str | None = None
    needs_reanalysis: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredCommit:
    """A plain snapshot of a commit row, safe to use outside the session."""

    id: int
    repository: str
    installation_id: int | None
    sha: str
    message: str
    author: str | None
    files: dict[str, list[str]] | None
    has_analysis: bool
    needs_reanalysis: bool


def claim_commit(
    session: Session, commit_id: int, task_id: str, now: datetime
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
                    Commit.started_at < now - CLAIM_LEASE,
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


def input_from_delivery(commit: StoredCommit) -> CommitInput:
    """What the webhook carried: the message and file lists without line counts or diffs."""
    files: list[FileChange] = []
    for status, key in (("added", "added"), ("removed", "removed"), ("modified", "modified")):
        files.extend(FileChange(path=p, status=status) for p in (commit.files or {}).get(key, []))
    return CommitInput(
        repository=commit.repository,
        sha=commit.sha,
        message=commit.message,
        author=commit.author,
        files=tuple(files),
        files_total=len(files),
        source="delivery",
    )


def heuristic_result(
    commit_input: CommitInput,
    language: str,
    reason: str | None = None,
    needs_reanalysis: bool = False,
) -> AnalysisResult:
    return AnalysisResult(
        analysis=heuristic_analysis(commit_input, language),
        analyzer="heuristic",
        source=commit_input.source,
        coverage=Coverage(
            files_analysed=len(commit_input.files),
            files_total=max(commit_input.files_total, len(commit_input.files)),
            lines_analysed=sum(f.changed_lines for f in commit_input.files),
            lines_total=sum(f.changed_lines for f in commit_input.files),
        ),
        fallback_reason=reason,
        needs_reanalysis=needs_reanalysis,
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


def analyze_stored_commit(rt: Runtime, commit_id: int, task_id: str) -> AnalysisResult | None:
    """Analyse the commit if it still needs it; None when there was nothing to do."""
    now = datetime.now(UTC)
    with rt.session() as session:
        commit = claim_commit(session, commit_id, task_id, now)
    if commit is None:
        log.info("analysis.skipped", commit_id=commit_id)
        return None
    structlog.contextvars.bind_contextvars(repository=commit.repository, sha=commit.sha)
    language = rt.settings.report_language
    result = heuristic_result(input_from_delivery(commit), language)
    with rt.session() as session:
        store_result(session, commit.id, task_id, result, language, datetime.now(UTC))
    log.info(
        "analysis.stored",
        analyzer=result.analyzer,
        importance=result.analysis.importance.value,
        change_type=result.analysis.change_type.value,
    )
    return result
