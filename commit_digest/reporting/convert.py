"""Report Markdown → sanitised, styled HTML, a piece at a time on every core.

GitHub's cmark-gfm (C, through our leak-free binding in ``commonmark``) converts a
10,000-commit day in a fraction of a second; Python-Markdown took 9.8 s for it and grew
faster than linearly (benchmarks/RESULTS.md). cmark-gfm (through cffi) and nh3 both release
the GIL while they work, so the pieces of a long report (``report.render.split_markdown``)
convert on other cores while the next piece is rendered or converted; converting one piece
at a time also keeps a single piece's trees, not the whole day's, in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from cmarkgfm.cmark import Options

from commit_digest.reporting import commonmark
from report.html import inline_styles, sanitize
from report.render import split_markdown

MAX_THREADS = 4


def markdown_to_html(text: str) -> str:
    """The report body as sanitised HTML with our inline styles (web page and email)."""
    return markdown_and_html(split_markdown([text]))[1]


def markdown_and_html(pieces: Iterable[str]) -> tuple[str, str]:
    """Join Markdown ``pieces`` and convert each, as it arrives, to sanitised, styled HTML.

    Pieces must be cut between blocks (``report.render.split_markdown`` cuts between
    entries). Returns (the Markdown, the HTML).
    """
    markdown: list[str] = []
    converting: list[Future[str]] = []
    threads = max(1, min(MAX_THREADS, os.cpu_count() or 1))
    # made per call, not per process: a pool's threads do not survive a fork
    with ThreadPoolExecutor(threads, thread_name_prefix="report-html") as pool:
        for piece in pieces:
            markdown.append(piece)
            converting.append(pool.submit(_styled, piece))
        html = "".join(future.result() for future in converting)
    return "".join(markdown), html


def _styled(piece: str) -> str:
    return inline_styles(sanitize(_convert(piece)))


def _convert(text: str) -> str:
    return commonmark.to_html(
        text,
        # UNSAFE keeps the raw <a id> anchors of our template; untrusted text reaches the
        # Markdown already escaped, and nh3 cleans the result whatever it holds
        options=Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_VALIDATE_UTF8,
        # tables only: no autolinks, so a URL in a commit message or model output stays text
        extensions=("table",),
    )
