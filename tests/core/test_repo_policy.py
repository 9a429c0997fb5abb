"""A repository's .commit-digest.toml read through the API: cached by blob, last good kept."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from commit_digest.config import load_settings
from commit_digest.db import upgrade
from commit_digest.models import Repository
from commit_digest.repo_policy import policy_for
from commit_digest.runtime import Runtime

from conftest import GITHUB_TOKEN

GOOD = b"""
language = "en"
[comments]
min_importance = "medium"
[ignore]
paths = ["customers/**"]
"""


@pytest.fixture
def setup(env: dict[str, str], github_api: Any, tmp_path: Path) -> Iterator[tuple[Runtime, str]]:
    upgrade(env["DATABASE_URL"])
    repo = f"acme/cfg-{uuid.uuid4().hex[:8]}"
    github_api.add_repo(repo, default_branch="main")
    config = tmp_path / "site.toml"
    config.write_text('allowed_recipient_domains = ["example.com"]\n[[teams]]\nname = "payments"\n')
    rt = Runtime.build(
        load_settings(
            {
                **env,
                "GITHUB_API_URL": github_api.url,
                "GITHUB_TOKEN": GITHUB_TOKEN,
                "COMMIT_COMMENTS": "on",
                "REPORT_LANGUAGE": "zh-CN",
                "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
                "CONFIG_FILE": str(config),
            }
        )
    )
    with rt.session() as session:
        session.add(Repository(full_name=repo, default_branch="main", created_at=datetime.now(UTC)))
    yield rt, repo
    github_api.clear_faults()
    rt.close()


def contents_reads(github_api: Any, repo: str) -> int:
    return sum(1 for r in github_api.requests if r.path.startswith(f"/repos/{repo}/contents/"))


def test_no_file_means_defaults_and_is_not_asked_again_at_once(
    setup: tuple[Runtime, str], github_api: Any
) -> None:
    """Without a file the environment rules; the answer is cached until the next recheck."""
    rt, repo = setup
    first = policy_for(rt, repo, installation_id=None)
    second = policy_for(rt, repo, installation_id=None)
    assert (first.language, first.comment_min_importance) == ("zh-CN", "low")
    assert second == first
    assert contents_reads(github_api, repo) == 1


def test_a_valid_file_rules_and_a_change_is_read_at_once(
    setup: tuple[Runtime, str], github_api: Any
) -> None:
    """The file's settings apply; a commit touching it makes it read again, by blob sha."""
    rt, repo = setup
    github_api.set_file(repo, ".commit-digest.toml", GOOD)
    policy = policy_for(rt, repo, installation_id=None)
    assert policy.language == "en"
    assert policy.is_ignored("customers/acme.csv")
    assert not policy.wants_comment("low")
    github_api.set_file(repo, ".commit-digest.toml", GOOD.replace(b'"en"', b'"zh-CN"'))
    assert policy_for(rt, repo, installation_id=None).language == "en"  # cached: not due yet
    changed = policy_for(rt, repo, installation_id=None, commit_sha="a" * 40, changed=True)
    assert changed.language == "zh-CN"


@pytest.mark.parametrize(
    "bad",
    [
        b'[llm]\nbase_url = "https://exfiltrate.example/v1"\n',
        b'openai_api_key = "sk-mine"\n',
        b'[smtp]\nurl = "smtp://relay.evil.example"\n',
        b'recipients = ["spy@evil.example"]\n',
        b'team = "nobody"\n',
        b"language = [",
    ],
)
def test_an_invalid_file_keeps_the_last_good_settings_and_is_reported_once(
    setup: tuple[Runtime, str], github_api: Any, bad: bytes
) -> None:
    """A file that tries to redirect code or reports, or is broken, changes nothing; one comment."""
    rt, repo = setup
    github_api.set_file(repo, ".commit-digest.toml", GOOD)
    policy_for(rt, repo, installation_id=None)
    sha = github_api.add_commit(repo, message="chore: settings", files=[])
    github_api.set_file(repo, ".commit-digest.toml", bad)
    after = policy_for(rt, repo, installation_id=None, commit_sha=sha, changed=True)
    again = policy_for(rt, repo, installation_id=None, commit_sha=sha, changed=True)
    assert after.language == "en"  # the last good file is still in force
    assert again == after
    assert rt.settings.openai_base_url == "http://127.0.0.1:9/v1"
    assert "spy@evil.example" not in after.recipients
    [report] = github_api.comments(repo, sha)
    assert "could not use `.commit-digest.toml`" in report["body"]
    assert "<!-- commit-digest:settings:" in report["body"]


def test_github_down_keeps_the_cached_settings(setup: tuple[Runtime, str], github_api: Any) -> None:
    """When GitHub cannot be read, the analysis goes on with the settings already known."""
    rt, repo = setup
    github_api.set_file(repo, ".commit-digest.toml", GOOD)
    assert policy_for(rt, repo, installation_id=None).language == "en"
    github_api.fail("GET", rf"/repos/{repo}/contents/.*", 503, times=5)
    assert policy_for(rt, repo, installation_id=None, changed=True).language == "en"
