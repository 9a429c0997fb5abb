"""The LLM boundary: the real openai SDK against a stand-in OpenAI-compatible server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.llm import (
    Analyzer,
    LLMResult,
    OpenAIAnalyzer,
    forget_server_capabilities,
)
from commit_digest.analysis.prompts import Prompt, build_prompt, system_with_schema
from commit_digest.config import Settings, load_settings
from commit_digest.errors import LLMOutputInvalid, LLMRejected, LLMUnavailable
from report.schema import Analysis, analysis_json_schema

from support.llm_api import LLMStandIn

API_KEY = "sk-test-4f8a0c1e9b7d6a5f3e2d1c0b"
ANALYSIS: dict[str, Any] = {
    "change_type": "bugfix",
    "importance": "high",
    "summary": "`disagg.sh` now starts the decode worker with `--is-decode-worker`.",
    "impact_scope": [
        {"area": "examples/backends/vllm/launch/", "note": "Every disaggregated launch script."}
    ],
    "insights": {
        "architecture": "Workers declare their role instead of relying on detection.",
        "performance": "",
        "security": "",
        "compatibility": "Older `dynamo.vllm` builds reject the flag.",
    },
    "risks": ["Scripts fail on releases without the flag."],
    "recommendations": ["State the minimum `dynamo.vllm` version in the README."],
    "breaking_change": False,
}
COMMIT = CommitInput(
    repository="ai-dynamo/dynamo",
    sha="3b9b3f31c0012eb4dd71bdf095d46847b0d7019f",
    message="fix: Add --is-decode-worker flag to vllm examples (#5899)",
    author="Sean SH Choi",
    files=(FileChange("examples/backends/vllm/launch/disagg.sh", "modified", 2, 1, "@@"),),
    files_total=1,
    source="github",
)
PROMPT = build_prompt(COMMIT, "+  --is-decode-worker", (), "1 of 1 files", "en")


@pytest.fixture(autouse=True)
def _fresh_capabilities() -> Iterator[None]:
    """Each test starts without remembered json_schema refusals (ports get reused)."""
    forget_server_capabilities()
    yield
    forget_server_capabilities()


@pytest.fixture
def llm_api() -> Iterator[LLMStandIn]:
    with LLMStandIn() as server:
        yield server


def llm_settings(server: LLMStandIn, **env: str) -> Settings:
    environ = {"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": API_KEY, **env}
    return load_settings(environ, dotenv_path=None)


def analyze(server: LLMStandIn, prompt: Prompt = PROMPT, **env: str) -> LLMResult:
    return OpenAIAnalyzer(llm_settings(server, **env)).analyze(prompt, max_output_tokens=2000)


def test_valid_answer_becomes_a_result_with_usage_and_cost(llm_api: LLMStandIn) -> None:
    """A valid answer gives the analysis, the server's model name, its usage and the cost."""
    llm_api.respond_valid(ANALYSIS, usage=(1200, 300), model="gpt-4o-mini-2024-07-18")

    result = analyze(llm_api)

    # gpt-4o-mini: 0.15 USD per million input tokens, 0.60 per million output tokens
    assert result == LLMResult(
        analysis=Analysis.model_validate(ANALYSIS),
        model="gpt-4o-mini-2024-07-18",
        tokens_in=1200,
        tokens_out=300,
        cost_usd=0.00036,
        mode="json_schema",
    )


