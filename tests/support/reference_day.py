"""The reference day (ai-dynamo/dynamo, 2026-02-03, 14 commits) as report data.

Its commits and analyses come from the reference report (``tests/fixtures/reference``, whose
``source`` says which parts are the reference's and which are made up to show the rest).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from report.data import Coverage, DayCount, DayReport, Entry, PullRequest, RepositoryDay, Usage
from report.schema import Analysis, Insights, ScopeItem

FIXTURE = Path(__file__).parent.parent / "fixtures" / "reference" / "day-2026-02-03.json"


def reference_day(language: str) -> DayReport:
    """The reference day with every part: glance, PRs, people, trends, three repositories."""
    data = json.loads(FIXTURE.read_text())
    zone = ZoneInfo(data["timezone"])
    day = date.fromisoformat(data["day"])
    repository = data["repository"]
    entries = tuple(_entry(c, repository, zone, language) for c in data["commits"])
    return DayReport(
        day=day,
        timezone=zone,
        repositories=(RepositoryDay(repository, entries),),
        quiet=tuple(data["quiet"]),
        history=tuple(
            DayCount(day - timedelta(days=len(data["illustrative_history"]) - n), *counts)
            for n, counts in enumerate(data["illustrative_history"])
        ),
    )


def _entry(commit: dict[str, Any], repository: str, zone: ZoneInfo, language: str) -> Entry:
    risk = commit.get("risk", {}).get(language)
    analysis = Analysis(
        change_type=commit["type"],
        importance=commit["importance"],
        summary=commit["summary"][language],
        impact_scope=[ScopeItem(area=area, note="") for area in commit["areas"]],
        insights=Insights(architecture="", performance="", security="", compatibility=""),
        risks=[risk] if risk else [],
        recommendations=[],
        breaking_change=commit.get("breaking", False),
    )
    subject = commit["message"].splitlines()[0]
    return Entry(
        repository=repository,
        sha=commit["sha"],
        url=f"https://github.com/{repository}/commit/{commit['sha']}",
        author=commit["author"],
        message=commit["message"],
        committed_at=datetime.fromisoformat(commit["time"]).replace(tzinfo=zone).astimezone(UTC),
        analysis=analysis,
        analyzer="llm",
        source="github",
        coverage=Coverage(1, 1, commit["lines"], commit["lines"]),
        usage=Usage(1_900, 260, 0.0),
        pull=PullRequest(
            commit["pr"],
            subject.removesuffix(f"(#{commit['pr']})").strip(),
            f"https://github.com/{repository}/pull/{commit['pr']}",
        ),
    )
