"""Alerts: an important commit reaches its team's chat at once, @mentioning its author, once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_analysis_flow import patch, push_commit, wait_analysed

from commit_digest.chat.compose import Highlight, report_message
from commit_digest.db import upgrade
from commit_digest.models import OutboxItem
from commit_digest.queueing import ANALYZE, publish

from conftest import GITHUB_TOKEN
from support.chat_api import ChatPlatform
from support.processes import wait_for
from support.stack import LiveStack


@pytest.fixture
def slack() -> Iterator[ChatPlatform]:
    stand_in = ChatPlatform("slack").start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def stack(
    env: dict[str, str], tmp_path: Path, slack: ChatPlatform, github_api: Any, llm_api: Any
) -> Iterator[LiveStack]:
    config = tmp_path / "commit-digest.toml"
    config.write_text(
        f"""
[[channels]]
name = "payments-slack"
platform = "slack"
url = "{slack.url}"

[[teams]]
name = "payments"
repositories = ["acme/pay-*"]
alert_channels = ["payments-slack"]
alert_min_importance = "high"

[people.alice]
slack = "U0ALICE"
"""
    )
    upgrade(env["DATABASE_URL"])
    live = LiveStack(
        env={
            **env,
            "CONFIG_FILE": str(config),
            "GITHUB_API_URL": github_api.url,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "OPENAI_BASE_URL": llm_api.url,
            "OPENAI_API_KEY": "sk-test-key",
            "TRACKED_BRANCHES": "main",
            "RETRY_BACKOFF": "0.5",
        },
        workdir=tmp_path,
        github=github_api,
        llm=llm_api,
    )
    live.start_worker()
    yield live
    live.stop()


def outbox_rows(live: LiveStack) -> list[tuple[str, str, str]]:
    with live.runtime.session() as session:
        return [
            (row.kind, row.target, row.state)
            for row in session.execute(select(OutboxItem).order_by(OutboxItem.id)).scalars()
        ]


def test_a_high_commit_alerts_its_team_once(stack: LiveStack, slack: ChatPlatform) -> None:
    """A high-importance commit alerts the team channel with the author's mention; a low one not."""
    repo = "acme/pay-" + Path(stack.workdir).name[-8:].replace("_", "")
    stack.github.add_repo(repo, default_branch="main")
    files = [
        {
            "filename": "src/pay/charge.py",
            "status": "modified",
            "additions": 1,
            "deletions": 0,
            "patch": patch("amount = round(amount, 2)"),
        }
    ]
    push_commit(stack, repo, "fix(pay): charge the rounded amount", files)
    push_commit(stack, repo, "docs: typo", [{**files[0], "filename": "README.md"}])
    wait_analysed(stack, repo, count=2)
    wait_for(
        lambda: outbox_rows(stack) == [("chat-alert", "payments-slack", "sent")],
        timeout=30,
        what="one alert sent",
    )
    [received] = slack.received
    text = str(received.body)
    assert "fix(pay): charge the rounded amount" in text
    assert "<@U0ALICE>" in text
    # analysing the commit again does not alert again
    publish(stack.runtime.celery, ANALYZE, stack.commit_ids(repo)[:1])
    assert outbox_rows(stack) == [("chat-alert", "payments-slack", "sent")]
    assert len(slack.received) == 1


def test_the_report_summary_message() -> None:
    """The report's chat summary: counts, the commits that mattered, the link, in the language."""
    message = report_message(
        language="zh-CN",
        scope="acme/shop",
        day="2026-02-03",
        counts=(14, 3, 6, 5),
        highlights=[Highlight("a1b2c3d", "fix(cart): rounding", "high")],
        link="https://digest.example.com/reports/2026-02-03",
    )
    assert message.title == "commit-digest · acme/shop · 2026-02-03"
    assert message.lines == ("14 个提交：高 3，中 6，低 5", "🔴 高 a1b2c3d fix(cart): rounding")
    assert message.link_label == "查看日报"
