"""A day that could not be reconciled says so at the top of its report, instead of looking whole."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from test_daily_report import a_day, mails_for, push_on

from commit_digest.models import Report
from commit_digest.reporting.job import daily_report_step

from support.stack import LiveStack


def test_a_repository_github_would_not_list_is_named_in_the_report(
    live: LiveStack, unique_repo: str
) -> None:
    """GitHub answering 503 to the reconciliation's listing: the report carries one warning line."""
    day = a_day()
    push_on(live, unique_repo, day, "g1", "fix: a change that did arrive")
    live.wait_for_analyses(unique_repo, 1)
    live.github.fail("GET", rf"/repos/{unique_repo}/commits$", 503, times=50)
    now = datetime.now(UTC)
    step, reconciled = daily_report_step(
        live.runtime, day, deadline=now, now=now, reconciled=False, problems=()
    )
    assert reconciled
    assert any(p.startswith(f"{unique_repo}@main") for p in step.problems)
    with live.runtime.session() as session:
        [markdown] = (
            session.execute(
                select(Report.markdown).where(Report.day == day, Report.language == "en")
            )
            .scalars()
            .all()
        )
    assert "⚠️ Could not be checked against GitHub" in markdown
    assert f"{unique_repo}@main" in markdown
    assert mails_for(live, day)
