"""Fitting a commit's diff to the token budget: noise first out, whole hunks, nothing silent."""

from __future__ import annotations

import re

import pytest

from commit_digest.analysis.budget import BudgetedDiff, fit_diff_to_budget, split_hunks
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.redact import redact_secrets
from commit_digest.analysis.tokens import TokenCounter, token_counter


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    """The counter of the default model."""
    return token_counter("gpt-4o")


def hunk(start: int, added: int, removed: int = 0, name: str = "value") -> str:
    """Return a realistic unified-diff hunk with three context lines on each side."""
    lines = [
        f"@@ -{start},{6 + removed} +{start},{6 + added} @@ def handler_{start}(request):",
        f"     {name} = request.args.get('page', {start})",
        "     if not value:",
        "         raise BadRequest('page')",
        *(f"-    {name}_{start}_{i} = compute_old({i}, limit={start})" for i in range(removed)),
        *(
            f"+    {name}_{start}_{i} = compute_new({i}, limit={start}, retries=3)"
            for i in range(added)
        ),
        "     log.info('handled', page=value)",
        " ",
        "     return render(value)",
    ]
    return "\n".join(lines)


def change(path: str, *hunks: str, status: str = "modified") -> FileChange:
    """Return a file change whose stats agree with its hunks."""
    patch = "\n".join(hunks)
    additions = sum(1 for line in patch.splitlines() if line.startswith("+"))
    deletions = sum(1 for line in patch.splitlines() if line.startswith("-"))
    return FileChange(path, status, additions, deletions, patch)


def commit(*files: FileChange, files_total: int | None = None) -> CommitInput:
    """Return a commit of ``files``."""
    total = len(files) if files_total is None else files_total
    return CommitInput("acme/app", "a" * 40, "feat: paging", "Alice", files, total, "github")


def hunks_in(text: str) -> list[str]:
    """Return the @@ lines of ``text``, in order."""
    return re.findall(r"^@@ .*$", text, re.MULTILINE)


def changed_lines_in(text: str) -> int:
    """Return the +/- lines of ``text``, header lines not counted."""
    lines = text.splitlines()
    return sum(1 for line in lines if line.startswith(("+", "-")) and not line.startswith("--- "))


def test_small_commit_fits_whole(counter: TokenCounter) -> None:
    """A commit under budget is sent whole: each file's header, then its hunks."""
    files = (
        change("src/app.py", hunk(10, added=2, removed=1)),
        FileChange("assets/logo.png", "added", 0, 0, None),
        change("README.md", hunk(1, added=1), status="added"),
    )
    expected_text = (
        "--- src/app.py (modified, +2 -1)\n"
        + hunk(10, added=2, removed=1)
        + "\n--- assets/logo.png (added, +0 -0, no diff)\n"
        + "--- README.md (added, +1 -0)\n"
        + hunk(1, added=1)
        + "\n"
    )
    expected = BudgetedDiff(
        text=expected_text,
        files_analysed=3,
        files_total=3,
        lines_analysed=4,
        lines_total=4,
        omitted=(),
        tokens=counter.count(expected_text),
        diff_paths=("src/app.py", "README.md"),
    )
    assert expected == fit_diff_to_budget(commit(*files), 10_000, counter)


def test_empty_commit(counter: TokenCounter) -> None:
    """A commit without files gives an empty text and zero coverage figures."""
    expected = BudgetedDiff("", 0, 0, 0, 0, (), 0)
    assert expected == fit_diff_to_budget(commit(), 10_000, counter)


@pytest.mark.parametrize("budget", [0, -5, 1, 5])
def test_budget_too_small_for_anything(counter: TokenCounter, budget: int) -> None:
    """A budget too small for one header sends nothing and names every file as left out."""
    files = (change("src/app.py", hunk(1, added=3)), change("src/db.py", hunk(1, added=3)))
    result = fit_diff_to_budget(commit(*files), budget, counter)
    expected = ("", 0, 0, ("src/app.py", "src/db.py"))
    assert expected == (
        result.text,
        result.tokens,
        result.files_analysed,
        result.omitted,
    )


def test_binary_only_commit(counter: TokenCounter) -> None:
    """Binary files are listed by name with their stats, counted analysed, with nothing left out."""
    files = (
        FileChange("assets/logo.png", "added", 0, 0, None),
        FileChange("fonts/inter.woff2", "modified", 0, 0, None),
        FileChange("docs/manual.pdf", "removed", 0, 0, None),
    )
    result = fit_diff_to_budget(commit(*files), 1_000, counter)
    expected_text = (
        "--- assets/logo.png (added, +0 -0, no diff)\n"
        "--- fonts/inter.woff2 (modified, +0 -0, no diff)\n"
        "--- docs/manual.pdf (removed, +0 -0, no diff)\n"
    )
    assert (expected_text, 3, 3, 0, 0, ()) == (
        result.text,
        result.files_analysed,
        result.files_total,
        result.lines_analysed,
        result.lines_total,
        result.omitted,
    )


