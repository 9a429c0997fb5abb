"""The nightly report: collect (query), render (pure, in ``report``), store, send exactly once."""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import structlog
from pydantic import ValidationError
from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.orm import Session

from commit_digest.config import Settings
from commit_digest.models import Analysis as AnalysisRow
from commit_digest.models import Commit, CommitOverride, Report, ReportSend, Repository
from commit_digest.reporting.convert import markdown_and_html
from commit_digest.runtime import Runtime
from commit_digest.storage import insert_ignoring_conflicts, rowcount, upsert
from report.data import Coverage, DayReport, Entry, RepositoryDay, Usage
from report.days import day_window
from report.errors import SendFailed
from report.html import html_document
from report.mail import build_message, message_id_for, recipients_key, subject_for
from report.render import render_markdown_pieces, split_markdown
from report.schema import Analysis, Importance
from report.send import OutboxSender, Sender, SmtpSender

log = structlog.get_logger(__name__)


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

    @property
    def html(self) -> str:
        """The complete, styled HTML document (for the email), made when it is needed."""
        return html_document(self.html_body, self.subject)


@dataclass(frozen=True)
class SendOutcome:
    status: str  # sent, already-sent, in-progress, failed
    where: str | None = None
    error: str | None = None


def scope_of(repositories: Sequence[str] | None) -> str:
    return ",".join(sorted(repositories)) if repositories else ""


def collect_day(
    session: Session,
    settings: Settings,
    day: date,
    zone: ZoneInfo,
    repositories: Sequence[str] | None = None,
) -> DayReport:
    """Every commit that landed during ``day`` in ``zone``, with its analysis (or None).

    Plain columns, not ORM objects, and each analysis validated from its JSON text in one
    pass: a day of 10,000 commits is collected in well under a second.
    """
    start, end = day_window(day, zone)
    statement = (
        select(
            Repository.full_name,
            Commit.sha,
            Commit.message,
            Commit.author_name,
            Commit.author_login,
            Commit.committed_at,
            Commit.landed_at,
            cast(AnalysisRow.body, Text).label("body"),
            AnalysisRow.analyzer,
            AnalysisRow.source,
            AnalysisRow.fallback_reason,
            AnalysisRow.files_analysed,
            AnalysisRow.files_total,
            AnalysisRow.lines_analysed,
            AnalysisRow.lines_total,
            cast(AnalysisRow.omitted, Text).label("omitted"),
            AnalysisRow.tokens_in,
            AnalysisRow.tokens_out,
            AnalysisRow.cost_usd,
            AnalysisRow.redactions,
            CommitOverride.importance.label("override_importance"),
            CommitOverride.set_by.label("override_by"),
        )
        .select_from(Commit)
        .join(Repository, Repository.id == Commit.repository_id)
        .outerjoin(AnalysisRow, AnalysisRow.commit_id == Commit.id)
        .outerjoin(CommitOverride, CommitOverride.commit_id == Commit.id)
        .where(Commit.landed_at >= start, Commit.landed_at < end)
        # /digest ignore: a person with write access left it out of the report
        .where(or_(CommitOverride.ignored.is_(None), CommitOverride.ignored.is_(False)))
        .order_by(Repository.full_name, Commit.id)
    )
    if repositories:
        statement = statement.where(Repository.full_name.in_(list(repositories)))
    grouped: dict[str, list[Entry]] = defaultdict(list)
    for row in session.execute(statement):
        grouped[row.full_name].append(_entry(row, settings))
    names = sorted(set(grouped) | set(repositories or ()))
    return DayReport(
        day=day,
        timezone=zone,
        repositories=tuple(RepositoryDay(name=n, entries=tuple(grouped.get(n, ()))) for n in names),
    )


