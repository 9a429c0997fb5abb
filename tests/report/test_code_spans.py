"""Text in backticks is shown as written and never becomes live HTML (issue 16)."""

from __future__ import annotations

import pytest

from commit_digest.reporting.convert import markdown_to_html
from report.html import sanitize
from report.markdown_text import cell, inline


@pytest.mark.parametrize(
    ("subject", "code"),
    [
        ("Drop inline `<style>` from the page", "&lt;style&gt;"),
        ("Return `Vec<T>` from parse", "Vec&lt;T&gt;"),
        ("Render `<App/>` lazily", "&lt;App/&gt;"),
        ("Take `Option<&str>`", "Option&lt;&amp;str&gt;"),
    ],
)
def test_code_span_is_escaped_once(subject: str, code: str) -> None:
    """A code span in a subject shows its text once escaped, in a line and in a table cell."""
    for text in (inline(subject), "| a |\n|---|\n| " + cell(subject) + " |"):
        html = sanitize(markdown_to_html(text))
        assert f"<code>{code}</code>" in html
        assert "&amp;lt;" not in html
        assert "<style>" not in html
        assert "<App/>" not in html


def test_plain_markup_and_stray_backtick_stay_text() -> None:
    """Markup outside code and a backtick without a partner stay text."""
    html = sanitize(markdown_to_html(inline("a ` stray <b>bold</b>") + " `x`"))
    assert "<b>" not in html
    assert "&lt;b&gt;" in html
