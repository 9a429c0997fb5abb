"""What an analysis reads: the commit from GitHub (else the delivery), minus ignored files."""

from __future__ import annotations

from dataclasses import replace

import structlog

from commit_digest.analysis.github import PullRef
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.results import AnalysisResult, RetryLater, StoredCommit
from commit_digest.errors import (
    CommitGone,
    GitHubError,
    GitHubRateLimited,
    GitHubUnavailable,
)
from commit_digest.repo_settings import RepoPolicy
from commit_digest.retry import ATTEMPTS, backoff
from commit_digest.runtime import Runtime
from report.schema import Analysis

log = structlog.get_logger(__name__)


# Retries before falling back to the delivery's data when GitHub is unreachable (LLM_RETRIES,
# configurable, is the same for the LLM).
GITHUB_RETRIES = ATTEMPTS["github_in_analysis"]


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


# what ``pull_request_of`` returns when GitHub could not say: the stored link is left as it is
UNKNOWN = "unknown"


def pull_request_of(rt: Runtime, commit: StoredCommit) -> PullRef | str | None:
    """The pull request the commit came in through, None for none, ``UNKNOWN`` on failure.

    One more API call per commit, made only when GitHub is reachable with credentials; a
    failure never holds the analysis up (the report then shows the commit without its PR).
    """
    github = rt.github(commit.installation_id)
    try:
        return github.pull_of_commit(commit.repository, commit.sha)
    except (CommitGone, GitHubError, GitHubRateLimited, GitHubUnavailable) as error:
        log.info("analysis.pull_lookup.failed", error=str(error))
        return UNKNOWN


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