def _entry(row: Any, settings: Settings) -> Entry:
    analysis: Analysis | None = None
    if row.body is not None:
        try:
            analysis = Analysis.model_validate_json(row.body)
        except ValidationError:
            log.error("report.analysis.invalid", repository=row.full_name, sha=row.sha)
    analysed = row.analyzer is not None
    if analysis is not None and row.override_importance:
        # /digest importance: the person's rating stands, and the report says whose it is
        analysis = analysis.model_copy(update={"importance": Importance(row.override_importance)})
    return Entry(
        repository=row.full_name,
        sha=row.sha,
        url=f"{settings.github_web_url}/{row.full_name}/commit/{row.sha}",
        author=row.author_name or row.author_login or "—",
        message=row.message,
        committed_at=row.committed_at or row.landed_at,
        analysis=analysis,
        analyzer=row.analyzer,
        source=row.source,
        fallback_reason=row.fallback_reason,
        coverage=Coverage(
            files_analysed=row.files_analysed,
            files_total=row.files_total,
            lines_analysed=row.lines_analysed,
            lines_total=row.lines_total,
            omitted=_omitted(row.omitted),
        )
        if analysed
        else None,
        usage=Usage(row.tokens_in, row.tokens_out, row.cost_usd) if analysed else Usage(),
        redactions=row.redactions if analysed else 0,
        importance_set_by=row.override_by if row.override_importance else None,
    )


def _omitted(text: str | None) -> tuple[str, ...]:
    """The names left out of an analysis, from the column's JSON text.

    Almost every analysis left nothing out: its ``[]`` is not worth a JSON parse (the
    driver's own parse of this column cost PostgreSQL 0.15 s on a 10,000-commit day).
    """
    if not text or text == "[]":
        return ()
    return tuple(str(name) for name in json.loads(text))


def build_report(
    rt: Runtime,
    day: date,
    repositories: Sequence[str] | None = None,
    language: str | None = None,
    warnings: Sequence[str] = (),
) -> BuiltReport:
    """Collect, render and archive the report of ``day`` (``warnings``: what could not be
    checked, shown at the top so a day with a gap does not look complete)."""
    settings = rt.settings
    language = language or settings.report_language
    # A day of thousands of commits allocates hundreds of thousands of small objects that
    # all live until the report is built: the cycle collector would only rescan them.
    with gc_paused():
        with rt.session() as session:
            data = collect_day(session, settings, day, settings.report_timezone, repositories)
        if warnings:
            data = replace(data, warnings=tuple(warnings))
        # each piece of Markdown is converted on another core while the next is rendered
        markdown_text, body = markdown_and_html(render_markdown_pieces(data, language))
    scope = scope_of(repositories)
    # only the Markdown is archived: the pages and a resend make the HTML from it
    _archive(rt, day, scope, language, data, markdown_text)
    return BuiltReport(
        day=day,
        scope=scope,
        language=language,
        data=data,
        markdown=markdown_text,
        html_body=body,
        subject=subject_for(day.isoformat(), [r.name for r in data.repositories], language),
    )


def _archive(
    rt: Runtime, day: date, scope: str, language: str, data: DayReport, markdown_text: str
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
            {"day": day, "scope": scope, "language": language, **values},
            ["day", "scope", "language"],
            values,
        )


def sender_for(settings: Settings) -> Sender:
    if settings.smtp is None:
        return OutboxSender(settings.data_dir / "outbox")
    smtp = settings.smtp
    return SmtpSender(
        host=smtp.host,
        port=smtp.port,
        implicit_tls=smtp.implicit_tls,
        starttls=smtp.starttls,
        username=smtp.username,
        password=smtp.password,
        timeout=smtp.timeout,
        insecure_auth=smtp.insecure_auth,
    )


def send_report(
    rt: Runtime,
    built: BuiltReport,
    *,
    resend: bool = False,
    sender: Sender | None = None,
    recipients: Sequence[str] | None = None,
) -> SendOutcome:
    """Email ``built`` once per day, scope and recipient list; ``resend`` sends again on purpose.

    A row in ``report_sends`` is claimed before sending (unique per day, scope and recipients),
    so concurrent or repeated runs send nothing twice. The one window left open is a crash
    between the relay accepting the message and the row being marked sent: the claim then
    expires after ``REPORT_SEND_LEASE`` and the next run sends again (at-least-once there,
    by choice, since a report nobody received is the worse failure).
    """
    settings = rt.settings
    recipients = list(recipients or settings.report_recipients) or [settings.mail_from]
    key = recipients_key(recipients)
    now = datetime.now(UTC)
    claim = _claim_send(rt, built, recipients, key, now, resend)
    if isinstance(claim, SendOutcome):
        return claim
    send_id, message_id = claim
    markdown_text, html_text = email_parts(built, settings.public_url)
    message = build_message(
        subject=built.subject,
        sender=settings.mail_from,
        recipients=recipients,
        markdown_text=markdown_text,
        html_text=html_text,
        message_id=message_id,
        date=now,
    )
    try:
        where = (sender or sender_for(settings)).send(message)
    except SendFailed as error:
        with rt.session() as session:
            session.execute(
                update(ReportSend)
                .where(ReportSend.id == send_id)
                .values(state="failed", error=str(error)[:500])
            )
        rt.metrics.count("reports_sent", status="failed")
        log.warning(
            "report.send.failed",
            day=built.day.isoformat(),
            transient=error.transient,
            error=str(error),
        )
        if error.transient:
            raise
        return SendOutcome(status="failed", error=str(error))
    with rt.session() as session:
        session.execute(
            update(ReportSend)
            .where(ReportSend.id == send_id)
            .values(state="sent", sent_at=datetime.now(UTC), error=None)
        )
    rt.metrics.count("reports_sent", status="sent")
    log.info("report.sent", day=built.day.isoformat(), recipients=len(recipients), where=where)
    return SendOutcome(status="sent", where=where)


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


