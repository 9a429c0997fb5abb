"""cmark-gfm through commit_digest.reporting.commonmark: the output of cmarkgfm, without its memory leak."""

from __future__ import annotations

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from commit_digest.reporting import commonmark
from commit_digest.reporting import convert as html
from report.render import split_markdown

TEXT = '# Title\n\n| a | b |\n|---|---|\n| 1 \\| 2 | `x` |\n\n- **bold** <a id="x"></a>\n- https://example.com\n'
OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_VALIDATE_UTF8


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


def test_same_html_as_cmarkgfm() -> None:
    """The HTML is exactly what cmarkgfm's own wrapper produces."""
    expected = cmarkgfm.markdown_to_html_with_extensions(
        TEXT, options=OPTIONS, extensions=["table"]
    )
    assert commonmark.to_html(TEXT, OPTIONS, ("table",)) == expected


def test_repeated_conversion_does_not_grow_memory() -> None:
    """Converting 64 KB of Markdown 200 times leaves the process about the size it was."""
    text = TEXT * 300  # ~40 KB
    commonmark.to_html(text, OPTIONS, ("table",))
    before = rss_kb()
    for _ in range(200):
        commonmark.to_html(text, OPTIONS, ("table",))
    # cmarkgfm's wrapper grows by roughly 60 MB here
    assert rss_kb() - before < 10_000


def test_a_long_report_converts_the_same_on_every_thread_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pieces converted on several threads join to exactly the HTML of one thread."""
    entry = (
        '<a id="c-{n}"></a>\n#### {n}. fix: the <b>cart</b> [link](javascript:x) `code`\n\n'
        "- **Summary**: Something changed in entry {n} & more.\n\n---\n"
    )
    text = "# Report\n\n" + "".join(entry.format(n=n) for n in range(3000))
    pieces = list(split_markdown([text]))
    assert len(pieces) > 4
    monkeypatch.setattr(html, "MAX_THREADS", 1)
    _, one = html.markdown_and_html(pieces)
    monkeypatch.setattr(html, "MAX_THREADS", 4)
    assert html.markdown_and_html(iter(pieces)) == (text, one)
    assert one.count('id="c-') == 3000
    assert "<b>" not in one
    assert "javascript" not in one
