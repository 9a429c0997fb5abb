"""The LLM boundary: send a prompt to an OpenAI-compatible server, get back a validated analysis.

Library errors are mapped onto ``commit_digest.errors``: ``LLMUnavailable`` (retry later, honouring
``retry_after``), ``LLMOutputInvalid`` (retry with a smaller budget) and ``LLMRejected``
(retrying will not help; the message says which setting to check). The SDK never retries on
its own: Celery owns retries and their backoff.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import httpx2
import openai
import redis
import structlog
from openai import omit
from openai.types import CompletionUsage
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageParam,
)
from openai.types.chat.chat_completion import Choice
from openai.types.chat.completion_create_params import ResponseFormat
from pydantic import ValidationError

from commit_digest.analysis.context import (
    ContextWindows,
    input_budget,
    probe_slots,
    window_from_error,
)
from commit_digest.analysis.gate import Gate
from commit_digest.analysis.prompts import Prompt, system_with_schema
from commit_digest.analysis.tokens import token_counter
from commit_digest.analysis.trust import Agreement, LabelTrust
from commit_digest.config import Settings
from commit_digest.errors import (
    LLMOutputInvalid,
    LLMPromptTooLong,
    LLMRejected,
    LLMStreamCut,
    LLMUnavailable,
)
from commit_digest.metrics import Metrics
from commit_digest.retry import retry_after
from report.schema import Analysis, analysis_json_schema

log = structlog.get_logger(__name__)

OPENAI_API_URL = "https://api.openai.com/v1"
CONNECT_TIMEOUT = 10.0
SCHEMA_NAME = "commit_analysis"
Mode = Literal["json_schema", "json_object"]

# Base URLs whose server refused json_schema: asking again would cost a failed request per commit.
_json_object_only: set[str] = set()
_json_object_only_lock = threading.Lock()


@dataclass(frozen=True)
class LLMResult:
    """A validated analysis with the model that wrote it and what it cost."""

    analysis: Analysis
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    mode: Mode


class Analyzer(Protocol):
    """Anything that turns a prompt into a validated analysis."""

    def analyze(self, prompt: Prompt, *, max_output_tokens: int) -> LLMResult:
        """Return the analysis the model writes for ``prompt``."""
        ...

    def input_budget(self, configured: int, max_output_tokens: int) -> int:
        """Prompt tokens that fit the model's context window with room for the answer."""
        ...

    def learn_window(self, window: int) -> None:
        """Remember the context window the server named when it refused a prompt."""
        ...

    def label_agreement(self) -> Agreement:
        """How often the model named the type the evidence settled (``trust.py``)."""
        ...

    def record_label_check(self, agreed: bool) -> Agreement:
        """Count one commit whose evidence settled the type, and return the agreement."""
        ...


def forget_server_capabilities() -> None:
    """Forget which servers refused json_schema, so the next call asks for it again."""
    with _json_object_only_lock:
        _json_object_only.clear()


