"""Chat messages go through the outbox: one per (subject, channel), however often they are queued."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from commit_digest.chat.deliver import queue_chat
from commit_digest.chat.message import ChatMessage, Mention
from commit_digest.db import upgrade
from commit_digest.models import OutboxItem
from commit_digest.queueing import SEND_CHAT, publish

from support.chat_api import ChatPlatform
from support.processes import wait_for
from support.stack import LiveStack

SECRET = "SECb6f3a2c1d0e9f8a7"


@pytest.fixture
def platforms() -> Iterator[dict[str, ChatPlatform]]:
    started = {
        "slack": ChatPlatform("slack").start(),
        "feishu": ChatPlatform("feishu", secret=SECRET).start(),
        "dingtalk": ChatPlatform("dingtalk", secret=SECRET).start(),
    }
    yield started
    for stand_in in started.values():
        stand_in.stop()


@pytest.fixture
def stack(
    env: dict[str, str], tmp_path: Path, platforms: dict[str, ChatPlatform]
) -> Iterator[LiveStack]:
    config = tmp_path / "commit-digest.toml"
    config.write_text(
        f"""
[[channels]]
name = "eng-slack"
platform = "slack"
url = "{platforms["slack"].url}"

[[channels]]
name = "eng-feishu"
platform = "feishu"
url_env = "FEISHU_URL"
secret_env = "FEISHU_SECRET"

[[channels]]
name = "eng-dingtalk"
platform = "dingtalk"
url = "{platforms["dingtalk"].url}"
secret = "{SECRET}"
"""
    )
    upgrade(env["DATABASE_URL"])
    live = LiveStack(
        env={
            **env,
            "CONFIG_FILE": str(config),
            "FEISHU_URL": platforms["feishu"].url,
            "FEISHU_SECRET": SECRET,
            "RETRY_BACKOFF": "0.5",
        },
        workdir=tmp_path,
    )
    live.start_worker(queues="comments")
    yield live
    live.stop()


def states(live: LiveStack) -> dict[str, str]:
    with live.runtime.session() as session:
        return {row.target: row.state for row in session.execute(select(OutboxItem)).scalars()}


def test_a_double_beat_and_a_retried_task_deliver_once_per_channel(
    stack: LiveStack, platforms: dict[str, ChatPlatform]
) -> None:
    """Queued twice, published twice, and one platform failing once: one message per channel."""
    message = ChatMessage(
        kind="report",
        title="commit-digest · acme/shop · 2026-02-03",
        lines=("14 commits: 3 high, 6 medium, 5 low",),
        link="https://digest.example.com/reports/2026-02-03",
        mentions=(Mention("octocat", "U024BE7LH"),),
    )
    platforms["slack"].fail_next(503)  # the first attempt fails; the task retries
    messages = dict.fromkeys(["eng-slack", "eng-feishu", "eng-dingtalk"], message)
    first = queue_chat(
        stack.runtime, kind="chat-report", subject="report:2026-02-03:", messages=messages
    )
    again = queue_chat(  # the second beat of the night
        stack.runtime, kind="chat-report", subject="report:2026-02-03:", messages=messages
    )
    assert len(first) == 3
    assert again == []
    publish(stack.runtime.celery, SEND_CHAT, first)  # a redelivered task for every row
    wait_for(lambda: set(states(stack).values()) == {"sent"}, timeout=60, what="every message sent")
    for stand_in in platforms.values():
        assert len(stand_in.received) == 1, stand_in.platform
        assert stand_in.refused == []
    assert "14 commits: 3 high" in str(platforms["feishu"].received[0].body)
    # a message's state is committed before its count: wait for the counts too
    wanted = {
        "chat_messages|platform=slack,status=retrying": 1,
        "chat_messages|platform=slack,status=sent": 1,
        "chat_messages|platform=feishu,status=sent": 1,
    }
    wait_for(
        lambda: {k: stack.runtime.metrics.read()[0].get(k) for k in wanted} == wanted,
        timeout=10,
        what="the chat messages counted",
    )


def test_a_refused_message_is_failed_not_retried_forever(
    stack: LiveStack, platforms: dict[str, ChatPlatform]
) -> None:
    """A channel whose secret the platform refuses ends failed, with the platform's reason."""
    stack_env_secret = stack.env["FEISHU_SECRET"]
    assert stack_env_secret == SECRET
    platforms["feishu"].secret = "SECsomething-else"
    queue_chat(
        stack.runtime,
        kind="chat-alert",
        subject="commit:42",
        messages={
            "eng-feishu": ChatMessage(
                kind="alert", title="high: fix(auth): tokens expire", lines=("x",)
            )
        },
    )
    wait_for(lambda: states(stack).get("eng-feishu") == "failed", timeout=60, what="failed")
    with stack.runtime.session() as session:
        error = session.execute(select(OutboxItem.error)).scalar_one()
    assert error is not None
    assert "sign match fail" in error
    assert platforms["feishu"].received == []


def test_the_sweep_sends_a_message_whose_publish_was_lost(
    stack: LiveStack, platforms: dict[str, ChatPlatform]
) -> None:
    """A row written but never published (the broker was down) is queued by the sweep, once."""
    from datetime import UTC, datetime, timedelta

    from commit_digest import outbox
    from commit_digest.sweep import sweep

    with stack.runtime.session() as session:
        outbox.add(
            session,
            kind="chat-alert",
            subject="commit:7",
            target="eng-dingtalk",
            payload={"kind": "alert", "title": "high: fix: overflow", "lines": ["abc1234"]},
            now=datetime.now(UTC) - timedelta(hours=1),
        )
    sweep(stack.runtime, datetime.now(UTC))
    sweep(stack.runtime, datetime.now(UTC))  # the next sweep finds it queued, not stale
    wait_for(lambda: states(stack).get("eng-dingtalk") == "sent", timeout=60, what="sent")
    assert len(platforms["dingtalk"].received) == 1
