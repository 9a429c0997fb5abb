"""The LLM and GitHub failing for a while: rate limits, server errors, timeouts, bad answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .harness import FaultStack, check

pytestmark = pytest.mark.faults

COMMIT = r"/commits/[0-9a-f]{40}$"
COMMIT_COMMENTS = r"/commits/[0-9a-f]{40}/comments$"
COMMENT = r"/comments/\d+$"


@pytest.mark.timeout(240)
def test_llm_failing_for_a_while(
    make_stack: Callable[..., FaultStack], record: Callable[..., None]
) -> None:
    """25 bad LLM answers in a row: 429 with Retry-After, 500, timeouts, cut off, not JSON."""
    stack = make_stack("llm-faults", concurrency=2)
    llm = stack.llm
    for _ in range(5):
        llm.respond_status(429, headers={"Retry-After": "1"})
        llm.respond_status(500)
        llm.respond_slow(4.0)  # past LLM_TIMEOUT (3 s)
        llm.respond_length()
        llm.respond_invalid_json()
    stack.build_stream(pushes=10, commits_per_push=3)
    stack.drive(interval=0.2)
    outcome = stack.finish(fast_timeout=60)
    analyzers = ", ".join(f"{k}={v}" for k, v in sorted(stack.analyzers().items()))
    stack.note(f"LLM requests={len(llm.requests)} (25 answered badly); analyses: {analyzers}")
    check(stack, outcome, record)


@pytest.mark.timeout(240)
def test_github_rate_limits_and_bad_gateways_for_a_while(
    make_stack: Callable[..., FaultStack], record: Callable[..., None]
) -> None:
    """403 rate limits and 502s on commit fetches and on comment POST and PATCH.

    Some POSTs are applied by GitHub and still answered 502 (a gateway timing out after the
    write); six commits already carry an outdated comment of ours, which must be edited.
    """
    stack = make_stack("github-faults", concurrency=2)
    github = stack.github
    stack.build_stream(pushes=10, commits_per_push=3)
    for sha in stack.sent_shas[::5]:
        stack.seed_comment(sha)
    github.fail_rate_limited("GET", COMMIT, reset_in=2, times=6)
    github.fail("GET", COMMIT, 502, times=6)
    github.fail("GET", COMMIT_COMMENTS, 502, times=3)
    github.fail_secondary_limit("POST", COMMIT_COMMENTS, retry_after=1, times=4)
    github.fail("POST", COMMIT_COMMENTS, 502, times=4)
    github.fail_after_applying("POST", COMMIT_COMMENTS, 502, times=4)
    github.fail_rate_limited("PATCH", COMMENT, reset_in=2, times=2)
    github.fail("PATCH", COMMENT, 502, times=2)
    stack.drive(interval=0.2)
    outcome = stack.finish(fast_timeout=60)
    ours = tuple(f"/repos/{repo}/" for repo in stack.repos)
    requests = [r for r in github.requests if r.path.startswith(ours)]
    deleted = sum(1 for r in requests if r.method == "DELETE")
    states = ", ".join(f"{k}={v}" for k, v in sorted(stack.comment_states().items()))
    stack.note(
        f"GitHub requests={len(requests)} (26 answered with a fault); comments: {states}; "
        f"duplicates deleted={deleted}"
    )
    check(stack, outcome, record)
