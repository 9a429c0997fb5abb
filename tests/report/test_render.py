"""Rendering the report: golden output in both languages, structure of the reference, anchors."""

from __future__ import annotations

import itertools
import os
import re
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commit_digest.reporting.convert import markdown_to_html
from report.data import DayReport
from report.html import html_document
from report.render import LANGUAGES, render_markdown, render_markdown_pieces, split_markdown

from support.html_check import parse
from support.sample_day import many_commits, sample_day

GOLDEN = Path(__file__).parent / "golden"
UTC_ZONE = ZoneInfo("UTC")


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_golden_markdown(language: str) -> None:
    """A fixed set of analyses renders byte for byte to the checked-in Markdown."""
    rendered = render_markdown(sample_day(), language)
    golden = GOLDEN / f"sample-day.{language}.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(rendered)
    assert rendered == golden.read_text()


def test_zh_cn_follows_the_reference_structure() -> None:
    """Headings, emoji markers and field order are those of the reference report."""
    text = render_markdown(sample_day(), "zh-CN")
    assert text.startswith("# 每日更新报告（2026-02-03）\n")
    assert "| 提交时间 | 作者 | 提交信息 |" in text
    assert '### <a id="r-ai-dynamo-dynamo-stats"></a>📊 统计摘要' in text
    assert "> 本日共 6 个提交 | 🔴高 2 | 🟡中 1 | 🟢低 2 | ⏳待分析 1" in text
    assert "### 📋 目录" in text
    order = [
        '#### <a id="c-ai-dynamo-dynamo-3b9b3f31c001"></a>',
        "**SHA**: `3b9b3f3` | 🔗 [查看提交](https://github.com/ai-dynamo/dynamo/commit/3b9b3f31c0012eb4dd71bdf095d46847b0d7019f)",
        "**🎯 变更类型**：Bug 修复",
        "**⚡ 重要程度**：🔴高",
        "**📋 变更摘要**：",
        "**🎯 影响范围**：",
        "**🔍 技术洞察**",
        "- **架构影响**：",
        "- **性能影响**：",
        "- **兼容性**：",
        "**⚠️ 潜在风险**",
        "**💡 关注建议**",
    ]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)
    sections = [
        text.index(f"></a>{s}")
        for s in ("🔴 高重要度变更 (2)", "🟡 中重要度变更 (1)", "🟢 低重要度变更 (2)")
    ]
    assert sections == sorted(sections)


def test_commit_table_is_newest_first_in_the_report_zone() -> None:
    """Table rows are in the report's time zone, newest first, with pipes escaped."""
    text = render_markdown(sample_day(), "en")
    rows = [line for line in text.splitlines() if re.match(r"^\| 2026-", line)]
    times = [row.split(" | ")[0].lstrip("| ") for row in rows]
    assert times == sorted(times, reverse=True)
    assert times[0] == "2026-02-03 15:25:14"
    assert "| Mallory \\| &lt;b&gt; |" in text


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_toc_link_resolves_in_the_html(language: str) -> None:
    """Every href="#…" of the rendered HTML points at an element id that exists, once."""
    for day in (sample_day(), many_commits(120)):
        found = parse(markdown_to_html(render_markdown(day, language)))
        assert found.fragment_links
        assert set(found.fragment_links) <= set(found.ids)
        assert len(found.ids) == len(set(found.ids))


def test_untrusted_text_is_never_live_html() -> None:
    """Scripts, event handlers and javascript: links from commits or the model stay text."""
    html = markdown_to_html(render_markdown(sample_day(), "en"))
    found = parse(html)
    assert found.live == []
    assert found.tags <= {
        "h1",
        "h2",
        "h3",
        "h4",
        "p",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "blockquote",
        "ul",
        "ol",
        "li",
        "code",
        "strong",
        "em",
        "br",
        "hr",
    }
    assert "&lt;script&gt;" in html


