"""Analyse one stored commit: claim it, gather its input, run the analyzer, store the result.

GitHub first (all files; the delivery's data when the commit is gone), then the LLM on a
redacted diff fitted to the token budget (tighter on each invalid answer), else heuristics.
Waiting is never done here: ``RetryLater`` tells the task adapter (``workers.tasks``) how
long to wait, and a commit whose analysis had to fall back is marked for re-analysis.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import structlog

from commit_digest.analysis.ask import heuristic_result, llm_result
from commit_digest.analysis.claims import (
    claim_commit,
    record_metrics,
    release_claim,
    store_pull,
    store_result,
)
from commit_digest.analysis.comments import comments_enabled, mark_comment_queued
from commit_digest.analysis.fetch import (
    UNKNOWN,
    gather_input,
    listed_paths,
    pull_request_of,
    with_policy,
    without_ignored,
)
from commit_digest.analysis.gate import LLMBusy
from commit_digest.analysis.results import AnalysisResult, RetryLater
from commit_digest.repo_policy import policy_for, touches_settings
from commit_digest.runtime import Runtime

log = structlog.get_logger(__name__)


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
        pull = (
            pull_request_of(rt, commit)
            if commit_input.source == "github" and rt.settings.has_github_credentials
            else UNKNOWN
        )
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
        if not isinstance(pull, str):
            store_pull(session, commit.id, pull)
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