def test_request_carries_the_prompt_and_the_strict_schema(llm_api: LLMStandIn) -> None:
    """The request asks for strict json_schema output with the prompt's two messages, streamed
    (with the usage as the last event)."""
    analyze(llm_api, OPENAI_MODEL="qwen2.5-coder-32b")

    body = llm_api.requests[0]
    assert body == {
        "model": "qwen2.5-coder-32b",
        "messages": [
            {"role": "system", "content": PROMPT.system},
            {"role": "user", "content": PROMPT.user},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "commit_analysis",
                "strict": True,
                "schema": analysis_json_schema(),
            },
        },
        "max_tokens": 2000,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_api_key_goes_in_the_authorization_header_only(llm_api: LLMStandIn) -> None:
    """The key is sent as a bearer token and appears in no request body."""
    analyze(llm_api)

    assert llm_api.request_headers[0]["authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in json.dumps(llm_api.requests)


def test_server_without_a_key_gets_a_placeholder(llm_api: LLMStandIn) -> None:
    """Without OPENAI_API_KEY a self-hosted server still gets a request (and no real key)."""
    settings = load_settings({"OPENAI_BASE_URL": llm_api.url}, dotenv_path=None)

    OpenAIAnalyzer(settings).analyze(PROMPT, max_output_tokens=500)

    assert llm_api.request_headers[0]["authorization"] == "Bearer not-needed"


def test_unknown_model_costs_nothing(llm_api: LLMStandIn) -> None:
    """A model without a known price is recorded at zero cost, with its usage."""
    llm_api.respond_valid(ANALYSIS, usage=(900, 250), model="Qwen/Qwen2.5-Coder-32B-Instruct")

    result = analyze(llm_api)

    assert (result.model, result.tokens_in, result.tokens_out, result.cost_usd) == (
        "Qwen/Qwen2.5-Coder-32B-Instruct",
        900,
        250,
        0.0,
    )


def test_server_without_json_schema_falls_back_to_json_object(llm_api: LLMStandIn) -> None:
    """A 400 refusing json_schema is answered by a json_object request with the schema inline."""
    llm_api.reject_json_schema()
    llm_api.respond_valid(ANALYSIS)

    result = analyze(llm_api)

    assert (result.mode, result.analysis) == ("json_object", Analysis.model_validate(ANALYSIS))
    assert [body["response_format"]["type"] for body in llm_api.requests] == [
        "json_schema",
        "json_object",
    ]
    assert llm_api.requests[1]["messages"][0] == {
        "role": "system",
        "content": system_with_schema(PROMPT),
    }


def test_fallback_is_remembered_for_the_server(llm_api: LLMStandIn) -> None:
    """After one refusal, later calls (even from a new analyzer) go straight to json_object."""
    llm_api.reject_json_schema()
    analyze(llm_api)

    result = analyze(llm_api)

    assert result.mode == "json_object"
    assert [body["response_format"]["type"] for body in llm_api.requests] == [
        "json_schema",
        "json_object",
        "json_object",
    ]


def test_fallback_answers_are_validated(llm_api: LLMStandIn) -> None:
    """json_object output that breaks the schema is refused like any other."""
    llm_api.reject_json_schema()
    llm_api.respond_schema_violation()

    with pytest.raises(LLMOutputInvalid, match="importance"):
        analyze(llm_api)


def test_llama_cpp_style_refusal_also_falls_back(llm_api: LLMStandIn) -> None:
    """A differently worded refusal of response_format is recognised too."""
    llm_api.reject_json_schema(message="Unsupported response_format type: json_schema")

    assert analyze(llm_api).mode == "json_object"


def test_cut_off_answer_is_invalid_output(llm_api: LLMStandIn) -> None:
    """finish_reason "length" means the JSON is cut off: the caller retries with less."""
    llm_api.respond_length()

    with pytest.raises(LLMOutputInvalid, match="cut off at 2000 output tokens"):
        analyze(llm_api)


def test_prose_instead_of_json_is_invalid_output(llm_api: LLMStandIn) -> None:
    """An answer that is not JSON is refused, without quoting it."""
    llm_api.respond_invalid_json()

    with pytest.raises(LLMOutputInvalid, match="not valid JSON") as caught:
        analyze(llm_api)

    assert "Sure!" not in str(caught.value)


@pytest.mark.parametrize(
    ("violation", "reason"),
    [
        ({"importance": "urgent"}, "importance: Input should be 'high', 'medium' or 'low'"),
        ({"drop": "summary"}, "summary: Field required"),
        ({"mood": "great"}, "mood: Extra inputs are not permitted"),
        ({"risks": "none"}, "risks: Input should be a valid array"),
    ],
)
def test_schema_violations_are_invalid_output(
    llm_api: LLMStandIn, violation: dict[str, Any], reason: str
) -> None:
    """JSON that breaks the analysis schema is refused with the field and the rule."""
    llm_api.respond_schema_violation(**violation)

    with pytest.raises(LLMOutputInvalid) as caught:
        analyze(llm_api)

    assert str(caught.value) == f"the answer does not match the analysis schema ({reason})"


def test_refusal_is_invalid_output(llm_api: LLMStandIn) -> None:
    """A structured-outputs refusal is invalid output, not an analysis."""
    llm_api.respond_refusal()

    with pytest.raises(LLMOutputInvalid, match="refused"):
        analyze(llm_api)


def test_rate_limit_is_unavailable_with_retry_after_and_no_sdk_retry(llm_api: LLMStandIn) -> None:
    """A 429 with Retry-After: 3 raises LLMUnavailable(retry_after=3) after exactly one request."""
    llm_api.respond_status(429, headers={"Retry-After": "3"})

    with pytest.raises(LLMUnavailable) as caught:
        analyze(llm_api)

    assert (caught.value.retry_after, len(llm_api.requests)) == (3.0, 1)


def test_rate_limit_without_retry_after_leaves_the_wait_open(llm_api: LLMStandIn) -> None:
    """A 429 without a hint leaves the backoff to the caller."""
    llm_api.respond_status(429)

    with pytest.raises(LLMUnavailable) as caught:
        analyze(llm_api)

    assert caught.value.retry_after is None


def test_rate_limit_reads_retry_after_ms(llm_api: LLMStandIn) -> None:
    """OpenAI's retry-after-ms header is read in milliseconds."""
    llm_api.respond_status(429, headers={"retry-after-ms": "1500", "Retry-After": "2"})

    with pytest.raises(LLMUnavailable) as caught:
        analyze(llm_api)

    assert caught.value.retry_after == 1.5


def test_exhausted_quota_is_rejected(llm_api: LLMStandIn) -> None:
    """A 429 for an account without quota will not pass by waiting: it is rejected."""
    llm_api.respond_status(429, code="insufficient_quota", message="You exceeded your quota.")

    with pytest.raises(LLMRejected, match="OPENAI_API_KEY"):
        analyze(llm_api)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_unavailable(llm_api: LLMStandIn, status: int) -> None:
    """5xx answers raise LLMUnavailable after one request."""
    llm_api.respond_status(status)

    with pytest.raises(LLMUnavailable, match=str(status)):
        analyze(llm_api)

    assert len(llm_api.requests) == 1


def test_slow_server_is_unavailable_after_the_timeout(llm_api: LLMStandIn) -> None:
    """An answer slower than LLM_TIMEOUT raises LLMUnavailable when the timeout expires."""
    llm_api.respond_slow(3)
    started = time.monotonic()

    with pytest.raises(LLMUnavailable, match=r"silent for 1 s \(LLM_TIMEOUT"):
        analyze(llm_api, LLM_TIMEOUT="1")

    assert time.monotonic() - started < 2.5
    assert len(llm_api.requests) == 1


def test_unreachable_server_is_unavailable() -> None:
    """A server that refuses connections raises LLMUnavailable naming OPENAI_BASE_URL."""
    server = LLMStandIn().start()
    settings = llm_settings(server)
    server.stop()

    with pytest.raises(LLMUnavailable, match="OPENAI_BASE_URL"):
        OpenAIAnalyzer(settings).analyze(PROMPT, max_output_tokens=500)


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (401, "check OPENAI_API_KEY"),
        (403, "check that OPENAI_API_KEY may use the model 'gpt-4o-mini' (OPENAI_MODEL)"),
        (404, "check OPENAI_MODEL ('gpt-4o-mini')"),
        (400, "check that OPENAI_MODEL ('gpt-4o-mini') and OPENAI_BASE_URL"),
    ],
)
def test_client_errors_are_rejected_with_what_to_check(
    llm_api: LLMStandIn, status: int, hint: str
) -> None:
    """4xx answers raise LLMRejected saying which setting to check, never the key."""
    llm_api.respond_status(status)

    with pytest.raises(LLMRejected) as caught:
        analyze(llm_api)

    assert hint in str(caught.value)
    assert API_KEY not in str(caught.value)
    assert len(llm_api.requests) == 1