def _claim_send(
    rt: Runtime, built: BuiltReport, recipients: list[str], key: str, now: datetime, resend: bool
) -> SendOutcome | tuple[int, str]:
    day = built.day.isoformat()
    with rt.session() as session:
        inserted = session.execute(
            insert_ignoring_conflicts(session, ReportSend)
            .values(
                day=built.day,
                scope=built.scope,
                recipients_key=key,
                recipients=",".join(recipients),
                message_id=message_id_for(day, built.scope, key, rt.settings.mail_from),
                state="sending",
                attempts=1,
                claimed_at=now,
            )
            .returning(ReportSend.id, ReportSend.message_id)
        ).first()
        if inserted is not None:
            return inserted[0], inserted[1]
        row = session.execute(
            select(ReportSend).where(
                ReportSend.day == built.day,
                ReportSend.scope == built.scope,
                ReportSend.recipients_key == key,
            )
        ).scalar_one()
        if row.state == "sent" and not resend:
            return SendOutcome(status="already-sent", where=row.message_id)
        if row.state == "sending" and row.claimed_at > now - rt.settings.send_lease:
            return SendOutcome(status="in-progress")
        message_id = (
            message_id_for(day, built.scope, key, rt.settings.mail_from, row.attempts)
            if resend
            else row.message_id
        )
        taken = rowcount(
            session.execute(
                update(ReportSend)
                .where(
                    ReportSend.id == row.id,
                    ReportSend.state == row.state,
                    ReportSend.claimed_at == row.claimed_at,
                )
                .values(
                    state="sending",
                    claimed_at=now,
                    attempts=row.attempts + 1,
                    message_id=message_id,
                )
            )
        )
        if not taken:
            return SendOutcome(status="in-progress")
        return row.id, message_id


@dataclass(frozen=True)
class DailyStep:
    """What one run of the nightly report task did."""

    status: str  # waiting, sent, already-sent, in-progress, failed
    day: date
    pending: int = 0
    where: str | None = None
    problems: tuple[str, ...] = ()  # what reconciliation could not check, for the retries


def daily_report_step(
    rt: Runtime,
    day: date,
    *,
    deadline: datetime,
    now: datetime,
    reconciled: bool,
    problems: Sequence[str] = (),
) -> tuple[DailyStep, bool]:
    """Reconcile (once), wait for pending analyses until ``deadline``, then build and send.

    Returns the step and whether reconciliation has been done, so the caller can come back
    (a task retry) without repeating it.
    """
    from commit_digest.reporting.reconcile import pending_in_day, reconcile_day

    if not reconciled:
        problems = reconcile_day(rt, day).problems
        reconciled = True
    problems = tuple(problems)
    pending = pending_in_day(rt, day)
    if pending and now < deadline:
        return DailyStep(status="waiting", day=day, pending=pending, problems=problems), reconciled
    built = build_report(rt, day, warnings=problems)
    outcome = send_report(rt, built)
    if rt.installation.teams:
        from commit_digest.reporting.teams import deliver_team_reports

        deliver_team_reports(rt, day, problems)
    return DailyStep(
        status=outcome.status, day=day, pending=pending, where=outcome.where, problems=problems
    ), reconciled
