"""Analyse one stored commit: claim it, gather its input, run the analyzer, store the result.

GitHub first (all files; the delivery's data when the commit is gone), then the LLM on a
redacted diff fitted to the token budget (tighter on each invalid answer), else heuristics.
Waiting is never done here: ``RetryLater`` tells the task adapter (``workers.tasks``) how
long to wait, and a commit whose analysis had to fall back is marked for re-analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from commit_digest.analysis.budget import BudgetedDiff, fit_diff_to_budget
from commit_digest.analysis.comments import comments_enabled, mark_comment_queued
from commit_digest.analysis.evidence import combine_evidence
from commit_digest.analysis.gate import LLMBusy
from commit_digest.analysis.heuristic import heuristic_analysis
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.prompts import fit_prompt
from commit_digest.analysis.redact import MARKER as REDACTION_MARKER
from commit_digest.analysis.redact import redact_secrets
from commit_digest.analysis.tokens import TokenCounter, token_counter
from commit_digest.errors import (
    CommitGone,
    GitHubError,
    GitHubRateLimited,
    GitHubUnavailable,
    LLMOutputInvalid,
    LLMRejected,
    LLMUnavailable,
)
from commit_digest.models import Analysis as AnalysisRow
from commit_digest.models import Commit
from commit_digest.repo_policy import policy_for, touches_settings
from commit_digest.repo_settings import RepoPolicy
from commit_digest.runtime import Runtime
from commit_digest.storage import rowcount, upsert
from report.data import Coverage
from report.schema import Analysis

log = structlog.get_logger(__name__)

# Retries with backoff before falling back to the delivery's data when GitHub is unreachable
# (LLM_RETRIES, configurable, is the same for the LLM).
GITHUB_RETRIES = 3
REDACTION_MARKER_START = REDACTION_MARKER.split("{", 1)[0]
# Shares of the diff budget tried in turn when the answer is cut off or invalid.
BUDGET_SHARES = (1.0, 0.5, 0.25)


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
    recorded_at: datetime


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
    redactions: int = 0,
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
        redactions=redactions,
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


class RetryLater(Exception):
    """The commit cannot be analysed now; try again in ``countdown`` seconds."""

    def __init__(self, countdown: float, reason: str) -> None:
        super().__init__(reason)
        self.countdown = max(1.0, countdown)
        self.reason = reason


def backoff(retries: int, base: float = 15.0) -> float:
    """Seconds to wait before retry number ``retries + 1``: base, 2×, 4×, … up to 10 minutes."""
    return float(min(base * 2**retries, 600))


def gather_input(
    rt: Runtime, commit: StoredCommit, retries: int
) -> tuple[CommitInput, str | None, bool]:
    """The commit as GitHub has it, else as the delivery carried it.

    Returns the input, why it came from the delivery (if it did) and whether the commit
    should be analysed again later (GitHub was only temporarily unreachable).
    """
    settings = rt.settings
    if not (settings.has_github_credentials or settings.use_llm):
        # the heuristics gain little from the API and anonymous access allows 60 calls an hour
        return input_from_delivery(commit), None, False
    github = rt.github(commit.installation_id)
    try:
        return github.get_commit(commit.repository, commit.sha), None, False
    except CommitGone:
        return input_from_delivery(commit), "commit no longer on GitHub", False
    except GitHubRateLimited as error:
        raise RetryLater(error.retry_after, "GitHub rate limit") from None
    except GitHubUnavailable as error:
        if retries < GITHUB_RETRIES:
            raise RetryLater(
                backoff(retries, settings.retry_backoff), f"GitHub unavailable: {error}"
            ) from None
        return input_from_delivery(commit), "GitHub unavailable", True
    except GitHubError as error:
        log.warning("analysis.github.refused", error=str(error))
        return input_from_delivery(commit), "GitHub refused the request", False
    finally:
        remaining = github.rate_limit_remaining()
        if remaining is not None:
            rt.metrics.gauge("github_rate_limit_remaining", remaining)


def fit_redacted(
    commit: CommitInput, budget: int, counter: TokenCounter
) -> tuple[BudgetedDiff, CommitInput]:
    """Fit the diff to ``budget`` with every hunk that is sent redacted first.

    Redacting a 50 MB commit whole would cost more than fitting it, so only the files whose
    hunks the fit chose are redacted, and the fit is repeated until it chooses no file that
    was not redacted (redaction can free room for more hunks). Returns the fitted diff and
    the commit as redacted (the message always).
    """
    current = replace(commit, message=redact_secrets(commit.message).text)
    clean: set[str] = set()
    while True:
        diff = fit_diff_to_budget(current, budget, counter)
        dirty = set(diff.diff_paths) - clean
        if not dirty:
            return diff, current
        files = tuple(
            replace(change, patch=redact_secrets(change.patch, path=change.path).text)
            if change.path in dirty and change.patch
            else change
            for change in current.files
        )
        current = replace(current, files=files)
        clean |= dirty


def redactions_in(*texts: str) -> int:
    """How many secrets were replaced in what is sent (each leaves one marker)."""
    return sum(text.count(REDACTION_MARKER_START) for text in texts)


def llm_result(
    rt: Runtime,
    commit: CommitInput,
    retries: int,
    language: str | None = None,
    notes: Sequence[str] = (),
) -> AnalysisResult:
    """Analyse with the LLM, tightening the budget when the answer is cut off or invalid."""
    settings = rt.settings
    language = language or settings.report_language
    counter = token_counter(settings.openai_model)
    problem = "no answer"
    redactions = 0
    for share in BUDGET_SHARES:
        fitted = fit_prompt(
            commit,
            settings.llm_input_token_budget,
            counter,
            language,
            fit_diff=lambda current, room: fit_redacted(current, room, counter),
            describe=lambda coverage: coverage_line(coverage, language),
            version=settings.llm_prompt_version,
            diff_share=share,
            notes=notes,
        )
        prompt, coverage = fitted.prompt, fitted.coverage
        redactions = redactions_in(fitted.commit.message, fitted.diff.text)
        try:
            answer = rt.analyzer().analyze(prompt, max_output_tokens=settings.llm_max_output_tokens)
        except LLMOutputInvalid as error:
            problem = str(error)
            log.info("analysis.llm.invalid", share=share, reason=problem)
            continue
        except LLMUnavailable as error:
            if retries < settings.llm_retries:
                raise RetryLater(
                    error.retry_after or backoff(retries, settings.retry_backoff),
                    f"LLM unavailable: {error}",
                ) from None
            return heuristic_result(
                commit, language, "LLM unavailable", needs_reanalysis=True, redactions=redactions
            )
        except LLMRejected as error:
            log.warning("analysis.llm.rejected", error=str(error))
            return heuristic_result(
                commit,
                language,
                "LLM refused the request",
                needs_reanalysis=True,
                redactions=redactions,
            )
        return AnalysisResult(
            analysis=combine_evidence(answer.analysis, commit),
            analyzer="llm",
            source=commit.source,
            coverage=coverage,
            model=answer.model,
            prompt_version=prompt.version,
            tokens_in=answer.tokens_in,
            tokens_out=answer.tokens_out,
            cost_usd=answer.cost_usd,
            redactions=redactions,
            # what the model said before the evidence was combined (for make eval)
            extra={
                "model_change_type": answer.analysis.change_type.value,
                "model_importance": answer.analysis.importance.value,
            },
        )
    log.warning("analysis.llm.gave_up", reason=problem)
    return heuristic_result(commit, language, "LLM output unusable", redactions=redactions)


def listed_paths(files: dict[str, list[str]] | None) -> list[str]:
    """Every path a push listed for a commit (added, removed, modified)."""
    listed = files or {}
    return [path for status in ("added", "removed", "modified") for path in listed.get(status, [])]


def without_ignored(commit: CommitInput, policy: RepoPolicy) -> tuple[CommitInput, tuple[str, ...]]:
    """The commit without the files its repository's settings keep from the LLM, and their paths.

    Their diff never reaches a prompt (nor the heuristics' view of the change); they are listed
    as left out in the coverage record, which stays in our database and on GitHub.
    """
    ignored = tuple(f.path for f in commit.files if policy.is_ignored(f.path))
    if not ignored:
        return commit, ()
    kept = tuple(f for f in commit.files if not policy.is_ignored(f.path))
    return replace(commit, files=kept), ignored


def with_policy(
    result: AnalysisResult, policy: RepoPolicy, paths: list[str], ignored: tuple[str, ...]
) -> AnalysisResult:
    """The result with the path rules' importance floor or cap, and the ignored files listed."""
    importance = policy.adjust_importance(result.analysis.importance.value, paths)
    analysis = result.analysis
    if importance != analysis.importance.value:
        analysis = analysis.model_copy(update={"importance": importance})
        analysis = Analysis.model_validate(analysis.model_dump())
    coverage = result.coverage
    if ignored:
        coverage = replace(
            coverage,
            files_total=max(coverage.files_total, coverage.files_analysed + len(ignored)),
            omitted=tuple(dict.fromkeys((*coverage.omitted, *ignored))),
        )
    return replace(result, analysis=analysis, coverage=coverage)


def coverage_line(coverage: Coverage, language: str) -> str:
    """One line saying how much of the commit the prompt shows (for the model to be honest)."""
    if language == "zh-CN":
        return (
            f"展示了 {coverage.files_analysed}/{coverage.files_total} 个文件的 diff，"
            f"{coverage.lines_analysed}/{coverage.lines_total} 行变更"
        )
    return (
        f"diff shown for {coverage.files_analysed} of {coverage.files_total} files, "
        f"{coverage.lines_analysed} of {coverage.lines_total} changed lines"
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


def analyze_stored_commit(
    rt: Runtime, commit_id: int, task_id: str, retries: int = 0
) -> AnalysisResult | None:
    """Analyse the commit if it still needs it; None when there was nothing to do.

    Raises ``RetryLater`` when GitHub or the LLM asks us to wait; the claim is then released
    with ``retry_at`` set, so the sweep (or the task's own retry) picks the commit up again.
    """
    now = datetime.now(UTC)
    with rt.session() as session:
        commit = claim_commit(session, commit_id, task_id, now, rt.settings.claim_lease)
    if commit is None:
        log.info("analysis.skipped", commit_id=commit_id)
        return None
    structlog.contextvars.bind_contextvars(repository=commit.repository, sha=commit.sha)
    try:
        policy = policy_for(
            rt,
            commit.repository,
            installation_id=commit.installation_id,
            commit_sha=commit.sha,
            changed=touches_settings(listed_paths(commit.files)),
        )
        language = policy.language
        commit_input, delivery_reason, again = gather_input(rt, commit, retries)
        everything = commit_input
        commit_input, ignored = without_ignored(commit_input, policy)
        if rt.settings.use_llm:
            notes = (
                *((policy.rubric_notes,) if policy.rubric_notes else ()),
                *policy.notes_for([f.path for f in commit_input.files]),
            )
            result = llm_result(rt, commit_input, retries, language, notes)
        else:
            result = heuristic_result(commit_input, language)
        result = with_policy(result, policy, [f.path for f in everything.files], ignored)
    except LLMBusy:
        # every place at the LLM was taken: the task queues the commit again (not an attempt)
        with rt.session() as session:
            release_claim(session, commit.id, task_id)
        raise
    except RetryLater as wait:
        with rt.session() as session:
            release_claim(
                session,
                commit.id,
                task_id,
                wait.reason,
                retry_at=now + timedelta(seconds=wait.countdown),
            )
        log.info("analysis.retry_later", countdown=round(wait.countdown), reason=wait.reason)
        rt.metrics.count("analysis_failures", reason=wait.reason.split(":")[0])
        raise
    except BaseException as error:
        with rt.session() as session:
            release_claim(session, commit.id, task_id, f"{type(error).__name__}: {error}")
        rt.metrics.count("analysis_failures", reason=type(error).__name__)
        raise
    if delivery_reason:
        result = replace(
            result,
            fallback_reason=result.fallback_reason or delivery_reason,
            needs_reanalysis=result.needs_reanalysis or again,
        )
    with rt.session() as session:
        stored_at = datetime.now(UTC)
        store_result(session, commit.id, task_id, result, language, stored_at)
        if comments_enabled(rt):
            mark_comment_queued(session, commit.id, stored_at)
    record_metrics(rt, commit, result, started=now)
    log.info(
        "analysis.stored",
        analyzer=result.analyzer,
        source=result.source,
        importance=result.analysis.importance.value,
        change_type=result.analysis.change_type.value,
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
        redactions=result.redactions,
        files=f"{result.coverage.files_analysed}/{result.coverage.files_total}",
    )
    return result
