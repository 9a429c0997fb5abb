"""Time fitting a ~50 MB commit to the prompt budget (a figure to watch, not a test).

Baseline, in the same run: one pass over every patch of the commit with ``str.count`` (the
least any fitting must do is look at all of it once).
"""

from __future__ import annotations

import random
import time

from benchmarks.outcome import Shown, Spec
from commit_digest.analysis.budget import fit_diff_to_budget
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.tokens import token_counter

TARGET_BYTES = 50 * 1024 * 1024
FILES = 3000  # the most GitHub lists for one commit
BUDGETS = (12_000, 100_000)
_WORDS = (
    "user", "account", "order", "invoice", "total", "amount", "request", "response", "cache",
    "session", "token", "parse", "render", "config", "value", "items", "result", "error",
    "retry", "timeout", "limit", "offset", "page", "query", "index",
)  # fmt: skip
SPEC = Spec(
    name="budget",
    title="Fitting a ~50 MB, 3,000-file commit to the prompt budget",
    baseline="one pass over all the patches with str.count('\\n'), in the same process",
    method=(
        "a synthetic commit of 3,000 files (every 100th a lockfile) whose patches add up to "
        "~55 MB; `fit_diff_to_budget` with the gpt-4o tokenizer (loaded before timing) for "
        f"budgets {', '.join(f'{b:,}' for b in BUDGETS)}; also timed: tokenizing the fitted "
        "text alone"
    ),
    shown=(
        Shown("diff_mb", "size of the diff"),
        *(Shown(f"fit_{b}_seconds", f"fit to {b:,} tokens", "scan_seconds") for b in BUDGETS),
        *(
            Shown(f"tokenize_fitted_{b}_seconds", f"tokenize the fitted text ({b:,})")
            for b in BUDGETS
        ),
        Shown("scan_seconds", "one str.count pass over the diff"),
    ),
)
_DIRECTORIES = ("src/app", "src/app/api", "lib/core", "tests", "docs", "vendor/acme", "web/static")


def _line(rng: random.Random) -> str:
    """Return one plausible line of Python source."""
    a, b, c = rng.choice(_WORDS), rng.choice(_WORDS), rng.choice(_WORDS)
    indent = " " * rng.choice((4, 8, 12))
    return rng.choice(
        (
            f"{indent}{a}_{b} = self.{c}.get({a!r}, {rng.randint(0, 999)})",
            f"{indent}if {a} is not None and len({b}) > {rng.randint(1, 64)}:",
            f"{indent}return {a}_{b}({c}, {b}={a})",
            f"{indent}for {a} in {b}_{c}:",
            f"{indent}# {a} the {b} before the {c} is read",
            f"{indent}raise ValueError(f'{{{a}}} is not a valid {b}')",
        )
    )


def _patch(rng: random.Random, size: int) -> tuple[str, int, int]:
    """Return a unified-diff patch of about ``size`` characters and its +/- counts."""
    hunks: list[str] = []
    additions = deletions = 0
    old = new = 1
    length = 0
    while length < size:
        old += rng.randint(5, 60)
        new = old + additions - deletions
        lines = [" " + _line(rng) for _ in range(3)]
        removed = [f"-{_line(rng)}" for _ in range(rng.randint(0, 12))]
        added = [f"+{_line(rng)}" for _ in range(rng.randint(1, 30))]
        lines += removed + added + [" " + _line(rng) for _ in range(3)]
        header = (
            f"@@ -{old},{6 + len(removed)} +{new},{6 + len(added)} @@ "
            f"def {rng.choice(_WORDS)}_{rng.choice(_WORDS)}(self):"
        )
        hunk = "\n".join([header, *lines])
        hunks.append(hunk)
        length += len(hunk) + 1
        additions += len(added)
        deletions += len(removed)
        old += 6 + len(removed)
    return "\n".join(hunks), additions, deletions


def synthetic_commit(seed: int = 7) -> CommitInput:
    """Return a commit of FILES files whose patches add up to about TARGET_BYTES."""
    rng = random.Random(seed)
    per_file = TARGET_BYTES // FILES
    files: list[FileChange] = []
    for index in range(FILES):
        directory = rng.choice(_DIRECTORIES)
        name = f"{rng.choice(_WORDS)}_{index}.py"
        path = f"{directory}/{'test_' + name if directory == 'tests' else name}"
        if index % 100 == 0:
            path = f"packages/p{index}/package-lock.json"
        patch, additions, deletions = _patch(rng, rng.randint(per_file // 2, per_file * 3 // 2))
        files.append(FileChange(path, "modified", additions, deletions, patch))
    return CommitInput(
        "acme/app",
        "f" * 40,
        "feat: everything at once",
        "Alice",
        tuple(files),
        FILES + 500,
        "github",
    )


def run() -> dict[str, float]:
    """Fit the synthetic commit to each budget and print how long it took."""
    commit = synthetic_commit()
    counter = token_counter("gpt-4o")
    counter.count("warm up")  # loading the encoding is not part of fitting
    megabytes = sum(len(f.patch or "") for f in commit.files) / 1e6
    started = time.perf_counter()
    lines = sum((f.patch or "").count("\n") for f in commit.files)
    figures: dict[str, float] = {
        "diff_mb": megabytes,
        "scan_seconds": time.perf_counter() - started,
    }
    scan_ms = figures["scan_seconds"] * 1000
    print(f"baseline: one str.count pass over {lines:,} lines in {scan_ms:.1f} ms")
    for budget in BUDGETS:
        started = time.perf_counter()
        fitted = fit_diff_to_budget(commit, budget, counter)
        seconds = time.perf_counter() - started
        assert fitted.tokens <= budget
        figures[f"fit_{budget}_seconds"] = seconds
        figures[f"fit_{budget}_tokens"] = fitted.tokens
        started = time.perf_counter()
        counter.count(fitted.text)
        figures[f"tokenize_fitted_{budget}_seconds"] = time.perf_counter() - started
        print(
            f"budget {budget:>7}: {seconds * 1000:7.1f} ms for {megabytes:.1f} MB, "
            f"{fitted.tokens} tokens, files {fitted.files_analysed}/{fitted.files_total}, "
            f"lines {fitted.lines_analysed}/{fitted.lines_total}"
        )
    return figures


if __name__ == "__main__":
    run()
