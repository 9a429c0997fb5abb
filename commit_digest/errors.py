"""Errors commit-digest raises on purpose; each one names what went wrong in one line."""

from __future__ import annotations


class CommitDigestError(Exception):
    """Base of every error commit-digest raises on purpose."""


class ConfigError(CommitDigestError):
    """A configuration variable has a value commit-digest cannot use."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class GitHubError(CommitDigestError):
    """GitHub answered with an error that retrying will not fix."""


class GitHubUnavailable(CommitDigestError):
    """GitHub could not be reached or answered 5xx; worth retrying later."""


class GitHubRateLimited(CommitDigestError):
    """GitHub's primary or secondary rate limit is exhausted; retry after ``retry_after``."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(f"{message}; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


class CommitGone(CommitDigestError):
    """The commit no longer exists on GitHub (force-pushed away, 404/422)."""


class LLMUnavailable(CommitDigestError):
    """The LLM server is down, overloaded or too slow; retry after ``retry_after`` if known."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LLMStreamCut(LLMUnavailable):
    """The server ended a streamed answer before it was finished.

    llama-cpp-python's server does this to the running request when another one arrives
    (``interrupt_requests``): the server takes one request at a time and says so this way.
    """


class LLMOutputInvalid(CommitDigestError):
    """The LLM's answer was cut off, not JSON, or did not match the analysis schema."""


class LLMRejected(CommitDigestError):
    """The LLM server refused the request for a reason retrying will not fix (400/401/403)."""


class LLMPromptTooLong(LLMRejected):
    """The prompt (with room for the answer) does not fit the model's context window.

    ``window`` is the window the server named, when it named one. Sent smaller, it fits.
    """

    def __init__(self, message: str, window: int | None = None) -> None:
        super().__init__(message)
        self.window = window


class ChatRefused(CommitDigestError):
    """The chat platform refused the message; sending it again will not help."""


class ChatUnavailable(CommitDigestError):
    """The chat platform could not take the message now; it may later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
