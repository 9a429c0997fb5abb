"""A real HTTP server on 127.0.0.1 that speaks the OpenAI Chat Completions wire format.

Answers come from a queue scripted by the test (``respond_*``), one per request, else a valid
analysis derived from the request. Every request body is kept in ``requests``. The state lives
in the process that started the server; other processes (a Celery worker) reach it over HTTP.
Each request is served on its own thread, so ``latency`` delays answers without serialising
them. A request with ``stream: true`` gets the answer as server-sent events, the way OpenAI,
llama.cpp, Ollama and vLLM send it: ``latency`` (and a scripted delay) before the first event,
then ``pieces`` content chunks ``token_gap`` seconds apart; ``respond_stall`` goes silent in the
middle of an answer, as a server that stopped generating does.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from commit_digest.analysis.tokens import token_counter

DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
AUTO: Literal["auto"] = "auto"
# (prompt_tokens, completion_tokens); AUTO estimates them; None leaves usage out as some servers do
Usage = tuple[int, int] | Literal["auto"] | None

_CJK = re.compile(r"[\u4e00-\u9fff]")
_MESSAGE_BLOCK = re.compile(
    r"<<<BEGIN COMMIT MESSAGE (\w+)>>>\n(.*?)\n<<<END COMMIT MESSAGE \1>>>", re.S
)
_FILES_BLOCK = re.compile(
    r"<<<BEGIN CHANGED FILES (\w+)>>>\n(.*?)\n<<<END CHANGED FILES \1>>>", re.S
)
_CONVENTIONAL_TYPES = {
    "feat": "feature",
    "fix": "bugfix",
    "perf": "performance",
    "refactor": "refactor",
    "docs": "docs",
    "test": "test",
    "build": "build",
    "ci": "ci",
    "chore": "chore",
    "revert": "revert",
    "style": "style",
    "security": "security",
}
_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to use this model.", "invalid_request_error", None),
    404: (
        "The model does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    429: ("Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}
# What vLLM (before json_schema support) answers, as a pydantic validation error.
VLLM_JSON_SCHEMA_ERROR = (
    "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}] "
    "(response_format json_schema not supported)"
)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, extra headers and a JSON body."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


# A scripted reply: builds the answer from the request body; ``delay`` is added to ``latency``.
@dataclass(frozen=True)
class Scripted:
    build: Callable[[dict[str, Any]], Answer]
    delay: float = 0.0
    stall: float = 0.0  # silence after the first content chunk of a streamed answer


def default_analysis(request: dict[str, Any]) -> dict[str, Any]:
    """Return a valid analysis derived from the request: its subject, language and first file."""
    system, user = _texts(request)
    message = _MESSAGE_BLOCK.search(user)
    subject = message[2].strip().splitlines()[0] if message and message[2].strip() else "the commit"
    files = _FILES_BLOCK.search(user)
    first_file = (
        files[2].splitlines()[0].split(" ", 1)[-1].split(" (")[0] if files and files[2] else ""
    )
    prefix = re.match(r"(\w+)(\([^)]*\))?!?:", subject)
    change_type = _CONVENTIONAL_TYPES.get(prefix[1].lower(), "chore") if prefix else "chore"
    chinese = bool(_CJK.search(system))
    summary = (
        f"{subject}。（测试替身生成的分析）"
        if chinese
        else f"{subject}. (Analysis by the stand-in.)"
    )
    note = "本次提交修改了此处。" if chinese else "Changed by this commit."
    return {
        "change_type": change_type,
        "importance": "high" if change_type in ("feature", "bugfix", "security") else "low",
        "summary": summary,
        "impact_scope": [{"area": first_file or "repository", "note": note}],
        "insights": {"architecture": "", "performance": "", "security": "", "compatibility": ""},
        "risks": [],
        "recommendations": [],
        "breaking_change": False,
    }


def completion(
    request: dict[str, Any],
    content: str | None,
    *,
    finish_reason: str = "stop",
    usage: Usage = AUTO,
    model: str | None = None,
    refusal: str | None = None,
) -> dict[str, Any]:
    """Return a chat.completion body; ``usage`` AUTO estimates four characters per token."""
    body: dict[str, Any] = {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "created": 1767225600,
        "model": model or request.get("model") or DEFAULT_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
    }
    if usage == AUTO:
        prompt_tokens = sum(len(text) for text in _texts(request)) // 4 + 7
        usage = (prompt_tokens, len(content or refusal or "") // 4 + 1)
    if isinstance(usage, tuple):
        body["usage"] = {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
        }
    return body


def error_body(status: int, message: str | None = None, code: str | None = None) -> dict[str, Any]:
    """Return an OpenAI-style error body for ``status``."""
    default_message, kind, default_code = _ERRORS.get(status, ("Error.", "server_error", None))
    return {
        "error": {
            "message": message or default_message,
            "type": kind,
            "param": None,
            "code": code or default_code,
        }
    }


class LLMStandIn:
    """An OpenAI-compatible server on a free 127.0.0.1 port; script it with ``respond_*``."""

    def __init__(self, *, latency: float = 0.0, model: str | None = None) -> None:
        self.latency = latency
        self.model = model  # None: answer with the model the request named
        self.requests: list[dict[str, Any]] = []
        self.request_headers: list[dict[str, str]] = []
        self.json_schema_supported = True
        self._json_schema_error = VLLM_JSON_SCHEMA_ERROR
        self._queue: deque[Scripted] = deque()
        self._lock = threading.Lock()
        # one_slot: answer one request at a time and queue the rest, as llama.cpp's server
        # with one slot does; `abandoned` counts answers computed for a client that had left
        self.one_slot = False
        self._slot = threading.Lock()
        self.abandoned = 0
        # streamed answers: content in `pieces` chunks, `token_gap` seconds apart
        self.token_gap = 0.0
        self.pieces = 4
        # a context window (the prompt's tokens plus max_tokens) beyond which
        # a request is refused as OpenAI refuses it; `window_style` says where the server tells
        # it: "llama.cpp" (GET /props), "vllm" (max_model_len in /v1/models), "ollama"
        # (POST /api/show) or None (only in its refusals)
        self.context_window: int | None = None
        self.window_style: str | None = None
        # interrupts (with one_slot): a request arriving while another is answered cuts that
        # one short — its stream ends without a finish_reason — as llama-cpp-python's server
        # does (interrupt_requests); `interrupted` counts the answers cut
        self.interrupts = False
        self.interrupted = 0
        self._cut: threading.Event | None = None
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to use as OPENAI_BASE_URL (ends in /v1)."""
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> LLMStandIn:
        """Listen on a free port and serve on a daemon thread."""
        server = _QuietServer(("127.0.0.1", 0), _handler_for(self), bind_and_activate=False)
        # A benchmark opens dozens of connections at once; the default backlog of 5 drops some.
        server.request_queue_size = 128
        server.server_bind()
        server.server_activate()
        self._server = server
        # A short poll interval so stop() returns at once instead of after up to half a second.
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="llm-stand-in", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; answers still waiting out a delay are cut short."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LLMStandIn:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget scripted answers and recorded requests; answer at once, json_schema supported."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.request_headers.clear()
            self.latency = 0.0
            self.model = None
            self.json_schema_supported = True
            self.one_slot = False
            self.abandoned = 0
            self.token_gap = 0.0
            self.pieces = 4
            self.context_window = None
            self.window_style = None
            self.interrupts = False
            self.interrupted = 0

    # --- scripting -----------------------------------------------------------------------------

    def respond(
        self, build: Callable[[dict[str, Any]], Answer], *, delay: float = 0.0, stall: float = 0.0
    ) -> None:
        """Queue an answer built from the request that receives it."""
        with self._lock:
            self._queue.append(Scripted(build, delay, stall))

    def respond_stall(self, seconds: float) -> None:
        """Queue a valid answer whose stream goes silent for ``seconds`` after its first chunk."""
        self.respond(self._valid(None), stall=seconds)

    def respond_valid(
        self,
        analysis: dict[str, Any] | None = None,
        *,
        usage: Usage = AUTO,
        model: str | None = None,
    ) -> None:
        """Queue a valid answer: ``analysis`` as given, else derived from the request."""
        self.respond(self._valid(analysis, usage=usage, model=model))

    def respond_content(self, content: str, *, finish_reason: str = "stop") -> None:
        """Queue an answer whose message content is ``content`` verbatim."""
        self.respond(
            lambda request: Answer(
                200, completion(request, content, finish_reason=finish_reason, model=self.model)
            )
        )

    def respond_length(self) -> None:
        """Queue an answer cut off at the output limit: finish_reason length, truncated JSON."""

        def build(request: dict[str, Any]) -> Answer:
            text = json.dumps(default_analysis(request))
            return Answer(
                200,
                completion(
                    request, text[: len(text) // 2], finish_reason="length", model=self.model
                ),
            )

        self.respond(build)

    def respond_invalid_json(self) -> None:
        """Queue an answer that is prose, not JSON."""
        self.respond_content("Sure! Here is the analysis you asked for: the commit looks fine.")

    def respond_schema_violation(self, *, drop: str | None = None, **overrides: Any) -> None:
        """Queue JSON that breaks the schema: ``overrides`` replace fields, ``drop`` removes one.

        Without arguments the importance is "urgent", which the schema does not allow.
        """
        if drop is None and not overrides:
            overrides = {"importance": "urgent"}

        def build(request: dict[str, Any]) -> Answer:
            analysis = {**default_analysis(request), **overrides}
            analysis.pop(drop or "", None)
            return Answer(200, completion(request, json.dumps(analysis), model=self.model))

        self.respond(build)

    def respond_refusal(self, text: str = "I'm sorry, I can't help with that.") -> None:
        """Queue a structured-outputs refusal: no content, a ``refusal`` message."""
        self.respond(
            lambda request: Answer(200, completion(request, None, refusal=text, model=self.model))
        )

    def respond_status(
        self,
        status: int,
        *,
        headers: Mapping[str, str] | None = None,
        message: str | None = None,
        code: str | None = None,
    ) -> None:
        """Queue an error answer with an OpenAI-style error body and the given headers."""
        self.respond(
            lambda _request: Answer(status, error_body(status, message, code), dict(headers or {}))
        )

    def respond_slow(self, seconds: float, analysis: dict[str, Any] | None = None) -> None:
        """Queue a valid answer sent only after ``seconds`` (on top of ``latency``)."""
        self.respond(self._valid(analysis), delay=seconds)

    def reject_json_schema(self, message: str = VLLM_JSON_SCHEMA_ERROR) -> None:
        """Answer every json_schema request with a 400 as servers without structured outputs do."""
        self.json_schema_supported = False
        self._json_schema_error = message

    # --- serving -------------------------------------------------------------------------------

    def _valid(
        self,
        analysis: dict[str, Any] | None,
        *,
        usage: Usage = AUTO,
        model: str | None = None,
    ) -> Callable[[dict[str, Any]], Answer]:
        def build(request: dict[str, Any]) -> Answer:
            content = json.dumps(analysis if analysis is not None else default_analysis(request))
            return Answer(200, completion(request, content, usage=usage, model=model or self.model))

        return build

    def _answer(self, request: dict[str, Any]) -> tuple[Answer, float, float]:
        response_format = request.get("response_format") or {}
        if self.context_window is not None:
            # counted with the tokenizer commit-digest assumes for the model (as a real server
            # counts with the model's own), plus what the chat template wraps around them
            counter = token_counter(str(request.get("model") or DEFAULT_MODEL))
            wanted = (
                sum(counter.count(text) for text in _texts(request))
                + 16
                + int(request.get("max_tokens") or request.get("max_completion_tokens") or 0)
            )
            if wanted > self.context_window:
                message = (
                    f"This model's maximum context length is {self.context_window} tokens. "
                    f"However, you requested {wanted} tokens. Please reduce the length of the "
                    "messages or completion."
                )
                return Answer(400, error_body(400, message, "context_length_exceeded")), 0.0, 0.0
        if not self.json_schema_supported and response_format.get("type") == "json_schema":
            # vLLM's shape: the error object at the top level, not under "error".
            body = {
                "object": "error",
                "message": self._json_schema_error,
                "type": "BadRequestError",
                "param": None,
                "code": 400,
            }
            return Answer(400, body), 0.0, 0.0
        with self._lock:
            scripted = self._queue.popleft() if self._queue else None
        if scripted is None:
            return self._valid(None)(request), 0.0, 0.0
        return scripted.build(request), scripted.delay, scripted.stall

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(body)
            self.request_headers.append(headers)


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up on a kept-alive connection is normal, not a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _texts(request: dict[str, Any]) -> tuple[str, str]:
    """The system and user message texts of a chat request (empty when absent)."""
    system = user = ""
    for message in request.get("messages") or []:
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content)
        if message.get("role") in ("system", "developer"):
            system += text
        elif message.get("role") == "user":
            user += text
    return system, user


