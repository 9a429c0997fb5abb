"""The day as a whole: at a glance, every repository, trends against the week, the people."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from commit_digest.config import Settings
from commit_digest.models import Analysis as AnalysisRow
from commit_digest.models import Commit, Repository
from commit_digest.reporting.collect import collect_day, history
from commit_digest.reporting.convert import markdown_to_html
from commit_digest.runtime import Runtime
from report.chart import chart_bars, with_svg_chart
from report.data import DayReport, RepositoryDay
from report.render import render_markdown

from support.sample_day import SHANGHAI, many_commits, sample_day


def test_glance_only_says_what_stored_analyses_say() -> None:
    """Each line cites a commit by linked short SHA and quotes its analysis's own summary."""
    report = sample_day()
    text = render_markdown(report, "en")
    glance = text.split('<a id="glance"></a>', 1)[1].split("\n## ", 1)[0]
    lines = [line for line in glance.splitlines() if line.startswith("- ")]
    assert 1 <= len(lines) <= 5
    summaries = {
        e.sha[:7]: e.analysis.summary for r in report.repositories for e in r.entries if e.analysis
    }
    for line in lines:
        sha = re.search(
            r"\[`([0-9a-f]{7})`\]\(https://github\.com/[^)]+/commit/\1[0-9a-f]+\)", line
        )
        assert sha, line
        sentence = line.split(": ", 1)[1].split(" ⚠️", 1)[0]
        assert sentence.rstrip(".") in summaries[sha[1]]


def test_a_quiet_day_has_nothing_at_a_glance() -> None:
    """Only low-importance work: no glance section at all rather than filler."""
    report = many_commits(3)
    low_only = dataclasses.replace(
        report,
        repositories=tuple(
            RepositoryDay(
                r.name,
                tuple(e for e in r.entries if e.analysis and e.analysis.importance.value == "low"),
            )
            for r in report.repositories
        ),
    )
    assert 'id="glance"' not in render_markdown(low_only, "en")


def test_people_off_leaves_no_trace() -> None:
    """REPORT_PEOPLE=off: no section, no heading, no anchor, no per-author table."""
    text = render_markdown(dataclasses.replace(sample_day(), people=False), "zh-CN")
    assert 'id="people"' not in text
    assert "👥" not in text
    assert "| 作者 | 提交 |" not in text
    assert 'id="people"' in render_markdown(sample_day(), "zh-CN")


def test_overview_lists_repositories_without_changes() -> None:
    """Every repository of the report is in the overview; quiet ones say so, unlinked."""
    text = render_markdown(sample_day(), "en")
    assert "| [ai-dynamo/dynamo](#r-ai-dynamo-dynamo) | 6 |" in text
    assert "| ai-dynamo/docs | 0 | no changes |" in text


def test_no_history_no_trends() -> None:
    """A first day has nothing to compare with: no trends section."""
    text = render_markdown(dataclasses.replace(sample_day(), history=()), "en")
    assert 'id="trends"' not in text


def test_trends_compare_with_the_previous_seven_days() -> None:
    """Today's commits against the average of the last seven days before it; 14 bars."""
    text = render_markdown(sample_day(), "en")
    # the sample's last seven days: 6, 8, 0, 2, 5, 4 and 3 commits → 28 / 7 = 4.0
    assert "commits 6 (average 4, +50 %)" in text
    assert text.count("| **02-03** |") == 1
    chart = text.split('<a id="trends"></a>', 1)[1].split("\n## ", 1)[0]
    assert (
        len([line for line in chart.splitlines() if re.match(r"\| (\*\*)?\d\d-\d\d", line)]) == 14
    )


def _commit(session: object, repository_id: int, sha: str, landed: datetime, level: str) -> None:
    commit_id = session.execute(  # type: ignore[attr-defined]
        insert(Commit)
        .values(
            repository_id=repository_id,
            sha=sha,
            message=f"fix: {sha}",
            landed_at=landed,
            committed_at=landed,
            source="webhook",
            created_at=landed,
            attempts=0,
        )
        .returning(Commit.id)
    ).scalar_one()
    session.execute(  # type: ignore[attr-defined]
        insert(AnalysisRow).values(
            commit_id=commit_id,
            analyzer="heuristic",
            language="en",
            change_type="bugfix",
            importance=level,
            body={},
            source="delivery",
            lines_total=10,
            created_at=landed,
            updated_at=landed,
        )
    )


