"""Fit a commit to the prompt's budget, with every hunk that is sent redacted first."""

from __future__ import annotations

from dataclasses import replace

from commit_digest.analysis.budget import BudgetedDiff, fit_diff_to_budget
from commit_digest.analysis.inputs import CommitInput
from commit_digest.analysis.redact import MARKER as REDACTION_MARKER
from commit_digest.analysis.redact import redact_secrets
from commit_digest.analysis.tokens import TokenCounter
from report.data import Coverage

REDACTION_MARKER_START = REDACTION_MARKER.split("{", 1)[0]


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