def test_context_overflow_names_the_budget(llm_api: LLMStandIn) -> None:
    """A prompt too long for the model points at LLM_INPUT_TOKEN_BUDGET."""
    llm_api.respond_status(400, code="context_length_exceeded")

    with pytest.raises(LLMRejected, match="LLM_INPUT_TOKEN_BUDGET"):
        analyze(llm_api)


def test_analyzer_satisfies_the_protocol(llm_api: LLMStandIn) -> None:
    """OpenAIAnalyzer is an Analyzer, so the pipeline can take either it or a substitute."""
    analyzer: Analyzer = OpenAIAnalyzer(llm_settings(llm_api))

    assert analyzer.analyze(PROMPT, max_output_tokens=500).mode == "json_schema"


def test_default_answer_follows_the_commit(llm_api: LLMStandIn) -> None:
    """Unscripted, the stand-in answers with an analysis naming the commit's subject."""
    result = analyze(llm_api)

    assert result.analysis.summary.startswith(COMMIT.subject)
    assert result.analysis.impact_scope[0].area == "examples/backends/vllm/launch/disagg.sh"
    assert result.tokens_in > 0
    assert result.tokens_out > 0


def test_stand_in_answers_concurrent_requests_in_parallel() -> None:
    """With a 1 s latency, 32 concurrent analyses finish in about one latency, not 32."""
    with LLMStandIn(latency=1.0) as server:
        analyzer = OpenAIAnalyzer(llm_settings(server))
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as pool:
            results = list(
                pool.map(lambda _: analyzer.analyze(PROMPT, max_output_tokens=500), range(32))
            )
        elapsed = time.monotonic() - started

    assert len(results) == len(server.requests) == 32
    assert elapsed < 3.0


