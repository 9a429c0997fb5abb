"""Each chat platform's incoming-webhook format, signature and size limit.

A platform turns a ``ChatMessage`` into one HTTP request: the JSON body in the platform's own
card or Markdown shape, signed where the platform signs (Feishu/Lark in the body, DingTalk in
the query), and no larger than the platform accepts. A message that does not fit loses lines
from the end, replaced by one line that says how many were left out and links to the web page;
each line is cut to the platform's field limit first.

Limits, from each platform's documentation of incoming webhooks:

| platform | limit |
|---|---|
| Slack | 3,000 characters per section block, 50 blocks, 40,000 for ``text`` |
| Microsoft Teams | 28 KB per message (Workflows and connector webhooks) |
| Discord | 2,000 characters of ``content``; embed description 4,096; 6,000 over all embeds |
| Feishu/Lark | 20 KB request body |
| DingTalk | 20,000 bytes of message |
| WeCom | 4,096 bytes of Markdown content |
| Mattermost | 16,383 characters per post |
| generic JSON | 256 KB body (ours) |
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

from commit_digest.chat.message import ChatMessage

JsonBody = dict[str, Any]


@dataclass(frozen=True)
class Channel:
    """Where a message goes: a platform, the webhook URL its chat tool gave, its signing secret."""

    name: str
    platform: str
    url: str
    secret: str | None = None


@dataclass(frozen=True)
class ChatRequest:
    """The HTTP request that delivers one message (always a JSON POST)."""

    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Platform:
    """How one platform is spoken to."""

    name: str
    build: Callable[[ChatMessage, int], JsonBody]  # (message, lines kept) → JSON body
    max_body_bytes: int
    max_line_chars: int
    signs: bool = False
    # a limit of the platform's own besides the body's size (Discord counts characters)
    fits: Callable[[JsonBody], bool] = lambda body: True


def request_for(channel: Channel, message: ChatMessage, *, now_ms: int) -> ChatRequest:
    """The signed request that delivers ``message`` to ``channel``, within the platform's limit."""
    platform = PLATFORMS[channel.platform]
    short = _with_short_lines(message, platform.max_line_chars)
    body = _fit(platform, short)
    url = channel.url
    if channel.secret and channel.platform == "feishu":
        timestamp = str(now_ms // 1000)
        body = {"timestamp": timestamp, "sign": feishu_sign(channel.secret, timestamp), **body}
    if channel.secret and channel.platform == "dingtalk":
        url = dingtalk_signed_url(url, channel.secret, now_ms)
    return ChatRequest(
        url=url,
        body=_encode(body),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )


def feishu_sign(secret: str, timestamp: str) -> str:
    """Feishu/Lark's signature: HMAC-SHA256 keyed with ``timestamp\\nsecret`` over nothing."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: HMAC-SHA256 of ``timestamp\\nsecret`` keyed with the secret."""
    text = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), text, hashlib.sha256).digest()).decode()


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The webhook URL with DingTalk's ``timestamp`` and ``sign`` query parameters added."""
    parts = urlsplit(url)
    signature = quote_plus(dingtalk_sign(secret, timestamp_ms))
    query = f"{parts.query}&" if parts.query else ""
    query += f"timestamp={timestamp_ms}&sign={signature}"
    return urlunsplit(parts._replace(query=query))


def _encode(body: JsonBody) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _with_short_lines(message: ChatMessage, limit: int) -> ChatMessage:
    def cut(text: str) -> str:
        return text if len(text) <= limit else text[: limit - 1] + "…"

    return ChatMessage(
        kind=message.kind,
        title=cut(message.title),
        lines=tuple(cut(line) for line in message.lines),
        link=message.link,
        link_label=message.link_label,
        mentions=message.mentions,
    )


def _fit(platform: Platform, message: ChatMessage) -> JsonBody:
    """The body with as many lines as fit (a binary search over how many are kept)."""
    total = len(message.lines)
    body = platform.build(message, total)
    if _fits(platform, body):
        return body
    low, high = 0, total - 1  # keep `low` lines: fits; keep `high + 1`: does not
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(platform, platform.build(message, middle)):
            low = middle
        else:
            high = middle - 1
    return platform.build(message, low)


def _fits(platform: Platform, body: JsonBody) -> bool:
    return len(_encode(body)) <= platform.max_body_bytes and platform.fits(body)


def _lines(message: ChatMessage, keep: int) -> list[str]:
    lines = list(message.lines[:keep])
    left_out = len(message.lines) - keep
    if left_out:
        where = " — the rest is on the web page" if message.link else ""
        lines.append(f"… {left_out:,} more{where}")
    return lines


def _markdown_link(message: ChatMessage) -> str:
    return f"[{message.link_label}]({message.link})" if message.link else ""


def _markdown(message: ChatMessage, keep: int, mention: Callable[[str], str]) -> str:
    parts = [f"**{message.title}**", *(f"- {line}" for line in _lines(message, keep))]
    if message.link:
        parts.append(_markdown_link(message))
    if message.mentions:
        parts.append(" ".join(mention(person.chat_id) for person in message.mentions))
    return "\n".join(parts)


def _slack(message: ChatMessage, keep: int) -> JsonBody:
    lines = _lines(message, keep)
    text = "\n".join(f"• {line}" for line in lines)
    mentions = " ".join(f"<@{person.chat_id}>" for person in message.mentions)
    blocks: list[JsonBody] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}}
    ]
    # one section per ~3,000 characters of lines (Slack's per-block limit)
    chunk: list[str] = []
    for line in (*(f"• {line}" for line in lines), mentions):
        if not line:
            continue
        if chunk and sum(len(part) + 1 for part in chunk) + len(line) > 2_900:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
    if message.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": message.link_label},
                        "url": message.link,
                    }
                ],
            }
        )
    return {"text": f"{message.title}\n{text}"[:3_000], "blocks": blocks[:50]}


def _teams(message: ChatMessage, keep: int) -> JsonBody:
    body: list[JsonBody] = [
        {
            "type": "TextBlock",
            "text": message.title,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    body += [
        {"type": "TextBlock", "text": f"- {line}", "wrap": True} for line in _lines(message, keep)
    ]
    entities = []
    if message.mentions:
        names = " ".join(f"<at>{person.login}</at>" for person in message.mentions)
        body.append({"type": "TextBlock", "text": names, "wrap": True})
        entities = [
            {
                "type": "mention",
                "text": f"<at>{person.login}</at>",
                "mentioned": {"id": person.chat_id, "name": person.login},
            }
            for person in message.mentions
        ]
    card: JsonBody = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if entities:
        card["msteams"] = {"entities": entities}
    if message.link:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": message.link_label, "url": message.link}
        ]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def _discord(message: ChatMessage, keep: int) -> JsonBody:
    description = "\n".join(f"• {line}" for line in _lines(message, keep))
    embed: JsonBody = {"title": message.title[:256], "description": description}
    if message.link:
        embed["url"] = message.link
    mentions = " ".join(f"<@{person.chat_id}>" for person in message.mentions)
    return {
        "content": mentions[:2_000],
        "embeds": [embed],
        # only the people we mean are pinged; nothing in commit text can ping a role or @everyone
        "allowed_mentions": {"parse": [], "users": [p.chat_id for p in message.mentions][:100]},
    }


def _feishu(message: ChatMessage, keep: int) -> JsonBody:
    text = "\n".join(f"- {line}" for line in _lines(message, keep))
    if message.mentions:
        text += "\n" + " ".join(f"<at id={person.chat_id}></at>" for person in message.mentions)
    elements: list[JsonBody] = [{"tag": "markdown", "content": text}]
    if message.link:
        elements.append(
            {
                "tag": "action",
                "actions": [
                    {
                        "tag": "button",
                        "text": {"tag": "plain_text", "content": message.link_label},
                        "url": message.link,
                        "type": "default",
                    }
                ],
            }
        )
    return {
        "msg_type": "interactive",
        "card": {
            "header": {"title": {"tag": "plain_text", "content": message.title}},
            "elements": elements,
        },
    }


def _dingtalk(message: ChatMessage, keep: int) -> JsonBody:
    text = _markdown(message, keep, lambda chat_id: f"@{chat_id}")
    return {
        "msgtype": "markdown",
        "markdown": {"title": message.title, "text": text},
        "at": {"atUserIds": [person.chat_id for person in message.mentions], "isAtAll": False},
    }


def _wecom(message: ChatMessage, keep: int) -> JsonBody:
    return {
        "msgtype": "markdown",
        "markdown": {"content": _markdown(message, keep, lambda chat_id: f"<@{chat_id}>")},
    }


def _mattermost(message: ChatMessage, keep: int) -> JsonBody:
    return {"text": _markdown(message, keep, lambda chat_id: f"@{chat_id}")}


def _generic(message: ChatMessage, keep: int) -> JsonBody:
    return {
        "kind": message.kind,
        "title": message.title,
        "lines": _lines(message, keep),
        "link": message.link,
        "mentions": [{"login": p.login, "chat_id": p.chat_id} for p in message.mentions],
    }


PLATFORMS: dict[str, Platform] = {
    platform.name: platform
    for platform in (
        Platform("slack", _slack, max_body_bytes=40_000, max_line_chars=1_000),
        Platform("teams", _teams, max_body_bytes=28_000, max_line_chars=1_000),
        Platform(
            "discord",
            _discord,
            max_body_bytes=64_000,
            max_line_chars=400,
            fits=lambda body: len(body["embeds"][0]["description"]) <= 4_096,
        ),
        Platform("feishu", _feishu, max_body_bytes=20_000, max_line_chars=1_000, signs=True),
        Platform("dingtalk", _dingtalk, max_body_bytes=20_000, max_line_chars=1_000, signs=True),
        # WeCom counts the Markdown content; the rest of the body is ~40 bytes
        Platform("wecom", _wecom, max_body_bytes=4_096, max_line_chars=300),
        Platform("mattermost", _mattermost, max_body_bytes=16_000, max_line_chars=1_000),
        Platform("webhook", _generic, max_body_bytes=256_000, max_line_chars=4_000),
    )
}
