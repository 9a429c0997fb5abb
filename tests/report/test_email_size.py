"""No commit, and no day, makes the email larger than 2 MB: fields are capped, the rest linked."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from commit_digest.reporting.build import EMAIL_CAP, BuiltReport, email_parts
from commit_digest.reporting.convert import markdown_and_html
from report.data import DayReport, RepositoryDay
from report.render import render_markdown_pieces

from support.sample_day import analysis, entry, many_commits

UTC = ZoneInfo("UTC")


def built(day: DayReport, language: str = "en") -> BuiltReport:
    markdown, body = markdown_and_html(render_markdown_pieces(day, language))
    return BuiltReport(day.day, "", language, day, markdown, body, "Daily report")


def test_a_3_mb_subject_is_cut_in_the_report() -> None:
    """A 3 MB subject and a 10,000-character author come out cut, marked with …."""
    huge = "fix: " + "overflow " * 350_000
    day = DayReport(
        date(2026, 2, 3),
        UTC,
        (
            RepositoryDay(
                "acme/app",
                (
                    entry(
                        "b" * 40,
                        "x" * 10_000,
                        huge,
                        "2026-02-03 10:00",
                        analysis("bugfix", "high", "A summary (the schema caps model output)."),
                        repository="acme/app",
                        repo_url="acme/app",
                    ),
                ),
            ),
        ),
    )
    report = built(day)
    markdown, html = email_parts(report, "https://digest.example.com")
    assert len(report.markdown) < 60_000
    assert "…" in report.markdown
    assert len(markdown.encode()) + len(html.encode()) < 200_000


def test_a_huge_day_is_cut_under_the_cap_with_a_link_to_the_rest() -> None:
    """10,000 commits: the email keeps what fits in 2 MB and links the web page for the rest."""
    report = built(many_commits(10_000))
    assert len(report.markdown.encode()) + len(report.html.encode()) > EMAIL_CAP
    markdown, html = email_parts(report, "https://digest.example.com")
    assert len(markdown.encode()) + len(html.encode()) <= EMAIL_CAP
    assert "https://digest.example.com/reports/" in markdown
    assert "is on the web page" in markdown
    assert markdown.startswith(report.markdown[:5_000])