def test_a_slow_but_steady_answer_is_never_abandoned(llm_api: LLMStandIn) -> None:
    """Tokens 0.6 s apart for 4 s in all, with LLM_TIMEOUT 1 s: the answer arrives whole."""
    llm_api.token_gap = 0.6
    llm_api.pieces = 6
    started = time.monotonic()
    result = analyze(llm_api, LLM_TIMEOUT="1")
    assert time.monotonic() - started > 3.0
    assert result.analysis.summary
    assert len(llm_api.requests) == 1


def test_a_silent_server_is_given_up_on_after_llm_timeout(llm_api: LLMStandIn) -> None:
    """A stream that goes quiet for longer than LLM_TIMEOUT is LLMUnavailable, said plainly."""
    llm_api.respond_stall(5.0)
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match=r"silent for 1 s \(LLM_TIMEOUT"):
        analyze(llm_api, LLM_TIMEOUT="1")
    assert time.monotonic() - started < 4.0


def test_usage_is_counted_when_the_server_sends_none(llm_api: LLMStandIn) -> None:
    """A server that ignores include_usage (llama.cpp) still gives token counts: ours, with the
    model's tokenizer (or the nearest one), for the metrics, the LLM gate's pacing and make eval."""
    llm_api.respond_valid(usage=None)
    result = analyze(llm_api)
    assert result.tokens_in > 100
    assert result.tokens_out > 10
