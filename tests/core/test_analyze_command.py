"""`commit-digest analyze OWNER/NAME SHA`: one commit analysed in-process and printed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from commit_digest.cli import main

from support.stack import LiveStack


def test_analyze_prints_the_analysis(
    live: LiveStack, unique_repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit never seen by webhook is fetched, analysed by the LLM and printed."""
    sha = live.github.add_commit(
        unique_repo,
        message="perf: cache the parsed config",
        files=[
            {
                "filename": "src/config.py",
                "status": "modified",
                "additions": 3,
                "deletions": 1,
                "patch": "@@ -1 +1,3 @@\n-a\n+b\n+c\n+d",
            }
        ],
    )
    for name, value in live.env.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    printed = runner.invoke(main, ["analyze", unique_repo, sha])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout.startswith(f"{unique_repo}@{sha[:12]} — perf: cache the parsed config\n")
    assert "<!-- commit-digest" not in printed.stdout
    as_json = runner.invoke(main, ["analyze", unique_repo, sha, "--json"])
    data = json.loads(as_json.stdout)
    assert (data["sha"], data["status"], data["analyzer"], data["analysis"]["change_type"]) == (
        sha,
        "analysed",
        "llm",
        "performance",
    )
    assert data["usage"]["tokens_in"] > 0
    assert len(live.llm.requests) == 1  # the second call printed the stored analysis


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "no-slash", "a" * 40], "is not OWNER/NAME"),
        (["analyze", "acme/app", "xyz"], "is not a commit sha"),
    ],
)
def test_analyze_rejects_bad_arguments(args: list[str], message: str) -> None:
    """Bad arguments are one line of error."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_analyze_prints_no_terminal_escapes(
    live: LiveStack, unique_repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Escape sequences in a commit message do not reach the printed analysis."""
    sha = live.github.add_commit(
        unique_repo,
        message="fix: \x1b]0;owned\x07title \x1b[2Jcleared\r",
        files=[
            {
                "filename": "a.py",
                "status": "modified",
                "additions": 1,
                "deletions": 0,
                "patch": "@@ -1 +1 @@\n+b",
            }
        ],
    )
    for name, value in live.env.items():
        monkeypatch.setenv(name, value)
    printed = CliRunner().invoke(main, ["analyze", unique_repo, sha])
    assert (printed.exit_code, "\x1b" in printed.stdout, "\r" in printed.stdout) == (
        0,
        False,
        False,
    )
