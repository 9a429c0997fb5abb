"""What an analysis produces, and the commit it works on, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from report.data import Coverage
from report.schema import Analysis


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
    # what the model itself said (change type, importance) before the evidence was combined
    model_said: tuple[str, str] | None = None


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


class RetryLater(Exception):
    """The commit cannot be analysed now; try again in ``countdown`` seconds."""

    def __init__(self, countdown: float, reason: str) -> None:
        super().__init__(reason)
        self.countdown = max(1.0, countdown)
        self.reason = reason
