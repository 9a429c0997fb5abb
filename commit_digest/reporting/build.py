"""Render and store a day's report (pure rendering lives in ``report``), and its email parts."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from commit_digest.models import Report
from commit_digest.reporting.collect import collect_day, scope_of
from commit_digest.reporting.convert import markdown_and_html
from commit_digest.runtime import Runtime
from commit_digest.storage import upsert
from report.data import DayReport
from report.days import period_name
from report.html import html_document
from report.mail import subject_for
from report.render import render_markdown_pieces, split_markdown


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (reference counting still frees memory)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class BuiltReport:
    day: date
    scope: str
    language: str
    data: DayReport
    markdown: str
    html_body: str
    subject: str
    period: str = "day"  # week: the weekly digest, ``day`` being its last day

    @property
    def label(self) -> str:
        """The report's name in message ids and logs: its day, or ``week-`` and its last day."""
        return self.day.isoformat() if self.period == "day" else f"week-{self.day.isoformat()}"

    @property
    def html(self) -> str:
        """The complete, styled HTML document (for the email), made when it is needed."""
        return html_document(self.html_body, self.subject)


def build_report(
    rt: Runtime,
    day: date,
    repositories: Sequence[str] | None = None,
    language: str | None = None,
    warnings: Sequence[str] = (),
    days: int | None = None,
) -> BuiltReport:
    """Collect, render and archive the report of ``day`` (``warnings``: what could not be
    checked, shown at the top so a day with a gap does not look complete).

    ``days``: 1, or 7 for the weekly digest of the week ending with ``day`` (default: as
    ``REPORT_PERIOD`` says).
    """
    settings = rt.settings
    language = language or settings.report_language
    days = days or settings.report_days
    period = period_name(days)
    # A day of thousands of commits allocates hundreds of thousands of small objects that
    # all live until the report is built: the cycle collector would only rescan them.
    with gc_paused():
        with rt.session() as session:
            data = collect_day(session, settings, day, settings.report_timezone, repositories, days)
        if warnings:
            data = replace(data, warnings=tuple(warnings))
        # each piece of Markdown is converted on another core while the next is rendered
        markdown_text, body = markdown_and_html(render_markdown_pieces(data, language))
    scope = scope_of(repositories)
    # only the Markdown is archived: the pages and a resend make the HTML from it
    _archive(rt, day, period, scope, language, data, markdown_text)
    shown = day.isoformat() if days == 1 else f"{data.first_day.isoformat()} – {day.isoformat()}"
    return BuiltReport(
        day=day,
        scope=scope,
        language=language,
        data=data,
        markdown=markdown_text,
        html_body=body,
        subject=subject_for(shown, [r.name for r in data.repositories], language, period),
        period=period,
    )


def _archive(
    rt: Runtime,
    day: date,
    period: str,
    scope: str,
    language: str,
    data: DayReport,
    markdown_text: str,
) -> None:
    values = {
        "timezone": rt.settings.report_timezone.key,
        "markdown": markdown_text,
        "commit_count": data.commit_count,
        "pending_count": data.pending_count,
        "built_at": datetime.now(UTC),
    }
    with rt.session() as session:
        upsert(
            session,
            Report,
            {"day": day, "period": period, "scope": scope, "language": language, **values},
            ["day", "period", "scope", "language"],
            values,
        )


EMAIL_CAP = 2 * 1024 * 1024  # bytes of Markdown and HTML together; mail relays refuse more


_TOO_LONG = {
    "en": "The rest of this report ({left} of {total} characters) is on the web page: {where}",
    "zh-CN": "本日报其余部分（共 {total} 字符中的 {left}）请在网页查看：{where}",
}


def email_parts(
    built: BuiltReport, public_url: str | None, cap: int = EMAIL_CAP
) -> tuple[str, str]:
    """The email's Markdown and HTML: the whole report, or as much as fits under ``cap`` and a
    line saying where the rest is (the web page; every part of it is archived there)."""
    html = built.html
    size = len(built.markdown.encode()) + len(html.encode())
    if size <= cap:
        return built.markdown, html
    if public_url:
        query = urlencode(
            {"lang": built.language, **({"repo": built.scope} if built.scope else {})}
        )
        where = f"{public_url}/reports/{built.day.isoformat()}?{query}"
    else:
        where = f"commit-digest report --date {built.day.isoformat()}"
    if built.period != "day":
        where += "&period=week" if public_url else " --period weekly"
    # Markdown and its HTML grow together, tables much faster than prose: start from the
    # Markdown's share of the size and shrink by the overshoot until the email fits
    share = cap * 0.95 * len(built.markdown.encode()) / size
    for _ in range(8):
        text = _first_bytes(built.markdown, share)
        notice = _TOO_LONG.get(built.language, _TOO_LONG["en"]).format(
            left=f"{len(built.markdown) - len(text):,}",
            total=f"{len(built.markdown):,}",
            where=where,
        )
        markdown_text, body = markdown_and_html([text, f"\n\n---\n\n{notice}\n"])
        html_text = html_document(body, built.subject)
        total = len(markdown_text.encode()) + len(html_text.encode())
        if total <= cap:
            return markdown_text, html_text
        share *= cap / total * 0.95
    raise AssertionError("unreachable: the notice alone fits")


def _first_bytes(markdown: str, budget: float) -> str:
    """The first pieces of ``markdown`` (cut between entries, or a long table between rows)
    that fit in ``budget`` bytes."""
    kept: list[str] = []
    used = 0
    for piece in split_markdown([markdown]):
        size_of_piece = len(piece.encode())
        if used + size_of_piece > budget:
            cut = piece.encode()[: int(budget - used)].decode(errors="ignore").rpartition("\n")[0]
            kept.append(cut + "\n" if cut else "")
            break
        used += size_of_piece
        kept.append(piece)
    return "".join(kept)
