"""Chat delivery: each platform's request shape, signature and size limit, against real servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from commit_digest.chat.message import ChatMessage, Mention
from commit_digest.chat.platforms import PLATFORMS, Channel
from commit_digest.chat.send import ChatRefused, ChatUnavailable, send_chat

from support.chat_api import ChatPlatform

REPORT_LINK = "https://digest.example.com/reports/2026-02-03"


def report_message(
    lines: int = 4, *, text: str = "fix(cart): the total is right again"
) -> ChatMessage:
    return ChatMessage(
        kind="report",
        title="commit-digest · acme/shop · 2026-02-03",
        lines=tuple(f"{text} ({n})" for n in range(lines)),
        link=REPORT_LINK,
        link_label="Read the report",
        mentions=(Mention("octocat", "U024BE7LH"),),
    )


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request: pytest.FixtureRequest) -> Iterator[ChatPlatform]:
    stand_in = ChatPlatform(request.param).start()
    yield stand_in
    stand_in.stop()


def channel_for(stand_in: ChatPlatform, secret: str | None = None) -> Channel:
    return Channel(name="team-chat", platform=stand_in.platform, url=stand_in.url, secret=secret)


def test_every_platform_takes_a_report_message(platform: ChatPlatform) -> None:
    """A short report summary reaches every platform in its own accepted shape."""
    send_chat(channel_for(platform), report_message())
    assert platform.refused == []
    [got] = platform.received
    assert got.query["access_token"] == ["t0ken"]  # the pasted URL is used as given
    assert REPORT_LINK in str(got.body)
    assert "the total is right again (3)" in str(got.body)


def test_the_exact_shapes() -> None:
    """Each platform gets its own card or Markdown format, with its own mention syntax."""
    shapes = {}
    for name in ("slack", "discord", "feishu", "dingtalk", "wecom", "mattermost", "teams"):
        stand_in = ChatPlatform(name).start()
        try:
            send_chat(channel_for(stand_in), report_message(2))
            shapes[name] = stand_in.received[0].body
        finally:
            stand_in.stop()
    assert shapes["slack"]["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "commit-digest · acme/shop · 2026-02-03"},
    }
    assert "<@U024BE7LH>" in shapes["slack"]["blocks"][1]["text"]["text"]
    assert shapes["slack"]["blocks"][-1]["elements"][0]["url"] == REPORT_LINK
    assert shapes["discord"]["allowed_mentions"] == {"parse": [], "users": ["U024BE7LH"]}
    assert shapes["discord"]["embeds"][0]["url"] == REPORT_LINK
    assert shapes["feishu"]["msg_type"] == "interactive"
    assert "<at id=U024BE7LH></at>" in shapes["feishu"]["card"]["elements"][0]["content"]
    assert shapes["dingtalk"]["msgtype"] == "markdown"
    assert shapes["dingtalk"]["at"] == {"atUserIds": ["U024BE7LH"], "isAtAll": False}
    assert "[Read the report](" + REPORT_LINK + ")" in shapes["dingtalk"]["markdown"]["text"]
    assert "<@U024BE7LH>" in shapes["wecom"]["markdown"]["content"]
    assert shapes["mattermost"]["text"].startswith("**commit-digest · acme/shop · 2026-02-03**")
    card = shapes["teams"]["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "Read the report",
        "url": REPORT_LINK,
    }
    assert card["msteams"]["entities"][0]["mentioned"] == {"id": "U024BE7LH", "name": "octocat"}


@pytest.mark.parametrize("name", ["feishu", "dingtalk"])
def test_signed_platforms_accept_our_signature(name: str) -> None:
    """Feishu/Lark and DingTalk verify the signature made with the channel's secret."""
    stand_in = ChatPlatform(name, secret="SEC0123456789abcdef").start()
    try:
        send_chat(channel_for(stand_in, "SEC0123456789abcdef"), report_message())
        assert len(stand_in.received) == 1
        with pytest.raises(ChatRefused, match="sign"):
            send_chat(channel_for(stand_in, "SECwrong"), report_message())
        with pytest.raises(ChatRefused):
            send_chat(channel_for(stand_in, None), report_message())
        assert len(stand_in.received) == 1
    finally:
        stand_in.stop()


@pytest.mark.parametrize("text", ["x" * 900, "修复购物车总价计算错误并补充测试" * 30])
def test_a_long_report_is_trimmed_to_the_platform_limit(platform: ChatPlatform, text: str) -> None:
    """2,000 long lines (ASCII or CJK) are cut to what the platform takes, saying how many more."""
    send_chat(channel_for(platform), report_message(2_000, text=text))
    assert platform.refused == []
    body = str(platform.received[0].body)
    assert "more — the rest is on the web page" in body
    assert REPORT_LINK in body


def test_rate_limits_and_outages_are_worth_retrying() -> None:
    """429 with Retry-After, a 5xx, a platform's rate-limit code and a closed port can be retried."""
    slack = ChatPlatform("slack").start()
    feishu = ChatPlatform("feishu").start()
    try:
        slack.fail_next(429, {"Retry-After": "30"})
        with pytest.raises(ChatUnavailable) as limited:
            send_chat(channel_for(slack), report_message())
        assert limited.value.retry_after == 30.0
        slack.fail_next(503)
        with pytest.raises(ChatUnavailable):
            send_chat(channel_for(slack), report_message())
        feishu.fail_next(
            200, {"Content-Type": "application/json"}, b'{"code":9499,"msg":"too many request"}'
        )
        with pytest.raises(ChatUnavailable, match="rate limiting"):
            send_chat(channel_for(feishu), report_message())
    finally:
        slack.stop()
        feishu.stop()
    closed = Channel(name="gone", platform="slack", url="http://127.0.0.1:1/hook")
    with pytest.raises(ChatUnavailable, match="gone"):
        send_chat(closed, report_message())


def test_commit_text_cannot_ping_everyone_or_inject_controls() -> None:
    """Control characters are stripped; Discord pings only the mapped author, never @everyone."""
    message = ChatMessage(
        kind="alert",
        title="\x1b[31mfix\x1b[0m: @everyone look",
        lines=("bell\x07 and \x00null",),
        mentions=(Mention("octocat", "80351110224678912"),),
    )
    discord = ChatPlatform("discord").start()
    try:
        send_chat(channel_for(discord), message)
        body = discord.received[0].body
    finally:
        discord.stop()
    assert body["embeds"][0]["title"] == "fix: @everyone look"
    assert body["embeds"][0]["description"] == "• bell and null"
    assert body["allowed_mentions"] == {"parse": [], "users": ["80351110224678912"]}