def test_file_too_large_for_a_patch_is_left_out_by_name(counter: TokenCounter) -> None:
    """A file GitHub sent no patch for, though lines changed, is listed but not analysed."""
    files = (
        change("src/app.py", hunk(1, added=2)),
        FileChange("data/fixtures.sql", "modified", 20_000, 15_000, None),
    )
    result = fit_diff_to_budget(commit(*files), 5_000, counter)
    assert "--- data/fixtures.sql (modified, +20000 -15000, no diff)\n" in result.text
    expected = (1, 2, 2, 35_002, ("data/fixtures.sql",))
    assert expected == (
        result.files_analysed,
        result.lines_analysed,
        result.files_total,
        result.lines_total,
        result.omitted,
    )


def test_delivery_files_without_stats(counter: TokenCounter) -> None:
    """Files the webhook only named are listed by status, with no line figures."""
    files = (FileChange("src/app.py", "modified"), FileChange("src/new.py", "added"))
    result = fit_diff_to_budget(commit(*files), 1_000, counter)
    expected_text = "--- src/app.py (modified, no diff)\n--- src/new.py (added, no diff)\n"
    assert (expected_text, 2, 0, 0, ()) == (
        result.text,
        result.files_analysed,
        result.lines_analysed,
        result.lines_total,
        result.omitted,
    )


def test_renamed_file_header(counter: TokenCounter) -> None:
    """A renamed file's header names the old path."""
    renamed = FileChange("src/paging.py", "renamed", 0, 0, "", previous_path="src/pages.py")
    result = fit_diff_to_budget(commit(renamed), 1_000, counter)
    expected = ("--- src/paging.py (renamed from src/pages.py, +0 -0)\n", 1, ())
    assert expected == (
        result.text,
        result.files_analysed,
        result.omitted,
    )


def test_lockfiles_are_left_out_first_and_named(counter: TokenCounter) -> None:
    """Over budget, lockfile and vendored diffs go before any source line, each named."""
    lock_hunks = [hunk(i * 100, added=40, removed=40, name="resolved") for i in range(1, 30)]
    files = (
        change("package-lock.json", *lock_hunks),
        change("src/app.py", hunk(10, added=5, removed=2)),
        change("vendor/github.com/acme/lib/lib.go", *lock_hunks[:10]),
        change("yarn.lock", *lock_hunks),
    )
    result = fit_diff_to_budget(commit(*files), 1_000, counter)
    assert hunks_in(result.text) == hunks_in(hunk(10, added=5, removed=2))
    assert "[not shown: the diffs of 3 files listed above]\n" in result.text
    assert "--- yarn.lock (modified, +1160 -1160)\n" in result.text
    expected = (("package-lock.json", "vendor/github.com/acme/lib/lib.go", "yarn.lock"), 1, 7)
    assert expected == (result.omitted, result.files_analysed, result.lines_analysed)
    assert result.tokens <= 1_000


@pytest.mark.parametrize(
    ("hunks_that_fit", "kept_paths"),
    [
        (1, ["src/paging.py"]),
        (2, ["src/paging.py", "tests/test_paging.py"]),
        (3, ["docs/paging.md", "src/paging.py", "tests/test_paging.py"]),
    ],
)
def test_source_before_tests_before_docs(
    counter: TokenCounter, hunks_that_fit: int, kept_paths: list[str]
) -> None:
    """With room for fewer hunks than files, source goes in first, then tests, then docs."""
    paths = ["docs/paging.md", "src/paging.py", "tests/test_paging.py"]
    files = tuple(change(path, hunk(10, added=12, name=path.split("/")[0])) for path in paths)
    headers = sum(counter.count(f"--- {path} (modified, +12 -0)\n") for path in paths)
    one_hunk = max(counter.count(hunk(10, added=12, name=p.split("/")[0]) + "\n") for p in paths)
    # room for the headers, the closing line and a little more than the hunks that should fit
    budget = headers + 30 + hunks_that_fit * one_hunk + one_hunk // 2
    result = fit_diff_to_budget(commit(*files), budget, counter)
    kept = [
        path
        for path in paths
        if f"handler_10(request):\n     {path.split('/')[0]} =" in result.text
    ]
    assert kept_paths == kept
    assert result.tokens <= budget


def test_partly_fitting_file_keeps_its_largest_hunks_in_order(counter: TokenCounter) -> None:
    """A file that does not fit keeps the hunks with most changed lines, in the file's order."""
    small, large, medium = hunk(10, added=2), hunk(200, added=30), hunk(400, added=12)
    file = change("src/app.py", small, large, medium)
    header = counter.count("--- src/app.py (modified, +44 -0)\n")
    budget = header + counter.count(large + "\n") + counter.count(medium + "\n") + 40
    result = fit_diff_to_budget(commit(file), budget, counter)
    expected_text = (
        "--- src/app.py (modified, +44 -0)\n" + large + "\n" + medium + "\n[2 of 3 hunks shown]\n"
    )
    assert (expected_text, 1, 42, 44, ("src/app.py",)) == (
        result.text,
        result.files_analysed,
        result.lines_analysed,
        result.lines_total,
        result.omitted,
    )


