"""The plain data a report is rendered from; built by the collector, never by the renderer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from report.schema import Analysis, Importance


@dataclass(frozen=True)
class Coverage:
    files_analysed: int
    files_total: int
    lines_analysed: int
    lines_total: int
    omitted: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        return self.files_analysed < self.files_total or self.lines_analysed < self.lines_total


@dataclass(frozen=True)
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.tokens_in + other.tokens_in,
            self.tokens_out + other.tokens_out,
            self.cost_usd + other.cost_usd,
        )


@dataclass(frozen=True)
class PullRequest:
    """The pull request a commit came in through (GitHub's commit → pulls lookup, stored)."""

    number: int
    title: str
    url: str


@dataclass(frozen=True)
class Entry:
    """One commit of the day, with its analysis (None while it is still pending)."""

    repository: str
    sha: str
    url: str
    author: str
    message: str
    committed_at: datetime
    analysis: Analysis | None
    analyzer: str | None = None  # llm, heuristic
    source: str | None = None  # github, delivery
    fallback_reason: str | None = None
    coverage: Coverage | None = None
    usage: Usage = Usage()
    importance_set_by: str | None = None  # a person's /digest importance replaced the analysis's
    redactions: int = 0
    pull: PullRequest | None = None

    @property
    def subject(self) -> str:
        lines = self.message.strip().splitlines()
        return lines[0].strip() if lines else self.sha[:7]

    @property
    def importance(self) -> Importance | None:
        return self.analysis.importance if self.analysis else None


@dataclass(frozen=True)
class RepositoryDay:
    name: str
    entries: tuple[Entry, ...]

    def by_importance(self, importance: Importance) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.importance is importance)

    @property
    def pending(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.analysis is None)

    @property
    def usage(self) -> Usage:
        total = Usage()
        for entry in self.entries:
            total = total + entry.usage
        return total


@dataclass(frozen=True)
class DayCount:
    """One earlier day in numbers, for the trends: commits, high-importance ones, lines changed."""

    day: date
    commits: int
    high: int
    churn: int


@dataclass(frozen=True)
class DayReport:
    day: date
    timezone: ZoneInfo
    repositories: tuple[RepositoryDay, ...]
    # what could not be checked (a repository GitHub did not list): the day may have gaps
    warnings: tuple[str, ...] = ()
    # repositories of the report that had no commit this day (listed as such in the overview)
    quiet: tuple[str, ...] = ()
    # the days before this one, oldest first (the trends and the chart); empty: no trends
    history: tuple[DayCount, ...] = ()
    # the per-author section (REPORT_PEOPLE); off leaves no trace of it
    people: bool = True
    # the days the report covers, ending with ``day``: 1, or 7 for the weekly digest
    days: int = 1

    @property
    def first_day(self) -> date:
        return self.day - timedelta(days=self.days - 1)

    @property
    def commit_count(self) -> int:
        return sum(len(r.entries) for r in self.repositories)

    @property
    def pending_count(self) -> int:
        return sum(len(r.pending) for r in self.repositories)

    @property
    def usage(self) -> Usage:
        total = Usage()
        for repository in self.repositories:
            total = total + repository.usage
        return total
