"""Build the report email: multipart Markdown text + HTML, headers that cannot be injected."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

SUBJECTS = {
    ("zh-CN", "day"): "每日更新报告 {day} — {repos}",
    ("en", "day"): "Daily report {day} — {repos}",
    ("zh-CN", "week"): "每周更新报告 {day} — {repos}",
    ("en", "week"): "Weekly report {day} — {repos}",
}
SUBJECT_REPOS_SHOWN = 3


def subject_for(day: str, repositories: Sequence[str], language: str, period: str = "day") -> str:
    shown = list(repositories[:SUBJECT_REPOS_SHOWN])
    if len(repositories) > SUBJECT_REPOS_SHOWN:
        shown.append(f"+{len(repositories) - SUBJECT_REPOS_SHOWN}")
    repos = ", ".join(shown) if shown else "—"
    return _single_line(SUBJECTS[language, period].format(day=day, repos=repos))


def message_id_for(day: str, scope: str, recipients_key: str, sender: str, attempt: int = 0) -> str:
    """A Message-ID stable per day, scope and recipient list (and per explicit resend)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "commit-digest.local"
    digest = hashlib.sha256(f"{day}|{scope}|{recipients_key}|{attempt}".encode()).hexdigest()[:24]
    return f"<report.{day}.{digest}@{domain}>"


def recipients_key(recipients: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(r.lower() for r in recipients)).encode()).hexdigest()


def build_message(
    *,
    subject: str,
    sender: str,
    recipients: Sequence[str],
    markdown_text: str,
    html_text: str,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """The multipart report email; header values are checked for line breaks by the policy."""
    message = EmailMessage()
    message["Subject"] = _single_line(subject)
    message["From"] = _address(sender)
    message["To"] = [_address(r) for r in recipients]
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(markdown_text, subtype="plain", charset="utf-8")
    message.add_alternative(html_text, subtype="html", charset="utf-8")
    return message


def _single_line(text: str) -> str:
    return " ".join(text.split())


def _address(text: str) -> Address:
    if any(ord(c) < 32 for c in text):
        raise ValueError(f"{text!r} is not an email address (it holds control characters)")
    name, address = parseaddr(text)
    username, _, domain = address.partition("@")
    if not username or not domain:
        raise ValueError(f"{text!r} is not an email address")
    return Address(display_name=name, username=username, domain=domain)