def _handler_for(stand_in: LLMStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
        # headers and body go out in two writes: without TCP_NODELAY each answer on a
        # kept-alive connection waits ~40 ms for a delayed ACK
        disable_nagle_algorithm = True
        timeout = 60  # idle keep-alive connections end instead of holding a thread forever

        def do_GET(self) -> None:
            window, style = stand_in.context_window, stand_in.window_style
            if self.path.rstrip("/") == "/v1/models":
                model = stand_in.model or DEFAULT_MODEL
                entry: dict[str, Any] = {"id": model, "object": "model", "owned_by": "stand-in"}
                if style == "vllm":
                    entry["max_model_len"] = window
                self._send(Answer(200, {"object": "list", "data": [entry]}))
            elif self.path == "/props" and style == "llama.cpp":
                self._send(Answer(200, {"default_generation_settings": {"n_ctx": window}}))
            else:
                self._send(Answer(404, error_body(404, f"No route for GET {self.path}")))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path == "/api/show" and stand_in.window_style == "ollama":
                parameters = f"num_ctx                        {stand_in.context_window}"
                self._send(Answer(200, {"parameters": parameters, "model_info": {}}))
                return
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(Answer(404, error_body(404, f"No route for POST {self.path}")))
                return
            try:
                request = json.loads(raw)
            except ValueError:
                self._send(Answer(400, error_body(400, "The body is not JSON.")))
                return
            stand_in._record(request, {name.lower(): value for name, value in self.headers.items()})
            answer, delay, stall = stand_in._answer(request)
            streamed = request.get("stream") is True and answer.status == 200
            if stand_in.one_slot:
                if stand_in.interrupts and stand_in._cut is not None:
                    stand_in._cut.set()  # the one being answered ends now
                with stand_in._slot:
                    cut = threading.Event()
                    stand_in._cut = cut
                    cut.wait(stand_in.latency + delay)
                    if streamed:
                        self._stream(answer, request, stall, cut)
            else:
                stand_in._wait(stand_in.latency + delay)
                if streamed:
                    self._stream(answer, request, stall)
            if not streamed:
                self._send(answer)

        def _stream(
            self,
            answer: Answer,
            request: dict[str, Any],
            stall: float,
            cut: threading.Event | None = None,
        ) -> None:
            """Send ``answer`` as chat.completion.chunk events in a chunked HTTP body."""
            body = answer.body
            choice = body["choices"][0]
            message = choice["message"]
            content = message.get("content") or ""
            size = max(1, -(-len(content) // max(stand_in.pieces, 1)))
            pieces = [content[i : i + size] for i in range(0, len(content), size)]
            base = {k: body[k] for k in ("id", "created", "model")}
            base["object"] = "chat.completion.chunk"

            def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
                return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

            events = [chunk({"role": "assistant", "content": ""})]
            if message.get("refusal"):
                events.append(chunk({"refusal": message["refusal"]}))
            events += [chunk({"content": piece}) for piece in pieces]
            events.append(chunk({}, choice.get("finish_reason")))
            options = request.get("stream_options") or {}
            if options.get("include_usage") and "usage" in body:
                events.append({**base, "choices": [], "usage": body["usage"]})
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for index, event in enumerate([*events, None]):
                    if event is not None and index > 0 and cut is not None and cut.is_set():
                        with stand_in._lock:
                            stand_in.interrupted += 1
                        event = None  # cut short: [DONE] with no finish_reason sent
                    data = (
                        b"data: [DONE]\n\n"
                        if event is None
                        else (b"data: " + json.dumps(event).encode() + b"\n\n")
                    )
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                    if event is None:
                        break
                    if index == 1 and stall:
                        stand_in._wait(stall)
                    elif 1 <= index < len(events) - 1:
                        if cut is not None:
                            cut.wait(stand_in.token_gap)
                        else:
                            stand_in._wait(stand_in.token_gap)
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
                with stand_in._lock:
                    stand_in.abandoned += 1

        def _send(self, answer: Answer) -> None:
            payload = json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its timeout): nothing to answer to.
                self.close_connection = True
                with stand_in._lock:
                    stand_in.abandoned += 1

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test output is no place for access logs

    return Handler
