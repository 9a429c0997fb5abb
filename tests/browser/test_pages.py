"""The report and archive pages as a person sees them, at a desktop and a phone width."""

from __future__ import annotations

from typing import Any

import pytest

from commit_digest.reporting.convert import markdown_to_html
from report.html import html_document
from report.render import render_markdown

from .conftest import DAY, REFERENCE_SCOPE, TOKEN, screenshot
from support.sample_day import sample_day

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)


def overflow(page: Any) -> int:
    """How many pixels the page is wider than the viewport (0: no horizontal scrolling)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_report_page_reads_well_and_every_toc_link_lands(
    site: str, page_at: Any, width: int, language: str
) -> None:
    """No console errors, no horizontal scrolling, and each table-of-contents link finds its section."""
    page, problems = page_at(f"{site}/reports/{DAY}?lang={language}&token={TOKEN}", width)
    screenshot(page, f"report-{language}-{width}")
    assert problems == []
    assert overflow(page) <= 0, "the page scrolls sideways"
    anchors = page.eval_on_selector_all(
        "a[href^='#']", "links => links.map(a => a.getAttribute('href').slice(1))"
    )
    assert len(anchors) >= 10
    for anchor in anchors:
        assert page.locator(f"[id='{anchor}']").count() == 1, f"no section #{anchor}"
    for anchor in anchors[:3] + anchors[-3:]:
        page.click(f"a[href='#{anchor}']")
        top = page.evaluate(f"document.getElementById({anchor!r}).getBoundingClientRect().top")
        bottom_of_page = page.evaluate(
            "window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2"
        )
        assert abs(top) < 5 or bottom_of_page, f"#{anchor} is at {top}px after its link"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_archive_lists_the_reports_and_links_to_them(
    site: str, page_at: Any, width: int
) -> None:
    """The archive shows the stored reports; its links open them (the token travels along)."""
    page, problems = page_at(f"{site}/reports?token={TOKEN}", width)
    screenshot(page, f"archive-{width}")
    assert problems == []
    assert overflow(page) <= 0
    page.click(f"a[href*='/reports/{DAY}?'][href*='lang=en']")
    page.wait_for_load_state()
    assert page.url.startswith(f"{site}/reports/{DAY}")
    assert page.locator("h1").first.inner_text().strip() != ""


def test_the_email_html_renders_inline_styled_and_under_its_cap(
    page_at: Any, tmp_path: Any
) -> None:
    """The email's HTML has no style sheet of its own, stays under 2 MB and renders cleanly."""
    html = html_document(markdown_to_html(render_markdown(sample_day(), "zh-CN")), "Daily report")
    assert len(html.encode()) < 2 * 1024 * 1024
    assert "<style" not in html
    assert "<link" not in html
    assert "<script" not in html
    path = tmp_path / "email.html"
    path.write_text(html)
    page, problems = page_at(path.as_uri(), 600)
    screenshot(page, "email-zh-CN-600")
    assert problems == []
    assert page.locator("table").count() >= 1


@pytest.mark.parametrize("width", WIDTHS)
def test_the_trends_chart_is_drawn_on_the_page(site: str, page_at: Any, width: int) -> None:
    """The web page draws the 14 days as an SVG chart within the page's width, today last."""
    page, problems = page_at(f"{site}/reports/{DAY}?lang=en&token={TOKEN}", width)
    assert problems == []
    chart = page.locator("svg[role='img']")
    assert chart.count() == 1
    assert page.locator("svg[role='img'] > g").count() == 14
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] <= width
    assert box["height"] > 40
    assert page.locator("svg[role='img'] > g").last.locator("title").text_content() == (
        "02-03: 6 commits, 2 high"
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_reference_day_shows_every_part(
    site: str, page_at: Any, width: int, language: str
) -> None:
    """The reference day as a team's report: every part on the page, nothing sideways."""
    query = f"lang={language}&repo={REFERENCE_SCOPE}&token={TOKEN}"
    page, problems = page_at(f"{site}/reports/{DAY}?{query}", width)
    screenshot(page, f"reference-day-{language}-{width}")
    screenshot(page, f"reference-day-{language}-{width}-top", height=2400 if width < 600 else 1500)
    assert problems == []
    assert overflow(page) <= 0, "the page scrolls sideways"
    for part in ("glance", "overview", "trends", "people", "r-ai-dynamo-dynamo-pulls"):
        assert page.locator(f"[id='{part}']").count() == 1, part
    assert page.locator("svg[role='img'] > g").count() == 14
    assert page.locator("a[href*='/pull/']").count() >= 14
    assert page.locator("a[href*='/commit/']").count() >= 14
    assert page.get_by_text("Mutex<HashMap>").count() >= 1