def test_redacted_file_sent_whole_is_not_reported_short(counter: TokenCounter) -> None:
    """A whole file whose key block redaction shrank to one line still counts all its lines."""
    key_lines = [f"+{'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo' * 2}{i}" for i in range(20)]
    patch = "\n".join(
        [
            "@@ -0,0 +1,22 @@",
            "+-----BEGIN RSA PRIVATE KEY-----",
            *key_lines,
            "+-----END RSA PRIVATE KEY-----",
        ]
    )
    redacted = redact_secrets(patch, path="deploy/id_rsa").text
    file = FileChange("deploy/id_rsa", "added", 22, 0, redacted)
    result = fit_diff_to_budget(commit(file), 1_000, counter)
    expected = (
        "--- deploy/id_rsa (added, +22 -0)\n@@ -0,0 +1,22 @@\n+[REDACTED:private-key]\n",
        1,
        22,
        (),
    )
    assert expected == (result.text, result.files_analysed, result.lines_analysed, result.omitted)


def test_hunks_are_never_split(counter: TokenCounter) -> None:
    """At every budget each hunk is in the text whole or not at all, within the budget."""
    hunks = [hunk(i * 50, added=(i * 7) % 13 + 1, removed=i % 3) for i in range(1, 9)]
    files = (change("src/app.py", *hunks[:5]), change("tests/test_app.py", *hunks[5:]))
    total = counter.count(fit_diff_to_budget(commit(*files), 100_000, counter).text)
    for budget in range(0, total + 20, 9):
        result = fit_diff_to_budget(commit(*files), budget, counter)
        assert result.tokens <= budget
        assert result.tokens == counter.count(result.text)
        for h in hunks:
            header = h.splitlines()[0]
            assert (header in result.text) == (h + "\n" in result.text), (budget, header)


def test_files_github_did_not_list(counter: TokenCounter) -> None:
    """Files beyond the 3000 GitHub lists count in the total and are mentioned, not named."""
    files = (change("src/app.py", hunk(1, added=3)), change("src/db.py", hunk(1, added=2)))
    result = fit_diff_to_budget(commit(*files, files_total=3_002), 10_000, counter)
    assert result.text.endswith("[not shown: 3000 more changed files]\n")
    expected = (2, 3_002, 5, 5, ())
    assert expected == (
        result.files_analysed,
        result.files_total,
        result.lines_analysed,
        result.lines_total,
        result.omitted,
    )


@pytest.mark.parametrize("budget", [300, 4_000, 12_000, 60_000])
def test_huge_commit(counter: TokenCounter, budget: int) -> None:
    """A commit of thousands of hunks stays within budget and reports exactly what it sent."""
    kinds = [
        "src/module_{}.py",
        "tests/test_module_{}.py",
        "docs/module_{}.md",
        "deps/{}/yarn.lock",
    ]
    files = tuple(
        change(
            kinds[i % 4].format(i),
            *(hunk(j * 40, added=(i + j) % 17 + 1, removed=(i * j) % 5) for j in range(i % 7 + 1)),
        )
        for i in range(600)
    )
    result = fit_diff_to_budget(commit(*files, files_total=700), budget, counter)

    assert result.tokens <= budget
    assert result.tokens == counter.count(result.text)
    blocks = re.split(r"^--- (\S+) \(.*\)\n", result.text, flags=re.MULTILINE)
    sent = dict(zip(blocks[1::2], blocks[2::2], strict=True))
    complete = {
        f.path
        for f in files
        if f.path in sent and hunks_in(sent[f.path]) == hunks_in(f.patch or "")
    }
    assert (
        sum(1 for text in sent.values() if hunks_in(text)),
        700,
        changed_lines_in(result.text),
        sum(f.changed_lines for f in files),
        tuple(f.path for f in files if f.path not in complete),
    ) == (
        result.files_analysed,
        result.files_total,
        result.lines_analysed,
        result.lines_total,
        result.omitted,
    )


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ("", []),
        ("@@ -1 +1 @@\n-a\n+b", ["@@ -1 +1 @@\n-a\n+b\n"]),
        (
            "@@ -1 +1 @@\n-a\n+b\n@@ -9 +9 @@\n-c\n+d\n",
            ["@@ -1 +1 @@\n-a\n+b\n", "@@ -9 +9 @@\n-c\n+d\n"],
        ),
        ("Binary files differ", ["Binary files differ\n"]),
        # a content line is never taken for a hunk's start: its first column is +, - or space
        ("@@ -1 +1 @@\n+@@ not a header\n", ["@@ -1 +1 @@\n+@@ not a header\n"]),
    ],
)
def test_split_hunks(patch: str, expected: list[str]) -> None:
    """A patch splits at its @@ lines into hunks that each end with a line break."""
    assert expected == split_hunks(patch)
