"""A model's labels decide the commits the evidence leaves open only once it has earned it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from commit_digest.analysis.ask import llm_result
from commit_digest.analysis.evidence import combine_evidence
from commit_digest.analysis.heuristic import heuristic_analysis, with_heuristic_labels
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.llm import OpenAIAnalyzer
from commit_digest.analysis.trust import (
    MIN_CHECKS,
    WINDOW,
    Agreement,
    LabelTrust,
    checked_by_evidence,
)
from commit_digest.config import Settings, load_settings
from commit_digest.runtime import Runtime
from report.schema import ChangeType

from support.llm_api import LLMStandIn
from support.sample_day import analysis as sample_analysis


def one_file_commit(sha: str, message: str, path: str) -> CommitInput:
    return CommitInput(
        repository="octo/trust",
        sha=sha * 40,
        message=message,
        author="Ada",
        files=(FileChange(path, "modified", 3, 1, "@@ -1 +1,3 @@\n-a\n+b\n+c\n+d"),),
        files_total=1,
        source="github",
    )


OPEN_COMMIT = one_file_commit("c", "Make the parser accept tabs", "src/parser.py")
DOCS_COMMIT = one_file_commit("d", "Explain the parser's options", "docs/parser.md")


@pytest.fixture
def llm_api() -> Iterator[LLMStandIn]:
    with LLMStandIn() as server:
        yield server


def settings_for(server: LLMStandIn, env: dict[str, str]) -> Settings:
    return load_settings(
        {**env, "OPENAI_BASE_URL": server.url, "OPENAI_MODEL": "small-model"}, dotenv_path=None
    )


def answer(change_type: str, importance: str) -> dict[str, object]:
    return {
        "change_type": change_type,
        "importance": importance,
        "summary": "The model's own summary.",
        "impact_scope": [],
        "insights": {"architecture": "", "performance": "", "security": "", "compatibility": ""},
        "risks": [],
        "recommendations": [],
        "breaking_change": False,
    }


def test_trust_needs_enough_checks_and_three_in_four_agreeing() -> None:
    """Below MIN_CHECKS nothing is trusted; from there 75 % agreement is."""
    assert not Agreement(MIN_CHECKS - 1, MIN_CHECKS - 1).trusted
    assert Agreement(MIN_CHECKS, MIN_CHECKS * 3 // 4).trusted
    assert not Agreement(MIN_CHECKS, MIN_CHECKS * 3 // 4 - 1).trusted
    assert Agreement(200, 150).trusted


def test_recent_checks_weigh_more_past_the_window() -> None:
    """Past WINDOW checks both counts are halved, so a model's later answers move it."""
    agreement = Agreement(WINDOW, WINDOW // 2)
    assert agreement.after(True) == Agreement((WINDOW + 1) // 2, (WINDOW // 2 + 1) // 2)


def test_only_strong_evidence_checks_the_model() -> None:
    """A commit whose paths settle the type is a check; one the model decided is not."""
    said_docs = sample_analysis("docs", "low", "The model's own summary.")
    said_fix = sample_analysis("bugfix", "high", "The model's own summary.")
    assert checked_by_evidence(ChangeType.DOCS, combine_evidence(said_docs, DOCS_COMMIT)) is True
    assert checked_by_evidence(ChangeType.BUGFIX, combine_evidence(said_fix, DOCS_COMMIT)) is False
    said_feature = sample_analysis("feature", "high", "The model's own summary.")
    settled = combine_evidence(said_feature, OPEN_COMMIT)
    assert settled.decided_by is not None
    assert settled.decided_by.change_type == "model"
    assert checked_by_evidence(ChangeType.FEATURE, settled) is None


def test_heuristic_labels_keep_the_models_text() -> None:
    """An untrusted model's analysis gets the heuristics' labels and keeps what it wrote."""
    said = sample_analysis("feature", "low", "The model's own summary.")
    labelled = with_heuristic_labels(combine_evidence(said, OPEN_COMMIT), OPEN_COMMIT)
    heuristic = heuristic_analysis(OPEN_COMMIT, "en")
    assert (labelled.change_type, labelled.importance, labelled.decided_by) == (
        heuristic.change_type,
        heuristic.importance,
        heuristic.decided_by,
    )
    assert (labelled.summary, labelled.risks) == (said.summary, said.risks)


def test_counts_are_shared_per_server_and_model(redis_url: str, redis_key_prefix: str) -> None:
    """Every worker reads the same counts (Redis); another model starts from nothing; the
    halving in Redis is the one ``Agreement.after`` computes."""
    client = redis.Redis.from_url(redis_url)
    one, other = LabelTrust(client, redis_key_prefix), LabelTrust(client, redis_key_prefix)
    expected = Agreement()
    for n in range(WINDOW + 5):
        agreed = n % 3 != 0
        got = one.record("http://llm:8080/v1/", "qwen", agreed)
        expected = expected.after(agreed)
        assert got == expected
    assert other.agreement("http://llm:8080/v1", "qwen") == expected
    assert other.agreement("http://llm:8080/v1", "llama") == Agreement()
    client.close()


def test_an_untrusted_model_writes_the_text_and_the_evidence_rates_it(
    llm_api: LLMStandIn, env: dict[str, str]
) -> None:
    """A new model's label does not decide an open commit; once it has agreed with the
    evidence on enough commits, it does; a commit the paths settle is counted as a check."""
    settings = settings_for(llm_api, env)
    rt = Runtime.build(settings)
    try:
        llm_api.respond_valid(answer("feature", "low"))
        first = llm_result(rt, OPEN_COMMIT, retries=0, language="en")
        heuristic = heuristic_analysis(OPEN_COMMIT, "en")
        assert first.analyzer == "llm"
        assert first.model_said == ("feature", "low")
        assert (first.analysis.change_type, first.analysis.importance) == (
            heuristic.change_type,
            heuristic.importance,
        )
        assert first.analysis.summary == "The model's own summary."

        llm_api.respond_valid(answer("docs", "low"))
        llm_result(rt, DOCS_COMMIT, retries=0, language="en")
        analyzer = OpenAIAnalyzer(settings)
        assert analyzer.label_agreement() == Agreement(1, 1)

        for _ in range(MIN_CHECKS):
            analyzer.record_label_check(True)
        llm_api.respond_valid(answer("feature", "low"))
        trusted = llm_result(rt, OPEN_COMMIT, retries=0, language="en")
        assert trusted.analysis.change_type is ChangeType.FEATURE
        assert trusted.analysis.decided_by is not None
        assert trusted.analysis.decided_by.change_type == "model"
    finally:
        rt.close()
