"""Errors of the report package."""

from __future__ import annotations


class ReportError(Exception):
    """Base of the report package's errors."""


class SendFailed(ReportError):
    """The mail relay did not take the message; ``transient`` says whether to retry."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient
