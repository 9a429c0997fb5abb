"""Post a chat message and tell success from a refusal and from a failure worth retrying.

Several platforms answer HTTP 200 with an error code in the body (Feishu/Lark ``code``,
DingTalk and WeCom ``errcode``), so the status alone says nothing: each answer is read the
platform's way. A refusal (bad URL, bad signature, a body the platform rejects) will not get
better by retrying; a rate limit, a 5xx or a connection failure will, after ``retry_after``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests

from commit_digest.chat.message import ChatMessage
from commit_digest.chat.platforms import Channel, request_for
from commit_digest.errors import ChatRefused, ChatUnavailable
from commit_digest.retry import retry_after

TIMEOUT_SECONDS = (5, 20)  # connect, read

# platform error codes that mean "too many messages, later": Feishu 9499 and 11232,
# DingTalk 130101 ("send too fast"), WeCom 45009 ("api freq out of limit")
_RATE_LIMITED = {"feishu": {9499, 11232}, "dingtalk": {130101}, "wecom": {45009}}


@dataclass(frozen=True)
class Delivered:
    """What the platform answered to a message it took."""

    status: int
    bytes_sent: int


def send_chat(
    channel: Channel,
    message: ChatMessage,
    *,
    session: requests.Session | None = None,
    now_ms: int | None = None,
) -> Delivered:
    """Deliver ``message`` to ``channel``; raise ``ChatRefused`` or ``ChatUnavailable``."""
    request = request_for(channel, message, now_ms=now_ms or int(time.time() * 1000))
    http = session or requests.Session()
    try:
        answer = http.post(
            request.url,
            data=request.body,
            headers=request.headers,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise ChatUnavailable(
            f"{channel.name} ({channel.platform}): {type(error).__name__}"
        ) from None
    _check(channel, answer)
    return Delivered(status=answer.status_code, bytes_sent=len(request.body))


def _check(channel: Channel, answer: requests.Response) -> None:
    where = f"{channel.name} ({channel.platform})"
    if answer.status_code == 429 or answer.status_code >= 500:
        raise ChatUnavailable(f"{where} answered {answer.status_code}", retry_after(answer.headers))
    if answer.status_code >= 300:
        raise ChatRefused(f"{where} answered {answer.status_code}: {answer.text[:200]}")
    code, text = _platform_code(channel.platform, answer)
    if code in (None, 0):
        return
    if code in _RATE_LIMITED.get(channel.platform, set()):
        raise ChatUnavailable(f"{where} is rate limiting: {code} {text}", 60.0)
    raise ChatRefused(f"{where} refused the message: {code} {text}")


def _platform_code(platform: str, answer: requests.Response) -> tuple[int | None, str]:
    if platform not in ("feishu", "dingtalk", "wecom"):
        return None, ""
    try:
        body: Any = answer.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    if platform == "feishu":
        code = body.get("code", body.get("StatusCode", 0))
        return (int(code) if isinstance(code, int) else None), str(body.get("msg", ""))[:200]
    code = body.get("errcode", 0)
    return (int(code) if isinstance(code, int) else None), str(body.get("errmsg", ""))[:200]