def test_collect_counts_the_days_before_and_the_quiet_repositories(
    runtime: Runtime, settings: Settings
) -> None:
    """History buckets by the report's own days (its zone), and repositories without commits
    that day are listed as quiet."""
    day = date(2026, 2, 3)
    noon = datetime(2026, 2, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    with runtime.session() as session:
        busy, quiet = (
            session.execute(
                insert(Repository).values(full_name=name, created_at=noon).returning(Repository.id)
            ).scalar_one()
            for name in ("octo/busy", "octo/quiet")
        )
        _commit(session, busy, "a" * 40, noon, "high")
        _commit(session, busy, "b" * 40, noon - timedelta(days=1), "high")
        _commit(session, busy, "c" * 40, noon - timedelta(days=1), "low")
        # 23:30 on 01-31 in Shanghai is still 01-31 there, though 15:30 UTC
        _commit(session, quiet, "d" * 40, datetime(2026, 1, 31, 15, 30, tzinfo=UTC), "low")
        _commit(session, quiet, "e" * 40, noon - timedelta(days=20), "low")  # too old
    with runtime.session() as session:
        counts = history(session, day, SHANGHAI)
        report: DayReport = collect_day(session, settings, day, SHANGHAI)
    assert len(counts) == 13
    assert counts[-1].day == date(2026, 2, 2)
    assert (counts[-1].commits, counts[-1].high, counts[-1].churn) == (2, 1, 20)
    assert counts[-3].day == date(2026, 1, 31)
    assert counts[-3].commits == 1
    assert sum(c.commits for c in counts) == 3
    assert report.quiet == ("octo/quiet",)
    assert report.history == counts


def test_pages_follow_dark_mode_and_emails_keep_inline_styles_only() -> None:
    """The web page carries a prefers-color-scheme style; the email document none."""
    from report.html import html_document

    assert "prefers-color-scheme: dark" in html_document("<p>x</p>", "t", page=True)
    assert "<style" not in html_document("<p>x</p>", "t")


def test_the_page_draws_the_trends_table_as_svg_and_the_email_keeps_the_table() -> None:
    """Same numbers in both: the SVG is made from the stored report's own chart table."""
    body = markdown_to_html(render_markdown(sample_day(), "zh-CN"))
    bars, span = chart_bars(body)
    assert [(b.day, b.commits, b.high) for b in bars][-2:] == [("02-02", 4, 0), ("02-03", 6, 2)]
    assert [b.today for b in bars].count(True) == 1
    assert span is not None
    page = with_svg_chart(body, "zh-CN")
    assert page.count("<svg") == 1
    assert "近 14 天每日提交数" in page
    assert body.count("<table") == page.count("<table") + 1
    assert "<svg" not in body  # the email's HTML
    without = markdown_to_html(render_markdown(dataclasses.replace(sample_day(), history=()), "en"))
    assert with_svg_chart(without, "en") == without


def test_a_day_with_no_commits_in_one_of_three_repositories() -> None:
    """Three repositories, one quiet: all three in the overview, two sections below, and the
    quiet one has neither a section nor a link."""
    report = sample_day()
    [dynamo] = report.repositories
    half = len(dynamo.entries) // 2
    three = dataclasses.replace(
        report,
        repositories=(
            RepositoryDay("acme/api", dynamo.entries[:half]),
            RepositoryDay("acme/web", dynamo.entries[half:]),
        ),
        quiet=("acme/docs",),
    )
    for language, quiet_row in (
        ("en", "| acme/docs | 0 | no changes |"),
        ("zh-CN", "| acme/docs | 0 | 无变更 |"),
    ):
        text = render_markdown(three, language)
        overview = text.split('<a id="overview"></a>', 1)[1].split("\n## ", 1)[0]
        rows = [
            line for line in overview.splitlines() if line.startswith("| ") and "---" not in line
        ]
        assert len(rows) == 4  # the header and three repositories
        assert f"| [acme/api](#r-acme-api) | {half} |" in overview
        assert f"| [acme/web](#r-acme-web) | {len(dynamo.entries) - half} |" in overview
        assert quiet_row in overview
        assert '<a id="r-acme-api"></a>' in text
        assert '<a id="r-acme-web"></a>' in text
        assert 'id="r-acme-docs"' not in text
