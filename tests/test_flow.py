"""The whole flow on real processes: push in, analyses stored by a Celery worker, report out."""

from __future__ import annotations

from datetime import UTC, date, datetime

from commit_digest.config import load_settings
from commit_digest.reporting.build import build_report
from commit_digest.reporting.deliver import send_report
from commit_digest.runtime import Runtime

from conftest import deliver
from support import payloads
from support.html_check import parse
from support.stack import LiveStack


def test_push_to_report_end_to_end(live: LiveStack, unique_repo: str, smtp_server) -> None:  # type: ignore[no-untyped-def]
    """A signed push is accepted, its commits analysed by the worker, and the day's report sent."""
    landed = datetime(2026, 2, 3, 8, 5, tzinfo=UTC)
    commits = [
        payloads.commit(
            unique_repo,
            "1",
            "fix: handle empty pages",
            timestamp=datetime(2026, 2, 3, 7, 0, tzinfo=UTC),
        ),
        payloads.commit(
            unique_repo,
            "2",
            "docs: describe paging",
            added=[],
            modified=["docs/paging.md"],
            timestamp=datetime(2026, 2, 3, 7, 30, tzinfo=UTC),
        ),
        payloads.commit(
            unique_repo,
            "3",
            "feat(api)!: new paging API",
            timestamp=datetime(2026, 2, 3, 8, 0, tzinfo=UTC),
        ),
    ]
    response = deliver(
        live.app.test_client(),
        payloads.encode(payloads.push(unique_repo, commits, pushed_at=landed)),
    )
    assert response.status_code == 202
    assert response.json["queued"] == 3

    ids = live.wait_for_analyses(unique_repo, 3)
    assert live.analysis_count(ids) == 3

    env = {
        **live.env,
        "SMTP_URL": smtp_server.url,
        "REPORT_RECIPIENTS": "team@example.com",
        "MAIL_FROM": "digest@example.com",
    }
    rt = Runtime.build(load_settings(env))
    try:
        built = build_report(rt, date(2026, 2, 3), [unique_repo])
        assert "3 commits today | 🔴 High 2 | 🟡 Medium 0 | 🟢 Low 1" in built.markdown
        for commit in commits:
            assert commit["id"][:7] in built.markdown
        parser = parse(built.html)
        assert parser.fragment_links
        assert set(parser.fragment_links) <= set(parser.ids)
        assert send_report(rt, built).status == "sent"
        assert send_report(rt, built).status == "already-sent"
    finally:
        rt.close()
    assert len(smtp_server.received) == 1
    message = smtp_server.received[0].message
    assert message["To"] == "team@example.com"
    assert unique_repo in message["Subject"]
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