def test_long_day_keeps_low_entries_compact() -> None:
    """With hundreds of commits, low entries take one line each and the TOC lists sections."""
    text = render_markdown(many_commits(500), "en")
    assert "500" not in text.split("\n", 3)[2]  # sanity: the zone line is first
    low_entries = [line for line in text.splitlines() if line.startswith('- <a id="c-')]
    assert len(low_entries) == 300
    assert text.count("](#c-") == 200  # high and medium entries only


def test_empty_day() -> None:
    """A day without commits says so in one line."""
    text = render_markdown(DayReport(date(2026, 2, 3), ZoneInfo("UTC"), ()), "en")
    assert (
        text
        == "# Daily report (2026-02-03)\n\n> All times in UTC (UTC+00:00)\n\nNo commits landed on this day.\n"
    )


def test_dst_day_shows_both_offsets() -> None:
    """On a day the clocks change the zone line names both offsets."""
    text = render_markdown(DayReport(date(2026, 3, 29), ZoneInfo("Europe/Berlin"), ()), "en")
    assert "> All times in Europe/Berlin (UTC+01:00 → UTC+02:00)" in text


def test_html_document_has_inline_styles() -> None:
    """The email HTML carries its styles inline on our tags."""
    document = html_document(markdown_to_html(render_markdown(sample_day(), "en")), "Daily report")
    assert document.startswith("<!DOCTYPE html>")
    assert '<table style="' in document
    assert 'style="' * 2 not in document.replace('" style="', "")
    assert "<style" not in document


def test_html_converted_in_pieces_equals_the_whole() -> None:
    """Cutting the Markdown between entries changes nothing in the HTML."""
    from commit_digest.reporting import convert
    from report import html

    text = render_markdown(many_commits(300), "en")
    whole = convert._styled(text)
    pieces = list(split_markdown([text], 2_000))
    assert len(pieces) > 20
    markdown, converted = convert.markdown_and_html(pieces)
    assert markdown == text
    # a long list of one-line entries may be cut into consecutive lists; nothing else changes
    list_break = f'</ul>\n<ul style="{html.STYLES["ul"]}">\n'
    assert converted.replace(list_break, "") == whole.replace(list_break, "")


def test_the_report_rendered_in_pieces_is_the_report() -> None:
    """Pieces made while rendering join to the Markdown, and convert to the page's HTML."""
    from commit_digest.reporting import convert

    for day in (sample_day(), many_commits(400), DayReport(date(2026, 2, 3), UTC_ZONE, ())):
        for language in LANGUAGES:
            text = render_markdown(day, language)
            pieces = list(render_markdown_pieces(day, language, 3_000))
            assert "".join(pieces) == text
            assert pieces == list(split_markdown([text], 3_000))
            # the email's HTML (made while rendering) is the web page's (made from the archive)
            assert convert.markdown_and_html(render_markdown_pieces(day, language)) == (
                text,
                convert.markdown_to_html(text),
            )


_BLOCKS = st.sampled_from(
    ["\n", "\n\n\n", "text", "---", "\n---\n", '- <a id="c-x"></a>one', "## h", " ", "-"]
)


@given(
    blocks=st.lists(_BLOCKS, max_size=60),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
    size=st.integers(min_value=1, max_value=40),
)
def test_pieces_do_not_depend_on_how_the_text_arrives(
    blocks: list[str], cuts: list[int], size: int
) -> None:
    """However the text is cut into parts, the pieces are the same and join to the folded text."""
    text = "".join(blocks)
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    parts = [text[a:b] for a, b in itertools.pairwise(bounds)]
    whole = list(split_markdown([text], size))
    assert list(split_markdown(parts, size)) == whole
    assert "".join(whole) == re.sub(r"\n{3,}", "\n\n", text)
    for piece, following in itertools.pairwise(whole):  # each cut: an entry boundary, size in
        assert len(piece) >= size
        assert piece.endswith("\n---\n") or (
            piece.endswith("\n") and following.startswith('- <a id="c-')
        )
