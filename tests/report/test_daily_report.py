"""The nightly report on real processes: reconciliation, exactly-once email, archive, CLI."""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from click.testing import CliRunner

from commit_digest.cli import main
from commit_digest.queueing import DAILY_REPORT
from commit_digest.reporting.build import build_report
from commit_digest.reporting.deliver import send_report

from conftest import deliver
from support import payloads
from support.processes import wait_for
from support.stack import LiveStack

_DAYS_TAKEN: set[date] = set()


def a_day() -> date:
    """A day of its own for each test, far from every other test's commits: drawn at random,
    never the same twice in one run (two tests on one day would each see the other's report)."""
    while True:
        day = date(2031, 1, 1) + timedelta(days=random.randrange(3000))  # noqa: S311 - not crypto
        if day not in _DAYS_TAKEN:
            _DAYS_TAKEN.add(day)
            return day


def local_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai


def mails_for(live: LiveStack, day: date) -> list[Any]:
    return [m for m in live.smtp.received if day.isoformat() in m.message["Subject"]]


def push_on(
    live: LiveStack, repo: str, day: date, seed: str, message: str = "feat: a change"
) -> dict[str, Any]:
    commit = payloads.commit(repo, seed, message, timestamp=local_noon(day))
    deliver(
        live.app.test_client(),
        payloads.encode(payloads.push(repo, [commit], pushed_at=local_noon(day))),
    )
    return commit


def test_two_concurrent_report_tasks_send_one_email(live: LiveStack, unique_repo: str) -> None:
    """Two report tasks for the same day running at once (two beats) send one email."""
    day = a_day()
    push_on(live, unique_repo, day, "1")
    live.wait_for_analyses(unique_repo, 1)
    for _ in range(2):
        live.runtime.celery.send_task(DAILY_REPORT, kwargs={"day": day.isoformat()})
    wait_for(lambda: mails_for(live, day), timeout=60, what="the report email")
    time.sleep(3)  # give a duplicate every chance to arrive before counting
    [mail] = mails_for(live, day)
    assert sorted(mail.recipients) == ["lead@example.com", "team@example.com"]
    assert unique_repo in mail.message["Subject"] or "+" in mail.message["Subject"]


def test_reconciliation_adds_a_commit_that_never_came(live: LiveStack, unique_repo: str) -> None:
    """A commit on the default branch that no webhook brought is analysed and in the report."""
    day = a_day()
    push_on(live, unique_repo, day, "came", "fix: arrived by webhook")
    live.wait_for_analyses(unique_repo, 1)
    missed = live.github.add_commit(
        unique_repo,
        message="feat: pushed while we were down",
        date=local_noon(day) + timedelta(hours=1),
        files=[
            {
                "filename": "src/missed.py",
                "status": "added",
                "additions": 2,
                "deletions": 0,
                "patch": "@@ -0,0 +1,2 @@\n+a\n+b",
            }
        ],
    )
    live.runtime.celery.send_task(DAILY_REPORT, kwargs={"day": day.isoformat()})
    wait_for(lambda: mails_for(live, day), timeout=90, what="the report email")
    [mail] = mails_for(live, day)
    text = mail.message.get_body(("plain",)).get_content()
    assert missed[:7] in text
    assert "feat: pushed while we were down" in text
    assert "fix: arrived by webhook" in text
    assert "Pending" not in text
    assert "待分析" not in text


def test_send_is_once_per_day_and_recipient_list_until_resend(
    live: LiveStack, unique_repo: str
) -> None:
    """Sending again is a no-op; --resend sends a new message on purpose."""
    day = a_day()
    push_on(live, unique_repo, day, "1")
    live.wait_for_analyses(unique_repo, 1)
    built = build_report(live.runtime, day, [unique_repo])
    rt = live.runtime
    env_runtime = type(rt).build(live.settings)  # same settings as the worker: SMTP to the sink
    try:
        assert send_report(env_runtime, built).status == "sent"
        assert send_report(env_runtime, built).status == "already-sent"
        resent = send_report(env_runtime, built, resend=True)
        assert resent.status == "sent"
    finally:
        env_runtime.close()
    first, second = [m.message for m in mails_for(live, day)]
    assert first["Message-ID"] != second["Message-ID"]


