"""Each team gets its own report of its repositories: one email, one chat message per channel."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from test_daily_report import a_day, mails_for, push_on

from commit_digest.chat.deliver import deliver_chat
from commit_digest.config import load_settings
from commit_digest.models import OutboxItem
from commit_digest.reporting.job import daily_report_step
from commit_digest.runtime import Runtime

from support.chat_api import ChatPlatform
from support.stack import LiveStack


@pytest.fixture
def slack() -> Iterator[ChatPlatform]:
    stand_in = ChatPlatform("slack").start()
    yield stand_in
    stand_in.stop()


def test_a_team_report_goes_to_its_people_and_channel_once(
    live: LiveStack, unique_repo: str, slack: ChatPlatform, tmp_path: Path
) -> None:
    """Two runs of the nightly step: one installation email, one team email, one chat message."""
    other = f"acme/else-{uuid.uuid4().hex[:8]}"
    live.github.add_repo(other, default_branch="main")
    day = a_day()
    push_on(live, unique_repo, day, "t1", "fix(pay): refund twice is refused")
    push_on(live, other, day, "t2", "docs: not the team's")
    live.wait_for_analyses(unique_repo, 1)
    live.wait_for_analyses(other, 1)
    config = tmp_path / "teams.toml"
    config.write_text(
        f"""
[[channels]]
name = "pay-slack"
platform = "slack"
url = "{slack.url}"

[[teams]]
name = "payments"
repositories = ["{unique_repo}"]
recipients = ["pay@example.com"]
channels = ["pay-slack"]
"""
    )
    # its own Redis prefix: the chat task it queues is delivered here, not by the live worker
    env = {
        **live.env,
        "CONFIG_FILE": str(config),
        "PUBLIC_URL": "https://digest.example.com",
        "REDIS_KEY_PREFIX": f"cdteam-{uuid.uuid4().hex[:8]}:",
    }
    rt = Runtime.build(load_settings(env))
    try:
        now = datetime.now(UTC)
        for _ in range(2):  # beat fired twice
            step, _ = daily_report_step(rt, day, deadline=now, now=now, reconciled=True)
        assert step.status == "already-sent"
        with rt.session() as session:
            rows = (
                session.execute(
                    select(OutboxItem).where(
                        OutboxItem.subject == f"report:{day.isoformat()}:payments"
                    )
                )
                .scalars()
                .all()
            )
            ids = [row.id for row in rows]
        assert len(ids) == 1
        for item in ids * 2:  # and the chat task delivered twice
            deliver_chat(rt, item, rt.installation)
    finally:
        rt.close()
    mails = mails_for(live, day)
    by_recipients = sorted(tuple(sorted(m.recipients)) for m in mails)
    assert by_recipients == [("lead@example.com", "team@example.com"), ("pay@example.com",)]
    team_mail = next(m for m in mails if m.recipients == ["pay@example.com"])
    body = str(team_mail.message)
    assert unique_repo in team_mail.message["Subject"]
    assert other not in body
    [message] = slack.received
    text = str(message.body)
    assert "commit-digest · payments ·" in text
    assert "fix(pay): refund twice is refused" in text
    assert f"https://digest.example.com/reports/{day.isoformat()}?lang=en&repo=" in text
