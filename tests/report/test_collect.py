"""Which commits belong to a day: midnight to midnight in the report's zone, by landing time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert, select

from commit_digest.config import Settings
from commit_digest.models import Analysis as AnalysisRow
from commit_digest.models import Commit
from commit_digest.reporting.collect import collect_day
from commit_digest.runtime import Runtime
from report.days import day_window, previous_day
from report.render import render_markdown

from conftest import deliver
from support import payloads

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def land(
    client: FlaskClient, repo: str, seed: str, at: datetime, committed: datetime | None = None
) -> str:
    commit = payloads.commit(repo, seed, f"feat: {seed}", timestamp=committed or at)
    deliver(client, payloads.encode(payloads.push(repo, [commit], pushed_at=at)))
    return str(commit["id"])


@pytest.mark.parametrize(
    ("day", "zone", "start", "end", "hours"),
    [
        (date(2026, 2, 3), SHANGHAI, "2026-02-02T16:00:00+00:00", "2026-02-03T16:00:00+00:00", 24),
        (date(2026, 3, 8), NEW_YORK, "2026-03-08T05:00:00+00:00", "2026-03-09T04:00:00+00:00", 23),
        (date(2026, 11, 1), NEW_YORK, "2026-11-01T04:00:00+00:00", "2026-11-02T05:00:00+00:00", 25),
        (
            date(2026, 2, 3),
            ZoneInfo("UTC"),
            "2026-02-03T00:00:00+00:00",
            "2026-02-04T00:00:00+00:00",
            24,
        ),
    ],
)
def test_day_window(day: date, zone: ZoneInfo, start: str, end: str, hours: int) -> None:
    """A day is midnight to midnight in its zone: 23 or 25 hours on DST days."""
    first, last = day_window(day, zone)
    assert (first.isoformat(), last.isoformat()) == (start, end)
    assert (last - first).total_seconds() == hours * 3600


def test_previous_day_is_taken_in_the_zone() -> None:
    """At 00:10 in Shanghai (16:10 UTC the day before) the report covers Shanghai's yesterday."""
    assert previous_day(datetime(2026, 2, 3, 16, 10, tzinfo=UTC), SHANGHAI) == date(2026, 2, 3)
    assert previous_day(datetime(2026, 2, 3, 16, 10, tzinfo=UTC), ZoneInfo("UTC")) == date(
        2026, 2, 2
    )


def test_commits_near_midnight_in_shanghai(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """Commits landing a second either side of Shanghai's midnight go to the right day."""
    repo = "acme/midnight"
    inside_first = land(client, repo, "first", datetime(2026, 2, 2, 16, 0, 0, tzinfo=UTC))
    before = land(client, repo, "before", datetime(2026, 2, 2, 15, 59, 59, tzinfo=UTC))
    inside_last = land(client, repo, "last", datetime(2026, 2, 3, 15, 59, 59, tzinfo=UTC))
    after = land(client, repo, "after", datetime(2026, 2, 3, 16, 0, 0, tzinfo=UTC))
    with runtime.session() as session:
        day = collect_day(session, settings, date(2026, 2, 3), SHANGHAI)
    [repository] = day.repositories
    assert sorted(e.sha for e in repository.entries) == sorted([inside_first, inside_last])
    with runtime.session() as session:
        yesterday = collect_day(session, settings, date(2026, 2, 2), SHANGHAI)
        tomorrow = collect_day(session, settings, date(2026, 2, 4), SHANGHAI)
    assert [e.sha for e in yesterday.repositories[0].entries] == [before]
    assert [e.sha for e in tomorrow.repositories[0].entries] == [after]


def test_commit_time_is_shown_in_the_zone_and_landing_decides_the_day(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """A commit made the evening before but pushed after midnight belongs to the push's day."""
    repo = "acme/late"
    land(
        client,
        repo,
        "late",
        at=datetime(2026, 2, 2, 16, 30, tzinfo=UTC),
        committed=datetime(2026, 2, 2, 14, 0, tzinfo=UTC),
    )
    with runtime.session() as session:
        day = collect_day(session, settings, date(2026, 2, 3), SHANGHAI)
    text = render_markdown(day, "en")
    assert (
        "| 2026-02-02 22:00:00 | Alice Example | feat: late |" in text
    )  # its commit time, in Shanghai


def test_dst_day_in_new_york(client: FlaskClient, runtime: Runtime, settings: Settings) -> None:
    """On the 23-hour day the window still ends at the next local midnight."""
    repo = "acme/dst"
    inside = land(
        client, repo, "inside", datetime(2026, 3, 9, 3, 59, 59, tzinfo=UTC)
    )  # 23:59:59 EDT
    outside = land(
        client, repo, "outside", datetime(2026, 3, 9, 4, 0, 0, tzinfo=UTC)
    )  # 00:00 EDT next day
    with runtime.session() as session:
        day = collect_day(session, settings, date(2026, 3, 8), NEW_YORK)
    shas = [e.sha for e in day.repositories[0].entries]
    assert inside in shas
    assert outside not in shas
    assert "(UTC-05:00 → UTC-04:00)" in render_markdown(day, "en")


def test_several_repositories_in_one_report(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """Every repository with commits that day gets its own section, in name order."""
    at = datetime(2026, 2, 3, 4, 0, tzinfo=UTC)
    for repo in ("zeta/web", "acme/api", "acme/cli"):
        land(client, repo, "1", at)
    with runtime.session() as session:
        day = collect_day(session, settings, date(2026, 2, 3), SHANGHAI)
        only = collect_day(session, settings, date(2026, 2, 3), SHANGHAI, ["acme/cli"])
    assert [r.name for r in day.repositories] == ["acme/api", "acme/cli", "zeta/web"]
    assert [r.name for r in only.repositories] == ["acme/cli"]
    text = render_markdown(day, "zh-CN")
    assert sum(1 for line in text.splitlines() if line.startswith('## <a id="r-')) == 3
    assert "全部 3 个仓库合计" in text


def test_names_left_out_of_an_analysis_come_back_from_storage(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """The files an analysis left out are read back by name; an empty list stays empty."""
    at = datetime(2026, 2, 3, 4, 0, tzinfo=UTC)
    partial, whole = land(client, "acme/api", "partial", at), land(client, "acme/api", "whole", at)
    left_out = {partial: ["Cargo.lock", "docs/费用.md", 'we"ird\\name'], whole: []}
    body = {
        "change_type": "feature",
        "importance": "low",
        "summary": "Adds a thing.",
        "impact_scope": [],
        "insights": dict.fromkeys(("architecture", "performance", "security", "compatibility"), ""),
        "risks": [],
        "recommendations": [],
        "breaking_change": False,
    }
    with runtime.session() as session:
        for sha, names in left_out.items():
            commit_id = session.scalars(select(Commit.id).where(Commit.sha == sha)).one()
            session.execute(
                insert(AnalysisRow).values(
                    commit_id=commit_id,
                    analyzer="llm",
                    language="en",
                    change_type="feature",
                    importance="low",
                    breaking_change=False,
                    body=body,
                    source="github",
                    files_analysed=1,
                    files_total=1 + len(names),
                    lines_analysed=10,
                    lines_total=10,
                    omitted=names,
                    redactions=0,
                    needs_reanalysis=False,
                    created_at=at,
                    updated_at=at,
                )
            )
    with runtime.session() as session:
        day = collect_day(session, settings, date(2026, 2, 3), SHANGHAI)
    coverage = {e.sha: e.coverage for e in day.repositories[0].entries}
    assert {sha: c.omitted for sha, c in coverage.items() if c} == {
        sha: tuple(names) for sha, names in left_out.items()
    }