class OpenAIAnalyzer:
    """Analyse commits with the Chat Completions API of OpenAI or a compatible server."""

    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self._settings = settings
        self._metrics = metrics
        # Passed explicitly so the SDK does not read OPENAI_BASE_URL behind load_settings' back.
        self._base_url = (settings.openai_base_url or OPENAI_API_URL).rstrip("/")
        self._client = openai.OpenAI(
            base_url=self._base_url,
            # Self-hosted servers need no key, but the SDK refuses to start without one.
            api_key=settings.openai_api_key or "not-needed",
            # The answer is streamed, so the read timeout is the longest *silence*: before the
            # first token (the server reading the prompt) and between two tokens. A slow but
            # steady answer from a CPU model is never abandoned for its total time.
            timeout=openai.Timeout(settings.llm_timeout, connect=CONNECT_TIMEOUT),
            max_retries=0,
        )
        # api.openai.com rejects max_tokens for reasoning models; vLLM, llama.cpp, Ollama and
        # LM Studio read max_tokens and some ignore max_completion_tokens.
        host = urlsplit(self._base_url).hostname or ""
        self._limit_parameter = (
            "max_completion_tokens" if host == "api.openai.com" else "max_tokens"
        )
        self._where = _server_name(self._base_url)
        client = (
            redis.Redis.from_url(settings.redis_url, socket_timeout=10)
            if settings.redis_url
            else None
        )
        self._windows = ContextWindows(client, settings.redis_key_prefix or "")
        self._labels = LabelTrust(client, settings.redis_key_prefix or "")
        self._slots_asked = False
        self._gate = (
            Gate(
                client,
                settings.redis_key_prefix or "",
                cap=settings.llm_concurrency,
                # a commit waits at the gate while it holds its claim: the wait and the request
                # must end well inside ANALYSIS_LEASE, or the sweep hands the commit to another
                max_wait=min(300.0, settings.claim_lease.total_seconds() * 0.4),
            )
            if client is not None
            else None
        )

    @property
    def mode(self) -> Mode:
        """Return the response format the next request asks for."""
        with _json_object_only_lock:
            return "json_object" if self._base_url in _json_object_only else "json_schema"

    def analyze(self, prompt: Prompt, *, max_output_tokens: int) -> LLMResult:
        """Send ``prompt`` when the installation's gate gives a place; the validated analysis.

        ``LLMBusy`` when no place came in time (the caller queues the commit again, which is
        neither a failure nor a retry).
        """
        if self._gate is None:
            return self._measured(prompt, max_output_tokens)
        with self._gate.turn():
            if not self._slots_asked:
                self._ask_slots()
            started = time.monotonic()
            try:
                result = self._measured(prompt, max_output_tokens)
            except LLMStreamCut:
                self._gate.interrupted()
                raise
            except LLMUnavailable as error:
                self._gate.overloaded(type(error.__cause__).__name__ if error.__cause__ else "5xx")
                raise
            tokens = result.tokens_in + 4 * result.tokens_out or len(prompt.user) // 4
            self._gate.succeeded(time.monotonic() - started, tokens)
            return result

    def _ask_slots(self) -> None:
        """Ask the server once a day (one process, holding a place at the gate) how many
        requests it computes at once: a server that says is never probed beyond them.

        Holding the place matters: llama-cpp-python's server cuts the answer it is streaming
        short on any request that needs its model, even ``GET /v1/models``.
        """
        self._slots_asked = True
        assert self._gate is not None
        if not self._gate.first_to_ask_slots():
            return
        slots = probe_slots(self._base_url)
        if slots is not None:
            self._gate.server_slots(slots)

    def _measured(self, prompt: Prompt, max_output_tokens: int) -> LLMResult:
        """One request, counted by outcome, its time observed when it was answered."""
        started = time.monotonic()
        outcome = "ok"
        try:
            return self._analyze(prompt, max_output_tokens=max_output_tokens)
        except LLMUnavailable as error:
            timed_out = isinstance(
                error.__cause__, openai.APITimeoutError | httpx2.TimeoutException
            )
            outcome = "timeout" if timed_out else "unavailable"
            raise
        except LLMPromptTooLong:
            outcome = "too_long"
            raise
        except LLMRejected:
            outcome = "refused"
            raise
        except LLMOutputInvalid:
            outcome = "invalid"
            raise
        finally:
            if self._metrics is not None:
                self._metrics.count("llm_requests", outcome=outcome)
                if outcome in ("ok", "invalid"):
                    self._metrics.observe("llm_request_seconds", time.monotonic() - started)

    @property
    def server(self) -> str:
        """The server's base URL as it may be shown (no credentials)."""
        return self._where

    def input_budget(self, configured: int, max_output_tokens: int) -> int:
        """Prompt tokens that fit the model's context window with room for the answer."""
        window = self._windows.get(self._base_url, self._settings.openai_model)
        return input_budget(configured, window, max_output_tokens)

    def learn_window(self, window: int) -> None:
        """Remember the context window the server named when it refused a prompt."""
        self._windows.learn(self._base_url, self._settings.openai_model, window)

    def label_agreement(self) -> Agreement:
        """How often the model named the type the evidence settled (``trust.py``)."""
        return self._labels.agreement(self._where, self._settings.openai_model)

    def record_label_check(self, agreed: bool) -> Agreement:
        """Count one commit whose evidence settled the type, and return the agreement."""
        return self._labels.record(self._where, self._settings.openai_model, agreed)

    def context_window(self) -> int | None:
        """The model's context window as the server says or said it (None: unknown)."""
        return self._windows.get(self._base_url, self._settings.openai_model)

    def state(self) -> tuple[int, int, float] | None:
        """Requests in flight, waiting, and the limit, installation-wide (None: no gate)."""
        return self._gate.state() if self._gate is not None else None

    def _analyze(self, prompt: Prompt, *, max_output_tokens: int) -> LLMResult:
        mode = self.mode
        try:
            completion = self._complete(prompt, mode, max_output_tokens)
        except _JsonSchemaUnsupported:
            log.warning("llm.json_schema.unsupported", server=self._where, fallback="json_object")
            with _json_object_only_lock:
                _json_object_only.add(self._base_url)
            mode = "json_object"
            completion = self._complete(prompt, mode, max_output_tokens)
        result = self._result(completion, mode, max_output_tokens)
        log.info(
            "llm.analysed",
            model=result.model,
            mode=mode,
            usage_in=result.tokens_in,
            usage_out=result.tokens_out,
            cost_usd=result.cost_usd,
        )
        return result

    def _complete(self, prompt: Prompt, mode: Mode, max_output_tokens: int) -> ChatCompletion:
        messages: list[ChatCompletionMessageParam] = [
            {
                "role": "system",
                "content": prompt.system if mode == "json_schema" else system_with_schema(prompt),
            },
            {"role": "user", "content": prompt.user},
        ]
        response_format: ResponseFormat = (
            {
                "type": "json_schema",
                "json_schema": {
                    "name": SCHEMA_NAME,
                    "strict": True,
                    "schema": analysis_json_schema(),
                },
            }
            if mode == "json_schema"
            else {"type": "json_object"}
        )
        try:
            stream = self._client.chat.completions.create(
                model=self._settings.openai_model,
                messages=messages,
                response_format=response_format,
                max_tokens=max_output_tokens if self._limit_parameter == "max_tokens" else omit,
                max_completion_tokens=(
                    max_output_tokens if self._limit_parameter == "max_completion_tokens" else omit
                ),
                stream=True,
                # the usage as a last event; servers that ignore it (llama.cpp) are counted here
                stream_options={"include_usage": True},
            )
            return self._gather(stream, prompt)
        # the SDK wraps transport errors of the request, not those of reading the stream (httpx2
        # is the SDK's HTTP client)
        except (openai.APITimeoutError, httpx2.TimeoutException) as error:
            raise LLMUnavailable(
                f"the LLM server at {self._where} was silent for {self._settings.llm_timeout:g} s "
                "(LLM_TIMEOUT: the longest wait for the first token or the next one)"
            ) from error
        except (openai.APIConnectionError, httpx2.TransportError) as error:
            raise LLMUnavailable(
                f"could not reach the LLM server at {self._where}; check OPENAI_BASE_URL"
            ) from error
        except openai.APIStatusError as error:
            if mode == "json_schema" and _rejects_json_schema(error):
                raise _JsonSchemaUnsupported from error
            raise self._status_error(error) from error
        except openai.APIError as error:  # an error event inside the stream
            raise LLMUnavailable(
                f"the LLM server at {self._where} broke off its answer: {str(error)[:200]}"
            ) from error
        except json.JSONDecodeError as error:
            raise LLMUnavailable(
                f"the LLM server at {self._where} sent a malformed answer (not JSON)"
            ) from error

    def _gather(self, stream: Any, prompt: Prompt) -> ChatCompletion:
        """The streamed chunks put together as one completion (usage counted when not sent)."""
        if not isinstance(stream, openai.Stream):
            # A proxy's error page with status 200 comes back from the SDK as text.
            raise LLMUnavailable(
                f"the LLM server at {self._where} did not answer with a chat completion stream"
            )
        content: list[str] = []
        refusal: list[str] = []
        finish_reason = None
        model = None
        usage = None
        with stream:
            for chunk in stream:
                if not isinstance(chunk, ChatCompletionChunk):
                    raise LLMUnavailable(
                        f"the LLM server at {self._where} did not answer with a chat completion"
                    )
                model = chunk.model or model
                usage = chunk.usage or usage
                for choice in chunk.choices or []:
                    if choice.index != 0:
                        continue
                    delta = choice.delta
                    if delta is not None and delta.content:
                        content.append(delta.content)
                    if delta is not None and getattr(delta, "refusal", None):
                        refusal.append(str(delta.refusal))
                    finish_reason = choice.finish_reason or finish_reason
        text = "".join(content)
        if finish_reason is None:
            raise LLMStreamCut(
                f"the LLM server at {self._where} ended its answer unfinished (another request "
                "cut it short: the server takes one at a time)"
            )
        if usage is None:
            counter = token_counter(self._settings.openai_model)
            usage = CompletionUsage(
                prompt_tokens=counter.count(prompt.system) + counter.count(prompt.user),
                completion_tokens=counter.count(text),
                total_tokens=0,
            )
        return ChatCompletion.model_construct(
            id="streamed",
            object="chat.completion",
            created=0,
            model=model or self._settings.openai_model,
            choices=[
                Choice.model_construct(
                    index=0,
                    finish_reason=finish_reason,
                    message=ChatCompletionMessage.model_construct(
                        role="assistant",
                        content=text or None,
                        refusal="".join(refusal) or None,
                    ),
                )
            ],
            usage=usage,
        )

    def _status_error(
        self, error: openai.APIStatusError
    ) -> LLMUnavailable | LLMRejected | LLMPromptTooLong:
        status = error.status_code
        code = f" ({error.code})" if error.code else ""
        model = self._settings.openai_model
        if status == 429 and error.code == "insufficient_quota":
            return LLMRejected(
                f"the LLM server at {self._where} answered 429{code}: the account has no quota "
                "left; check the billing of the account behind OPENAI_API_KEY"
            )
        if status == 429:
            return LLMUnavailable(
                f"the LLM server at {self._where} is rate limiting us (429{code})",
                retry_after=retry_after(error.response.headers),
            )
        if status >= 500 and _too_long(error):  # llama-cpp-python answers 500 to some
            return self._too_long_error(error)
        if status in (408, 409) or status >= 500:
            return LLMUnavailable(
                f"the LLM server at {self._where} answered {status}{code}",
                retry_after=retry_after(error.response.headers),
            )
        if status == 401:
            hint = "check OPENAI_API_KEY"
        elif status == 403:
            hint = f"check that OPENAI_API_KEY may use the model {model!r} (OPENAI_MODEL)"
        elif status == 404:
            hint = (
                f"check OPENAI_MODEL ({model!r}) and that OPENAI_BASE_URL "
                "points at the API root, usually ending in /v1"
            )
        elif _too_long(error):
            return self._too_long_error(error)
        else:
            hint = (
                f"check that OPENAI_MODEL ({model!r}) and OPENAI_BASE_URL name a server "
                "and model that serve chat completions"
            )
        return LLMRejected(
            f"the LLM server at {self._where} refused the request ({status}{code}): {hint}"
        )

    def _too_long_error(self, error: openai.APIStatusError) -> LLMPromptTooLong:
        window = window_from_error(f"{error.message} {error.body!r}")
        return LLMPromptTooLong(
            f"the LLM server at {self._where} refused the prompt as too long for "
            f"{self._settings.openai_model!r}"
            + (f" (context window {window:,} tokens)" if window else "")
            + "; it is sent again smaller, but LLM_INPUT_TOKEN_BUDGET or "
            "LLM_MAX_OUTPUT_TOKENS may be set above what the model holds",
            window,
        )

    def _result(self, completion: ChatCompletion, mode: Mode, max_output_tokens: int) -> LLMResult:
        # The SDK does not validate answers, so a broken server can leave any field None.
        choices = completion.choices
        if not choices:
            raise LLMOutputInvalid("the answer held no choices")
        choice = choices[0]
        finish_reason = getattr(choice, "finish_reason", None)
        if finish_reason == "length":
            raise LLMOutputInvalid(f"the answer was cut off at {max_output_tokens} output tokens")
        if finish_reason == "content_filter":
            raise LLMOutputInvalid("the answer was stopped by the server's content filter")
        message = getattr(choice, "message", None)
        if getattr(message, "refusal", None):
            raise LLMOutputInvalid("the model refused to analyse the commit")
        content = getattr(message, "content", None)
        if not content or not content.strip():
            raise LLMOutputInvalid("the answer was empty")
        try:
            analysis = Analysis.model_validate_json(content)
        except ValidationError as error:
            # Not chained: pydantic's message quotes the model's output.
            raise LLMOutputInvalid(describe_validation_error(error)) from None
        model = completion.model or self._settings.openai_model
        usage = completion.usage
        tokens_in = (usage.prompt_tokens or 0) if usage else 0
        tokens_out = (usage.completion_tokens or 0) if usage else 0
        return LLMResult(
            analysis=analysis,
            model=model,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=self._cost(model, tokens_in, tokens_out),
            mode=mode,
        )

    def _cost(self, model: str, tokens_in: int, tokens_out: int) -> float:
        price = self._settings.price_of(model)
        if price is None:
            return 0.0
        # Rounded to a millionth of a cent: float noise would otherwise show in sums and tests.
        return round((tokens_in * price[0] + tokens_out * price[1]) / 1_000_000, 8)


