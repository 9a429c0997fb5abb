"""The model's context window: asked of the server, learnt from its refusals, remembered.

Servers say it differently: llama.cpp's own server in ``GET /props``
(``default_generation_settings.n_ctx``), vLLM in ``GET /v1/models`` (``max_model_len``),
Ollama in ``POST /api/show`` (``num_ctx`` among the parameters, else the model's
``context_length``, of which Ollama serves at most 4,096 by default). OpenAI and others say
nothing; their refusal ("maximum context length is 8192 tokens", llama-cpp-python's
"exceed context window of 4096") does. What is found is kept in Redis per server and model
for every worker, so one probe or one refusal teaches the whole installation.

The prompt's budget is then ``min(LLM_INPUT_TOKEN_BUDGET, window - output - framing)``.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
import structlog

log = structlog.get_logger(__name__)

KEY = "commit-digest:llm:context"
REMEMBER_SECONDS = 24 * 3600  # a server may be restarted with another --ctx-size
# The chat template's own tokens around the two messages (role markers, BOS/EOS): a margin.
FRAMING_TOKENS = 64
OLLAMA_DEFAULT_CTX = 4096
PROBE_TIMEOUT = 5.0
SMALLEST_USEFUL = 512

_WINDOW_IN_ERROR = (
    re.compile(r"maximum context length is (\d[\d,]*) tokens", re.I),
    re.compile(r"context window of (\d[\d,]*)", re.I),
    re.compile(r"context length of (\d[\d,]*)", re.I),
    re.compile(r"n_ctx(?:_slot)?\s*[=:]\s*(\d+)", re.I),
    re.compile(r"max_model_len\s*[=:]?\s*(\d+)", re.I),
)

Fetch = Callable[[str, dict[str, Any] | None], Any]


def window_from_error(message: str) -> int | None:
    """The context window a "too long" refusal names, if it names one."""
    for pattern in _WINDOW_IN_ERROR:
        match = pattern.search(message)
        if match:
            value = int(match[1].replace(",", ""))
            if value >= SMALLEST_USEFUL:
                return value
    return None


def input_budget(configured: int, window: int | None, max_output_tokens: int) -> int:
    """Prompt tokens that fit: the configured budget, or less when the window is smaller."""
    if window is None:
        return configured
    room = window - max_output_tokens - FRAMING_TOKENS
    return max(min(configured, room), SMALLEST_USEFUL // 2)


def _server_root(base_url: str) -> str:
    """``http://host:port/v1`` → ``http://host:port`` (where /props and /api/show live)."""
    parts = urlsplit(base_url.rstrip("/"))
    path = parts.path.removesuffix("/v1")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _fetch_json(url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the operator's own OPENAI_BASE_URL
        url, data=data, headers={"Content-Type": "application/json"} if data else {}
    )
    with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as answer:  # noqa: S310
        return json.loads(answer.read(1_000_000))


def probe_window(base_url: str, model: str, fetch: Fetch = _fetch_json) -> int | None:
    """Ask the server for the model's context window; None when it does not say."""
    root = _server_root(base_url)
    probes: list[tuple[str, Callable[[], int | None]]] = [
        ("llama.cpp /props", lambda: _from_props(fetch(f"{root}/props", None))),
        (
            "vLLM /v1/models",
            lambda: _from_models(fetch(f"{base_url.rstrip('/')}/models", None), model),
        ),
        ("Ollama /api/show", lambda: _from_ollama(fetch(f"{root}/api/show", {"model": model}))),
    ]
    for name, probe in probes:
        try:
            window = probe()
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if window is not None and window >= SMALLEST_USEFUL:
            log.info("llm.context.probed", source=name, window=window, model=model)
            return window
    return None


def probe_slots(base_url: str, fetch: Fetch = _fetch_json) -> int | None:
    """How many requests the server computes at once, when it says; None when it does not.

    llama.cpp's server names its slots in ``GET /props`` (``total_slots``). llama-cpp-python's
    server answers one request at a time and cuts the answer it is streaming short when the
    next arrives; it is known by its ``GET /v1/models`` entries (``owned_by: "me"`` and a
    ``permissions`` list), so it counts as one slot.
    """
    root = _server_root(base_url)
    try:
        slots = fetch(f"{root}/props", None).get("total_slots")
        if isinstance(slots, int) and slots > 0:
            return slots
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    try:
        entries = fetch(f"{base_url.rstrip('/')}/models", None).get("data") or []
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if entries and all(
        isinstance(e, dict) and e.get("owned_by") == "me" and isinstance(e.get("permissions"), list)
        for e in entries
    ):
        return 1
    return None


def _from_props(body: Any) -> int | None:
    settings = body.get("default_generation_settings") or {}
    value = settings.get("n_ctx") or body.get("n_ctx")
    return int(value) if value else None


def _from_models(body: Any, model: str) -> int | None:
    entries = body.get("data") or []
    chosen = [e for e in entries if e.get("id") == model] or entries[:1]
    value = chosen[0].get("max_model_len") if chosen else None
    return int(value) if value else None


def _from_ollama(body: Any) -> int | None:
    parameters = str(body.get("parameters") or "")
    match = re.search(r"^\s*num_ctx\s+(\d+)", parameters, re.M)
    if match:
        return int(match[1])
    info = body.get("model_info") or {}
    lengths = [int(v) for k, v in info.items() if k.endswith(".context_length")]
    return min(lengths[0], OLLAMA_DEFAULT_CTX) if lengths else None


class ContextWindows:
    """The context window per (server, model), remembered in Redis for every worker."""

    def __init__(self, client: redis.Redis | None, prefix: str, fetch: Fetch = _fetch_json) -> None:
        self._redis = client
        self._key = prefix + KEY
        self._fetch = fetch
        self._local: dict[str, int | None] = {}

    def _field(self, base_url: str, model: str) -> str:
        return f"{base_url.rstrip('/')}|{model}"

    def get(self, base_url: str, model: str) -> int | None:
        """The window: remembered, else probed once (and remembered, "0" for "not said")."""
        field = self._field(base_url, model)
        if field in self._local:
            return self._local[field]
        stored = self._read(field)
        if stored is None:
            found = probe_window(base_url, model, self._fetch)
            self._write(field, found or 0)
            stored = found or 0
        window = stored or None
        self._local[field] = window
        return window

    def learn(self, base_url: str, model: str, window: int) -> None:
        """Remember a window the server named when it refused a prompt."""
        field = self._field(base_url, model)
        self._local[field] = window
        self._write(field, window)
        log.info("llm.context.learnt", window=window, model=model)

    def _read(self, field: str) -> int | None:
        if self._redis is None:
            return None
        try:
            raw = self._redis.hget(self._key, field)
        except redis.RedisError:
            return None
        return int(raw) if raw is not None else None

    def _write(self, field: str, window: int) -> None:
        if self._redis is None:
            return
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.hset(self._key, field, window)
            pipe.expire(self._key, REMEMBER_SECONDS)
            pipe.execute()
        except redis.RedisError:
            pass  # the next worker probes again
