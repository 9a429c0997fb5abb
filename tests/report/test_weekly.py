"""The weekly digest (REPORT_PERIOD=weekly): the same parts over the seven days ending a day."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

from click.testing import CliRunner
from sqlalchemy import insert, select
from test_day_sections import _commit

from commit_digest.cli import main
from commit_digest.config import Settings, load_settings
from commit_digest.models import Report, Repository
from commit_digest.queueing import beat_schedule
from commit_digest.reporting.build import build_report
from commit_digest.reporting.collect import collect_day
from commit_digest.reporting.deliver import send_report
from commit_digest.runtime import Runtime
from report.data import DayCount
from report.render import render_markdown

from support.sample_day import SHANGHAI, sample_day

DAY = date(2026, 2, 8)  # a Sunday: the week is Monday 02-02 to Sunday 02-08


def a_week() -> object:
    """The sample day's commits as a week's, with the 14 days of the chart."""
    return dataclasses.replace(
        sample_day(),
        day=DAY,
        days=7,
        history=tuple(
            DayCount(DAY - timedelta(days=13 - n), commits, high, churn)
            for n, (commits, high, churn) in enumerate(
                [(4, 1, 300)] * 7
                + [(1, 0, 50), (0, 0, 0), (2, 1, 900), (0, 0, 0), (1, 0, 10)]
                + [(1, 1, 10), (1, 0, 0)]
            )
        ),
    )


def test_a_week_has_every_part_of_a_day_named_for_the_week() -> None:
    """Title with both ends, the week at a glance, trends against the week before, 14 bars
    with the week's seven in bold, people, the overview with the quiet repository."""
    text = render_markdown(a_week(), "en")  # type: ignore[arg-type]
    assert text.startswith("# Weekly report (2026-02-02 – 2026-02-08)\n")
    assert '## <a id="glance"></a>⭐ This week at a glance' in text
    assert "> This week against the week before: commits 6 (week before 28, -79 %)" in text
    assert "Areas that moved most this week:" in text
    chart = [line for line in text.splitlines() if line.startswith("| ") and "█" in line]
    assert len(chart) == 12  # the two empty days have no bar
    bold = [line for line in text.splitlines() if line.startswith("| **")]
    assert [line.split(" | ")[0] for line in bold] == [f"| **02-0{n}**" for n in range(2, 9)]
    assert 'id="people"' in text
    assert "| ai-dynamo/docs | 0 | no changes |" in text
    assert "6 commits this week |" in text
    zh = render_markdown(a_week(), "zh-CN")  # type: ignore[arg-type]
    assert zh.startswith("# 每周更新报告（2026-02-02 – 2026-02-08）\n")
    assert "本周与上周相比：提交 6（上周 28，-79%）" in zh


def test_the_weekly_schedule_runs_on_mondays_only() -> None:
    """Beat sends the digest each Monday at REPORT_TIME; daily keeps every day."""
    weekly = beat_schedule(load_settings({"REPORT_PERIOD": "weekly", "REPORT_TIME": "07:30"}))
    daily = beat_schedule(load_settings({}))
    cron = weekly["daily-report"]["schedule"]
    assert cron.day_of_week == {1}
    assert (cron.hour, cron.minute) == ({7}, {30})
    assert daily["daily-report"]["schedule"].day_of_week == set(range(7))


def test_a_bad_period_is_one_clear_line() -> None:
    """REPORT_PERIOD=monthly stops with the variable named; --period is checked by click."""
    result = CliRunner().invoke(main, ["config", "show"], env={"REPORT_PERIOD": "monthly"})
    assert result.exit_code != 0
    assert "REPORT_PERIOD" in result.output + (result.stderr or "")
    assert "Traceback" not in result.output


def test_the_week_is_collected_archived_and_served_beside_the_day(
    runtime: Runtime, settings: Settings, client_with: Any
) -> None:
    """Seven days of commits in one weekly report, stored as its own period beside the daily
    report of its last day, each served at its own address."""
    with runtime.session() as session:
        repo = session.execute(
            insert(Repository)
            .values(full_name="octo/week", created_at=datetime.now(UTC))
            .returning(Repository.id)
        ).scalar_one()
        for n in range(8):  # 02-01 (the week before) to 02-08
            noon = datetime(2026, 2, 1 + n, 4, 0, tzinfo=UTC)
            _commit(session, repo, f"{n:x}" * 40, noon, "high" if n % 3 == 0 else "low")
    with runtime.session() as session:
        week = collect_day(session, settings, DAY, SHANGHAI, days=7)
        day = collect_day(session, settings, DAY, SHANGHAI)
    assert week.commit_count == 7
    assert day.commit_count == 1
    assert len(week.history) == 14
    assert week.history[-1].day == DAY
    assert sum(d.commits for d in week.history[-7:]) == 7
    assert week.history[-8].commits == 1  # 02-01, the Sunday before

    weekly = build_report(runtime, DAY, ["octo/week"], "en", days=7)
    daily = build_report(runtime, DAY, ["octo/week"], "en", days=1)
    assert weekly.subject.startswith("Weekly report 2026-02-02 – 2026-02-08")
    assert daily.subject.startswith("Daily report 2026-02-08")
    with runtime.session() as session:
        stored = session.execute(
            select(Report.period, Report.commit_count).where(Report.day == DAY)
        ).all()
    assert sorted(stored) == [("day", 1), ("week", 7)]
    # one email per period: the week's and its last day's are two reports
    assert send_report(runtime, weekly).status == "sent"
    assert send_report(runtime, daily).status == "sent"
    assert send_report(runtime, weekly).status == "already-sent"
    client = client_with(ACCESS_TOKEN="week-token-0123456789")
    auth = {"Authorization": "Bearer week-token-0123456789"}
    week_page = client.get(
        f"/reports/{DAY.isoformat()}?lang=en&repo=octo/week&period=week", headers=auth
    )
    day_page = client.get(f"/reports/{DAY.isoformat()}?lang=en&repo=octo/week", headers=auth)
    assert week_page.status_code == day_page.status_code == 200
    assert "Weekly report (2026-02-02 – 2026-02-08)" in week_page.text
    assert "Daily report (2026-02-08)" in day_page.text
    listed = client.get("/reports", headers={"Accept": "application/json", **auth}).json
    assert {(r["day"], r["period"]) for r in listed} == {
        ("2026-02-08", "day"),
        ("2026-02-08", "week"),
    }
    week_link = next(r["html"] for r in listed if r["period"] == "week")
    assert "period=week" in week_link
