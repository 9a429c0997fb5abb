"""The model's context window: asked of the server, learnt from a refusal, remembered, fitted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from commit_digest.analysis.ask import llm_result
from commit_digest.analysis.context import FRAMING_TOKENS, input_budget, window_from_error
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.llm import OpenAIAnalyzer
from commit_digest.cli import main
from commit_digest.config import Settings, load_settings
from commit_digest.runtime import Runtime

from support.llm_api import LLMStandIn


@pytest.fixture
def llm_api() -> Iterator[LLMStandIn]:
    with LLMStandIn() as server:
        yield server


def settings_for(server: LLMStandIn, env: dict[str, str], **extra: str) -> Settings:
    return load_settings(
        {**env, "OPENAI_BASE_URL": server.url, "OPENAI_MODEL": "qwen-test", **extra},
        dotenv_path=None,
    )


@pytest.mark.parametrize(
    ("message", "window"),
    [
        ("This model's maximum context length is 8192 tokens. However, you requested", 8192),
        ("This model's maximum context length is 128,000 tokens.", 128000),
        ("Requested tokens (5020) exceed context window of 4096", 4096),
        ("the request exceeds the available context size (n_ctx_slot = 4096)", 4096),
        ("prompt is too long", None),
        ("context window of 12", None),  # not a window anyone serves
    ],
)
def test_window_from_error(message: str, window: int | None) -> None:
    """The window is read from how OpenAI, llama-cpp-python, llama.cpp and vLLM say it."""
    assert window_from_error(message) == window


def test_budget_fits_the_window_with_room_for_the_answer() -> None:
    """The prompt gets what the window leaves after the answer and the chat framing."""
    assert input_budget(3000, None, 1000) == 3000
    assert input_budget(3000, 32768, 1000) == 3000
    assert input_budget(3000, 3500, 1000) == 3500 - 1000 - FRAMING_TOKENS
    assert input_budget(3000, 2048, 1000) == 2048 - 1000 - FRAMING_TOKENS


@pytest.mark.parametrize("style", ["llama.cpp", "vllm", "ollama"])
def test_the_window_is_asked_of_the_server(
    style: str, llm_api: LLMStandIn, env: dict[str, str]
) -> None:
    """llama.cpp's /props, vLLM's max_model_len and Ollama's num_ctx are each understood."""
    llm_api.context_window, llm_api.window_style = 2048, style
    analyzer = OpenAIAnalyzer(settings_for(llm_api, env))
    assert analyzer.context_window() == 2048
    assert analyzer.input_budget(3000, 1000) == 2048 - 1000 - FRAMING_TOKENS


def test_a_prompt_refused_as_too_long_is_sent_again_smaller_never_dropped(
    llm_api: LLMStandIn, env: dict[str, str]
) -> None:
    """A server that only says its window when refusing: the next request fits, the LLM answers,
    and the window is remembered for every worker (a new analyzer needs no refusal)."""
    llm_api.context_window = 3100
    hunks = [
        f"@@ -{h * 30} +{h * 30},30 @@\n"
        + "\n".join(f"+value_{n} = compute({n * 7919 % 10007}, 'k{n}')" for n in range(h, h + 30))
        for h in range(100)
    ]
    commit = CommitInput(
        repository="octo/window",
        sha="a" * 40,
        message="feat(parser): accept trailing commas",
        author="Ada",
        files=(FileChange("src/parser.py", "modified", 3000, 0, "\n".join(hunks)),),
        files_total=1,
        source="github",
    )
    settings = settings_for(llm_api, env, LLM_INPUT_TOKEN_BUDGET="3000")
    rt = Runtime.build(settings)
    try:
        result = llm_result(rt, commit, retries=0, language="en")
    finally:
        rt.close()
    assert (result.analyzer, result.fallback_reason) == ("llm", None), llm_api.requests[-1:]
    assert result.fallback_reason is None
    statuses = [len(str(r["messages"])) for r in llm_api.requests]
    assert len(statuses) == 2
    assert statuses[1] < statuses[0]
    again = OpenAIAnalyzer(settings)
    assert again.input_budget(3000, 1000) == 3100 - 1000 - FRAMING_TOKENS


def test_llm_check_says_what_the_server_is_and_what_will_be_used(
    llm_api: LLMStandIn, env: dict[str, str]
) -> None:
    """`commit-digest llm check` names the model, the window, json_schema, one sample's time and
    the budget it will use; a server without json_schema is said to be one."""
    llm_api.context_window, llm_api.window_style = 3500, "llama.cpp"
    llm_api.reject_json_schema()
    result = CliRunner().invoke(
        main,
        ["llm", "check"],
        env={**env, "OPENAI_BASE_URL": llm_api.url, "OPENAI_MODEL": "qwen-test"},
    )
    assert result.exit_code == 0, result.output
    assert "model         qwen-test (OPENAI_MODEL)" in result.output
    assert "context       3,500 tokens" in result.output
    assert "json_schema   no: json_object" in result.output
    assert f"prompt budget {3500 - 1000 - FRAMING_TOKENS:,} tokens" in result.output
    assert "one sample" in result.output
    # a new model has not yet named the evidence's type often enough for its labels to count
    assert "labels        the evidence's until the model names" in result.output
    assert "(so far 0 of 0)" in result.output


def test_llm_check_without_a_server_is_one_line(env: dict[str, str]) -> None:
    """Nothing configured: one line naming the variable, no traceback."""
    result = CliRunner().invoke(main, ["llm", "check"], env=env)
    assert result.exit_code == 1
    assert "OPENAI_BASE_URL" in result.output
    assert "Traceback" not in result.output