def _too_long(error: openai.APIStatusError) -> bool:
    """Whether an error answer says the prompt does not fit the context window."""
    text = f"{error.message} {error.body!r}".lower()
    return error.code == "context_length_exceeded" or any(
        phrase in text
        for phrase in ("context length", "context window", "context_length", "too many tokens")
    )


class _JsonSchemaUnsupported(Exception):
    """The server refused ``response_format`` json_schema; ask again with json_object."""


def _rejects_json_schema(error: openai.APIStatusError) -> bool:
    """Tell whether a 4xx answer is the server refusing structured outputs (vLLM, llama.cpp)."""
    if error.status_code not in (400, 422):
        return False
    text = f"{error.message} {error.param or ''} {error.body!r}".lower()
    return "json_schema" in text or "response_format" in text


def describe_validation_error(error: ValidationError) -> str:
    """Say in one line why the answer is not an analysis, without quoting the answer."""
    problems = error.errors(include_url=False, include_input=False, include_context=False)
    for problem in problems:
        if problem["type"] == "json_invalid":
            return f"the answer is not valid JSON ({problem['msg']})"
    shown = [
        f"{'.'.join(str(part) for part in problem['loc'])[:80] or 'the answer'}: {problem['msg']}"
        for problem in problems[:3]
    ]
    more = f"; {len(problems) - 3} more" if len(problems) > 3 else ""
    return f"the answer does not match the analysis schema ({'; '.join(shown)}{more})"


def _server_name(base_url: str) -> str:
    """Return the scheme, host and port of ``base_url``: enough for a message, no credentials."""
    parts = urlsplit(base_url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"
