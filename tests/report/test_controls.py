"""Terminal escapes and control characters in commit text reach no report and no terminal."""

from __future__ import annotations

from datetime import date

from commit_digest.reporting.convert import markdown_to_html
from report.data import DayReport, RepositoryDay
from report.markdown_text import without_controls
from report.render import render_markdown

from support.sample_day import SHANGHAI, analysis, entry

NASTY = "fix: \x1b[2J\x1b[31mred\x1b[0m \x1b]0;pwned\x07title \x07bell\x00nul\x9b2Jcsi\x08back"


def test_controls_are_stripped_and_the_words_kept() -> None:
    """CSI, OSC, BEL, NUL, C1 and backspace go; the printable text stays."""
    assert without_controls(NASTY) == "fix: red title bellnulcsiback"
    assert without_controls("tab\tand\nnewline stay") == "tab\tand\nnewline stay"
    assert without_controls("carriage\rreturn\r\nline") == "carriage return\nline"
    assert without_controls("8-bit \x9b31mCSI\x9b0m") == "8-bit CSI"


def test_the_report_carries_no_control_character() -> None:
    """A subject and a summary full of escapes render (Markdown and HTML) without any of them."""
    day = DayReport(
        date(2026, 2, 3),
        SHANGHAI,
        (
            RepositoryDay(
                "acme/app",
                (
                    entry(
                        "a" * 40,
                        "mallory",
                        NASTY,
                        "2026-02-03 10:00",
                        analysis("bugfix", "high", NASTY),
                        repository="acme/app",
                        repo_url="acme/app",
                    ),
                ),
            ),
        ),
    )
    for language in ("en", "zh-CN"):
        markdown = render_markdown(day, language)
        html = markdown_to_html(markdown)
        for text in (markdown, html):
            assert not any(
                (ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F for c in text
            )
        assert "red" in markdown
