"""Ask the LLM (tighter on each invalid answer), else the heuristics, for an analysis."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from commit_digest.analysis.evidence import combine_evidence
from commit_digest.analysis.fit import (
    coverage_line,
    fit_redacted,
    redactions_in,
)
from commit_digest.analysis.heuristic import heuristic_analysis, with_heuristic_labels
from commit_digest.analysis.inputs import CommitInput
from commit_digest.analysis.prompts import fit_prompt
from commit_digest.analysis.results import AnalysisResult, RetryLater
from commit_digest.analysis.tokens import token_counter
from commit_digest.analysis.trust import checked_by_evidence
from commit_digest.errors import (
    LLMOutputInvalid,
    LLMPromptTooLong,
    LLMRejected,
    LLMUnavailable,
)
from commit_digest.retry import wait_before_retry
from commit_digest.runtime import Runtime
from report.data import Coverage

log = structlog.get_logger(__name__)


# Shares of the diff budget tried in turn when the answer is cut off or invalid.
BUDGET_SHARES = (1.0, 0.5, 0.25)


def llm_result(
    rt: Runtime,
    commit: CommitInput,
    retries: int,
    language: str | None = None,
    notes: Sequence[str] = (),
) -> AnalysisResult:
    """Analyse with the LLM, tightening the budget when the answer is cut off or invalid."""
    settings = rt.settings
    language = language or settings.report_language
    counter = token_counter(settings.openai_model)
    analyzer = rt.analyzer()
    problem = "no answer"
    redactions = 0
    budget = analyzer.input_budget(settings.llm_input_token_budget, settings.llm_max_output_tokens)
    for share in BUDGET_SHARES:
        fitted = fit_prompt(
            commit,
            budget,
            counter,
            language,
            fit_diff=lambda current, room: fit_redacted(current, room, counter),
            describe=lambda coverage: coverage_line(coverage, language),
            version=settings.llm_prompt_version,
            diff_share=share,
            notes=notes,
        )
        prompt, coverage = fitted.prompt, fitted.coverage
        redactions = redactions_in(fitted.commit.message, fitted.diff.text)
        try:
            answer = analyzer.analyze(prompt, max_output_tokens=settings.llm_max_output_tokens)
        except LLMPromptTooLong as error:
            # never dropped: sent again within the window the server named, else at half
            if error.window:
                analyzer.learn_window(error.window)
            smaller = analyzer.input_budget(budget, settings.llm_max_output_tokens)
            budget = smaller if smaller < budget else budget // 2
            problem = str(error)
            log.info("analysis.llm.too_long", window=error.window, budget=budget)
            continue
        except LLMOutputInvalid as error:
            problem = str(error)
            log.info("analysis.llm.invalid", share=share, reason=problem)
            continue
        except LLMUnavailable as error:
            if retries < settings.llm_retries:
                raise RetryLater(
                    wait_before_retry(error, retries, settings.retry_backoff),
                    f"LLM unavailable: {error}",
                ) from None
            log.warning("analysis.llm.unavailable", error=str(error), retries=retries)
            return heuristic_result(
                commit, language, "LLM unavailable", needs_reanalysis=True, redactions=redactions
            )
        except LLMRejected as error:
            log.warning("analysis.llm.rejected", error=str(error))
            return heuristic_result(
                commit,
                language,
                "LLM refused the request",
                needs_reanalysis=True,
                redactions=redactions,
            )
        said = answer.analysis
        analysis = combine_evidence(said, commit)
        agreed = checked_by_evidence(said.change_type, analysis)
        agreement = (
            analyzer.label_agreement() if agreed is None else analyzer.record_label_check(agreed)
        )
        if not agreement.trusted:
            analysis = with_heuristic_labels(analysis, commit)
        return AnalysisResult(
            analysis=analysis,
            analyzer="llm",
            source=commit.source,
            coverage=coverage,
            model=answer.model,
            prompt_version=prompt.version,
            tokens_in=answer.tokens_in,
            tokens_out=answer.tokens_out,
            cost_usd=answer.cost_usd,
            redactions=redactions,
            model_said=(answer.analysis.change_type.value, answer.analysis.importance.value),
        )
    log.warning("analysis.llm.gave_up", reason=problem)
    return heuristic_result(commit, language, "LLM output unusable", redactions=redactions)


def heuristic_result(
    commit_input: CommitInput,
    language: str,
    reason: str | None = None,
    needs_reanalysis: bool = False,
    redactions: int = 0,
) -> AnalysisResult:
    return AnalysisResult(
        analysis=heuristic_analysis(commit_input, language),
        analyzer="heuristic",
        source=commit_input.source,
        coverage=Coverage(
            files_analysed=len(commit_input.files),
            files_total=max(commit_input.files_total, len(commit_input.files)),
            lines_analysed=sum(f.changed_lines for f in commit_input.files),
            lines_total=sum(f.changed_lines for f in commit_input.files),
        ),
        fallback_reason=reason,
        needs_reanalysis=needs_reanalysis,
        redactions=redactions,
    )
