"""The one retry policy: which failures are retried, and how long each wait is."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from commit_digest.errors import (
    ChatUnavailable,
    GitHubError,
    GitHubRateLimited,
    GitHubUnavailable,
    LLMRejected,
    LLMUnavailable,
)
from commit_digest.retry import MAX_WAIT, TRANSIENT, backoff, retry_after, wait_before_retry

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}, 0.0),
        ({"Retry-After": "Thu, 01 Jan 1970 00:01:40 GMT"}, 40.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-5"}, None),
        ({"Retry-After": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    """Retry hints are read from milliseconds, seconds or an HTTP date (past dates mean now)."""
    assert retry_after(headers, now=60.0) == expected


def test_backoff_doubles_up_to_the_longest_wait() -> None:
    """15 s, 30 s, 60 s … and never past MAX_WAIT, however many retries."""
    assert [backoff(n, 15.0) for n in range(4)] == [15.0, 30.0, 60.0, 120.0]
    assert backoff(30, 15.0) == MAX_WAIT


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (GitHubRateLimited(42.0), 42.0),
        (ChatUnavailable("429", retry_after=7.0), 7.0),
        (LLMUnavailable("503", retry_after=None), 60.0),
        (GitHubUnavailable("502"), 60.0),
    ],
)
def test_what_the_other_side_asked_for_wins(error: Exception, expected: float) -> None:
    """A Retry-After is honoured; without one, the backoff for this retry (the third: 60 s)."""
    assert wait_before_retry(error, retries=2, base=15.0) == expected


def test_refusals_are_not_transient() -> None:
    """A refusal (4xx, bad credentials) is reported, not retried."""
    assert not isinstance(GitHubError("401"), TRANSIENT)
    assert not isinstance(LLMRejected("400"), TRANSIENT)
    assert isinstance(GitHubUnavailable("502"), TRANSIENT)


def test_no_other_module_reads_retry_after_or_computes_backoff() -> None:
    """The policy lives in one module: nobody else parses Retry-After or doubles a wait."""
    offenders = []
    for path in [*ROOT.glob("commit_digest/**/*.py"), *ROOT.glob("workers/*.py")]:
        if path.name == "retry.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and (
                "retry_after" in node.name or node.name == "backoff"
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert offenders == []
