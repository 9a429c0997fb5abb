"""Untrusted text in the report: an XSS corpus stays inert, email headers cannot be injected."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from commit_digest.reporting.convert import markdown_to_html
from report.data import Entry, RepositoryDay
from report.html import ALLOWED_TAGS, html_document
from report.mail import build_message, subject_for
from report.render import render_markdown
from report.schema import Analysis, Insights, ScopeItem

from support.html_check import parse
from support.sample_day import sample_day

CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "![img](javascript:alert(1))",
    "[ref][1]\n\n[1]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<http://evil.example/?q=<script>>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "&#106;avascript:alert(1)",
    "<!-- comment --><b>bold</b>",
    "<iframe src=//evil.example></iframe>",
    "<style>body{display:none}</style>",
    "</td><script>alert(1)</script><td>",
    "| cell | <b>x</b> |",
    "`code` **bold** _em_ [a](https://example.com)",
    "<details open ontoggle=alert(1)>",
    "\u202e\u0000<x>",
]


def hostile_entry(text: str, index: int) -> Entry:
    analysis = Analysis(
        change_type="bugfix",
        importance=("high", "medium", "low")[index % 3],  # type: ignore[arg-type]
        summary=text,
        impact_scope=[ScopeItem(area=text[:200] or "x", note=text)],
        insights=Insights(architecture=text, performance=text, security=text, compatibility=text),
        risks=[text],
        recommendations=[text],
        breaking_change=index % 2 == 0,
    )
    return Entry(
        repository="acme/app",
        sha=f"{index:02d}" + "a" * 38,
        url=f"https://github.com/acme/app/commit/{index:02d}" + "a" * 38,
        author=text,
        message=f"{text}\n\n{text}",
        committed_at=datetime(2026, 2, 3, index % 24, tzinfo=UTC),
        analysis=analysis,
        analyzer="heuristic" if index % 4 == 0 else "llm",
        fallback_reason=text,
    )


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_xss_corpus_is_inert_in_the_html(language: str) -> None:
    """No script, event handler, foreign tag or dangerous URL survives from commits or the model."""
    day = replace(
        sample_day(),
        repositories=(
            RepositoryDay("acme/app", tuple(hostile_entry(t, i) for i, t in enumerate(CORPUS))),
        ),
    )
    html = html_document(markdown_to_html(render_markdown(day, language)), "report")
    found = parse(html)
    assert found.live == []
    assert found.tags - {"html", "head", "meta", "title", "body"} <= set(ALLOWED_TAGS)
    assert not found.tags & {"script", "img", "svg", "iframe", "style", "details", "b"}
    assert all(
        href.startswith(("#", "https://github.com/acme/app/commit/")) for href in found.hrefs
    )


def test_subject_and_headers_cannot_be_injected() -> None:
    """Line breaks in anything that reaches a header are folded away; no header is added."""
    subject = subject_for("2026-02-03", ["acme/app\r\nBcc: victim@example.com"], "en")
    assert "\n" not in subject
    assert "\r" not in subject
    message = build_message(
        subject=subject,
        sender="Digest <digest@example.com>",
        recipients=["team@example.com"],
        markdown_text="# x\n",
        html_text="<p>x</p>",
        message_id="<x@example.com>",
        date=datetime(2026, 2, 4, tzinfo=UTC),
    )
    parsed = message_from_bytes(bytes(message), policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed.get_all("To") == ["team@example.com"]
    with pytest.raises(ValueError, match="not an email address"):
        build_message(
            subject="x",
            sender="digest@example.com",
            recipients=["a@example.com\r\nBcc: b@example.com"],
            markdown_text="",
            html_text="",
            message_id="<y@example.com>",
            date=datetime(2026, 2, 4, tzinfo=UTC),
        )
