"""Send a stored report by email exactly once per (day, scope, recipients)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import select, update

from commit_digest.config import Settings
from commit_digest.models import ReportSend
from commit_digest.reporting.build import (
    BuiltReport,
    email_parts,
)
from commit_digest.runtime import Runtime
from commit_digest.storage import insert_ignoring_conflicts, rowcount
from report.errors import SendFailed
from report.mail import build_message, message_id_for, recipients_key
from report.send import OutboxSender, Sender, SmtpSender

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SendOutcome:
    status: str  # sent, already-sent, in-progress, failed
    where: str | None = None
    error: str | None = None


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
            day=built.label,
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
    log.info("report.sent", day=built.label, recipients=len(recipients), where=where)
    return SendOutcome(status="sent", where=where)


def _claim_send(
    rt: Runtime, built: BuiltReport, recipients: list[str], key: str, now: datetime, resend: bool
) -> SendOutcome | tuple[int, str]:
    day = built.label
    with rt.session() as session:
        inserted = session.execute(
            insert_ignoring_conflicts(session, ReportSend)
            .values(
                day=built.day,
                period=built.period,
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
                ReportSend.period == built.period,
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