def test_cli_report_formats_and_send(live: LiveStack, unique_repo: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`commit-digest report` prints Markdown or HTML and sends once with --send."""
    day = a_day()
    push_on(live, unique_repo, day, "1", "docs: a <b>bold</b> claim")
    live.wait_for_analyses(unique_repo, 1)
    runner = CliRunner()
    for name, value in live.env.items():
        monkeypatch.setenv(name, value)
    args = ["report", "--date", day.isoformat(), "--repo", unique_repo]
    markdown = runner.invoke(main, [*args, "--language", "en"])
    assert markdown.exit_code == 0, markdown.output
    assert markdown.stdout.startswith(f"# Daily report ({day.isoformat()})")
    html = runner.invoke(main, [*args, "--format", "html"])
    assert html.stdout.startswith("<!DOCTYPE html>")
    assert "&lt;b&gt;bold&lt;/b&gt;" in html.stdout
    sent = runner.invoke(main, [*args, "--send"])
    assert sent.exit_code == 0
    assert "sent to smtp://" in sent.stderr
    again = runner.invoke(main, [*args, "--send"])
    assert "already sent" in again.stderr
    assert len(mails_for(live, day)) == 1


def test_cli_rejects_bad_arguments() -> None:
    """A bad date or repository is one line of error, not a traceback."""
    runner = CliRunner()
    bad_date = runner.invoke(main, ["report", "--date", "2026-13-40"])
    assert bad_date.exit_code == 2
    assert "is not a date like 2026-02-03" in bad_date.stderr
    bad_repo = runner.invoke(main, ["report", "--repo", "no-slash"])
    assert "is not OWNER/NAME" in bad_repo.stderr


def test_pages_serve_the_archive_behind_the_token(live: LiveStack, unique_repo: str) -> None:
    """Stored reports are listed and served as HTML and Markdown, only with ACCESS_TOKEN."""
    day = a_day()
    commit = push_on(live, unique_repo, day, "1")
    live.wait_for_analyses(unique_repo, 1)
    build_report(live.runtime, day, [unique_repo], "en")
    client = live.app.test_client()
    query = {"token": "test-access-token", "repo": unique_repo, "lang": "en"}
    assert client.get("/reports").status_code == 401
    assert client.get("/reports?token=wrong").status_code == 401
    listing = client.get("/reports", headers={"Authorization": "Bearer test-access-token"})
    assert listing.status_code == 200
    assert day.isoformat() in listing.get_data(as_text=True)
    page = client.get(f"/reports/{day.isoformat()}", query_string=query)
    assert page.status_code == 200
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert commit["id"][:7] in page.get_data(as_text=True)
    markdown = client.get(f"/reports/{day.isoformat()}.md", query_string=query)
    assert markdown.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert markdown.get_data(as_text=True).startswith(f"# Daily report ({day.isoformat()})")
    assert client.get("/reports/2031-02-30", query_string=query).status_code == 404
    api = client.get(
        f"/api/commits/{unique_repo}/{commit['id']}",
        headers={"Authorization": "Bearer test-access-token"},
    )
    assert api.status_code == 200
    assert (api.json["sha"], api.json["status"], api.json["analysis"]["importance"]) == (
        commit["id"],
        "analysed",
        "high",
    )
    short = client.get(
        f"/api/commits/{unique_repo}/{commit['id'][:7]}",
        headers={"Authorization": "Bearer test-access-token"},
    )
    assert short.json["sha"] == commit["id"]
    assert (
        client.get(
            f"/api/commits/{unique_repo}/{'0' * 40}", query_string={"token": "test-access-token"}
        ).status_code
        == 404
    )
    assert (
        client.get(
            "/api/commits/a/b/not-a-sha", query_string={"token": "test-access-token"}
        ).status_code
        == 400
    )
