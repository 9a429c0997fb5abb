"""``commit-digest llm check``: what the configured LLM server is, and what will be asked of it.

One sample commit goes through the production path (budget, prompt, the analyzer with its
gate), so the check sees what an analysis sees: the model, the context window, whether
json_schema is taken, how long one answer takes, and the settings that follow from them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from commit_digest.analysis.fit import coverage_line, fit_redacted
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.llm import OpenAIAnalyzer
from commit_digest.analysis.prompts import fit_prompt
from commit_digest.analysis.tokens import token_counter
from commit_digest.analysis.trust import MIN_CHECKS, TRUST_AGREEMENT
from commit_digest.config import Settings
from commit_digest.errors import ConfigError

SAMPLE = CommitInput(
    repository="example/service",
    sha="0" * 40,
    message="fix(auth): refuse expired refresh tokens\n\nThe expiry was compared in local time.",
    author="Sample Author",
    files=(
        FileChange(
            "src/auth/tokens.py",
            "modified",
            3,
            1,
            "@@ -40,4 +40,6 @@ def refresh(token):\n"
            "-    if token.expires_at < datetime.now():\n"
            "+    if token.expires_at <= datetime.now(UTC):\n"
            "+        log.info('refresh.expired', token_id=token.id)\n"
            "         raise TokenExpired(token.id)\n",
        ),
    ),
    files_total=1,
    source="github",
)


def check_llm(settings: Settings) -> Iterator[str]:
    """Probe the configured server and yield one line per finding (raises on a refusal)."""
    if not settings.llm_configured:
        raise ConfigError(
            "OPENAI_BASE_URL", "neither it nor OPENAI_API_KEY is set: commits use the heuristics"
        )
    analyzer = OpenAIAnalyzer(settings)
    yield f"server        {analyzer.server}"
    yield f"model         {settings.openai_model} (OPENAI_MODEL)"
    window = analyzer.context_window()
    yield (
        f"context       {window:,} tokens (as the server says)"
        if window
        else "context       not said by the server; learnt from its first refusal, if any"
    )
    budget = analyzer.input_budget(settings.llm_input_token_budget, settings.llm_max_output_tokens)
    counter = token_counter(settings.openai_model)
    fitted = fit_prompt(
        SAMPLE,
        budget,
        counter,
        settings.report_language,
        fit_diff=lambda current, room: fit_redacted(current, room, counter),
        describe=lambda coverage: coverage_line(coverage, settings.report_language),
        version=settings.llm_prompt_version,
    )
    started = time.monotonic()
    result = analyzer.analyze(fitted.prompt, max_output_tokens=settings.llm_max_output_tokens)
    seconds = time.monotonic() - started
    schema = "yes" if result.mode == "json_schema" else "no: json_object, the schema in the prompt"
    yield f"json_schema   {schema}"
    agreement = analyzer.label_agreement()
    yield (
        f"labels        the model's, where the evidence leaves a commit open (it named the "
        f"evidence's type for {agreement.agreed} of {agreement.checked} commits)"
        if agreement.trusted
        else "labels        the evidence's until the model names the evidence's type for "
        f"{TRUST_AGREEMENT:.0%} of at least {MIN_CHECKS} commits (so far {agreement.agreed} "
        f"of {agreement.checked}); the model writes the analysis"
    )
    yield (
        f"one sample    {seconds:.1f} s, {result.tokens_in:,} tokens in, {result.tokens_out:,} "
        f"out: {result.analysis.change_type.value}, {result.analysis.importance.value} "
        f"(model {result.model})"
    )
    yield (
        f"will use      prompt budget {budget:,} tokens"
        + (
            f" (LLM_INPUT_TOKEN_BUDGET {settings.llm_input_token_budget:,}, cut to the window)"
            if budget < settings.llm_input_token_budget
            else " (LLM_INPUT_TOKEN_BUDGET)"
        )
        + f", answers up to {settings.llm_max_output_tokens:,} tokens, "
        f"{settings.llm_timeout:g} s of silence at most (LLM_TIMEOUT), "
        f"at most {settings.llm_concurrency} requests at once (LLM_CONCURRENCY; the limit "
        "adapts from 1)"
    )
