"""Real HTTP servers on 127.0.0.1 in the role of each chat platform's incoming webhook.

One ``ChatPlatform`` per platform; it answers the way that platform does: Slack ``ok``,
Discord ``204``, Feishu ``{"code":0}``, DingTalk/WeCom ``{"errcode":0}``; it refuses what the
platform refuses — a body over its size limit, a bad or stale signature, a body of the wrong
shape — with the platform's own error answer; and a test can script failures (``fail_next``)
such as 429 with Retry-After or 5xx. Every request it accepted is kept in ``received``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# the platforms' own limits (bytes of the request body, or of the field they count)
BODY_LIMITS = {
    "slack": 40_000,
    "teams": 28_000,
    "discord": 6_000,
    "feishu": 20_000,
    "dingtalk": 20_000,
    "wecom": 4_096,
    "mattermost": 16_383,
    "webhook": 256_000,
}


@dataclass
class Received:
    """One request the stand-in accepted."""

    path: str
    query: dict[str, list[str]]
    body: dict[str, Any]
    size: int


@dataclass
class ChatPlatform:
    """A running stand-in for one platform's incoming webhook."""

    platform: str
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    scripted: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hook/{self.platform}?access_token=t0ken"

    def fail_next(
        self, status: int, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> None:
        """Answer the next request with ``status`` (and headers, body) instead of accepting it."""
        with self._lock:
            self.scripted.append((status, headers or {}, body))

    def start(self) -> ChatPlatform:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                status, headers, body = stand_in._answer(self.path, raw)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _answer(self, path: str, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            if self.scripted:
                return self.scripted.pop(0)
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        try:
            body = json.loads(raw)
        except ValueError:
            return self._refuse("not JSON")
        problem = self._problem(query, body, raw)
        if problem:
            return self._refuse(problem)
        with self._lock:
            self.received.append(Received(parts.path, query, body, len(raw)))
        return self._accepted()

    def _problem(self, query: dict[str, list[str]], body: dict[str, Any], raw: bytes) -> str | None:
        limit = BODY_LIMITS[self.platform]
        if self.platform == "wecom":
            content = body.get("markdown", {}).get("content", "")
            if len(content.encode()) > limit:
                return "markdown.content exceed max length 4096"
        elif self.platform == "discord":
            embeds = body.get("embeds", [])
            if len(body.get("content", "")) > 2_000:
                return "content: Must be 2000 or fewer in length."
            if sum(len(e.get("title", "")) + len(e.get("description", "")) for e in embeds) > 6_000:
                return "embeds: Embed size exceeds maximum size of 6000"
            if any(len(e.get("description", "")) > 4_096 for e in embeds):
                return "embeds.0.description: Must be 4096 or fewer in length."
        elif self.platform == "mattermost":
            if len(body.get("text", "")) > limit:
                return "text too long"
        elif len(raw) > limit:
            return f"request body over {limit} bytes"
        shape = _SHAPES[self.platform](body)
        if shape:
            return shape
        if self.secret and self.platform == "feishu":
            return _feishu_problem(self.secret, body)
        if self.secret and self.platform == "dingtalk":
            return _dingtalk_problem(self.secret, query)
        return None

    def _refuse(self, problem: str) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.refused.append(problem)
        json_type = {"Content-Type": "application/json"}
        if self.platform == "feishu":
            return 200, json_type, json.dumps({"code": 19021, "msg": problem}).encode()
        if self.platform in ("dingtalk", "wecom"):
            return 200, json_type, json.dumps({"errcode": 310000, "errmsg": problem}).encode()
        if self.platform == "slack":
            return 400, {}, b"invalid_blocks"
        if self.platform == "teams":
            return 413 if "over" in problem else 400, {}, problem.encode()
        return 400, json_type, json.dumps({"message": problem}).encode()

    def _accepted(self) -> tuple[int, dict[str, str], bytes]:
        json_type = {"Content-Type": "application/json"}
        if self.platform == "feishu":
            return 200, json_type, b'{"code":0,"data":{},"msg":"success"}'
        if self.platform in ("dingtalk", "wecom"):
            return 200, json_type, b'{"errcode":0,"errmsg":"ok"}'
        if self.platform == "discord":
            return 204, {}, b""
        if self.platform == "teams":
            return 202, {}, b""
        return 200, {}, b"ok"


def _feishu_problem(secret: str, body: dict[str, Any]) -> str | None:
    timestamp, sign = body.get("timestamp"), body.get("sign")
    if not isinstance(timestamp, str) or not isinstance(sign, str):
        return "sign match fail or timestamp is not within one hour from current time"
    if abs(time.time() - int(timestamp)) > 3600:
        return "sign match fail or timestamp is not within one hour from current time"
    key = f"{timestamp}\n{secret}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, sign):
        return "sign match fail or timestamp is not within one hour from current time"
    return None


def _dingtalk_problem(secret: str, query: dict[str, list[str]]) -> str | None:
    if "timestamp" not in query or "sign" not in query:
        return "sign not match"
    timestamp = query["timestamp"][0]
    if abs(time.time() * 1000 - int(timestamp)) > 3_600_000:
        return "timestamp expired"
    text = f"{timestamp}\n{secret}".encode()
    expected = base64.b64encode(hmac.new(secret.encode(), text, hashlib.sha256).digest()).decode()
    # parse_qs decoded the query: the sender URL-encoded the signature exactly once
    if not hmac.compare_digest(expected, query["sign"][0]):
        return "sign not match"
    return None


def _needs(body: dict[str, Any], *path: str) -> str | None:
    value: Any = body
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return f"missing {'.'.join(path)}"
        value = value[key]
    return None


_SHAPES = {
    "slack": lambda b: (
        _needs(b, "text")
        or (
            None
            if isinstance(b.get("blocks", []), list) and len(b.get("blocks", [])) <= 50
            else "too many blocks"
        )
    ),
    "teams": lambda b: (
        _needs(b, "attachments")
        or (
            None
            if b["attachments"][0].get("contentType") == "application/vnd.microsoft.card.adaptive"
            else "not an adaptive card"
        )
    ),
    "discord": lambda b: (
        None if b.get("content") or b.get("embeds") else "Cannot send an empty message"
    ),
    "feishu": lambda b: _needs(b, "msg_type") or _needs(b, "card", "elements"),
    "dingtalk": lambda b: (
        _needs(b, "msgtype") or _needs(b, "markdown", "text") or _needs(b, "markdown", "title")
    ),
    "wecom": lambda b: _needs(b, "msgtype") or _needs(b, "markdown", "content"),
    "mattermost": lambda b: _needs(b, "text"),
    "webhook": lambda b: _needs(b, "kind") or _needs(b, "title") or _needs(b, "lines"),
}
