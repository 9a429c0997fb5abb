"""The whole prompt — system text, instructions, metadata, message, file list, diff — fits."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commit_digest.analysis.budget import BudgetedDiff, cut_message, fit_diff_to_budget
from commit_digest.analysis.fit import coverage_line
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.prompts import FittedPrompt, fit_prompt, prompt_tokens
from commit_digest.analysis.tokens import token_counter

COUNTER = token_counter("gpt-4o-mini")


def fit(commit: CommitInput, budget: int, language: str = "en") -> FittedPrompt:
    def fit_diff(current: CommitInput, room: int) -> tuple[BudgetedDiff, CommitInput]:
        return fit_diff_to_budget(current, room, COUNTER), current

    return fit_prompt(
        commit,
        budget,
        COUNTER,
        language,
        fit_diff=fit_diff,
        describe=lambda coverage: coverage_line(coverage, language),
    )


def commit(message: str, files: list[FileChange], files_total: int = 0) -> CommitInput:
    return CommitInput(
        "acme/app", "c" * 40, message, "Ann", tuple(files), max(files_total, len(files)), "github"
    )


def patch(lines: int, width: int = 40) -> str:
    body = "".join(f"+value_{i} = {'x' * width}\n" for i in range(lines))
    return f"@@ -0,0 +1,{lines} @@\n{body}"


lines = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
paths = st.from_regex(r"[a-z]{1,8}(/[a-z]{1,8}){0,4}\.(py|md|go|yml|lock|png)", fullmatch=True)
changes = st.builds(
    FileChange,
    path=paths,
    status=st.sampled_from(["added", "modified", "removed"]),
    additions=st.integers(0, 5000),
    deletions=st.integers(0, 5000),
    patch=st.one_of(st.none(), st.integers(1, 60).map(patch)),
)


# Budgets from what the fixed part (system message, schema, instructions) leaves room in.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    message=st.lists(lines, max_size=40).map("\n".join),
    files=st.lists(changes, max_size=30),
    extra_files=st.integers(0, 3000),
    budget=st.integers(3000, 16000),
    language=st.sampled_from(["en", "zh-CN"]),
)
def test_no_prompt_is_over_budget(
    message: str, files: list[FileChange], extra_files: int, budget: int, language: str
) -> None:
    """Whatever the message, file list and diff, the counted prompt is within the budget."""
    fitted = fit(commit(message, files, len(files) + extra_files), budget, language)

    assert fitted.tokens <= budget
    assert prompt_tokens(fitted.prompt, COUNTER) == fitted.tokens


@pytest.mark.heavy
def test_a_megabyte_message_is_cut_with_a_visible_mark() -> None:
    """A pasted 1 MB log is cut to its share, with the count of lines left out."""
    log = "\n".join(
        f"2026-02-03 12:00:{i % 60:02d} worker {i} retrying request" for i in range(20_000)
    )
    fitted = fit(
        commit(f"fix: retry\n\n{log}", [FileChange("src/a.py", "modified", 1, 0, patch(1))]), 2800
    )

    assert fitted.tokens <= 3000
    assert "more lines of the message" in fitted.prompt.user
    assert any(note.startswith("message: ") for note in fitted.coverage.omitted)


@pytest.mark.heavy
def test_three_thousand_files_are_summarised_by_directory() -> None:
    """A 3,000-file list becomes one line per directory, and the coverage says so."""
    files = [
        FileChange(f"src/pkg{n % 12}/module_{n}.py", "modified", 10, 2, patch(3))
        for n in range(3000)
    ]
    fitted = fit(commit("refactor: rename everything", files), 3000)

    assert fitted.tokens <= 3000
    assert "src/pkg0/: 250 files (+2,500 −500)" in fitted.prompt.user
    assert "file list: 3,000 files summarised by directory" in fitted.coverage.omitted


@pytest.mark.heavy
def test_one_fifty_megabyte_file_fits() -> None:
    """One file with a 50 MB diff costs the budget, not the file, and fits."""
    hunk = patch(200, width=120)
    huge = hunk * (50_000_000 // len(hunk))
    fitted = fit(commit("feat: data", [FileChange("src/data.py", "added", 400_000, 0, huge)]), 4000)

    assert fitted.tokens <= 4000


@pytest.mark.parametrize(
    ("language", "mark"),
    [("en", "… 2,950 more lines of the message"), ("zh-CN", "……提交信息还有 2,950 行未展示")],
)
def test_message_cut_mark_counts_the_lines_left_out(language: str, mark: str) -> None:
    """Fifty lines fit, and the mark says how many of the 3,000 did not."""
    message = "\n".join("word" for _ in range(3000))
    one = COUNTER.count("word\n")
    mark_cost = COUNTER.count(mark)

    cut = cut_message(message, 50 * one + mark_cost + 1, COUNTER, language)

    assert (cut.lines_left_out, cut.text.splitlines()[-1]) == (2950, mark)
