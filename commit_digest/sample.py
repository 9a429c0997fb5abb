"""A sample signed push, so ``commit-digest run`` can show the whole flow with one ``curl``."""

from __future__ import annotations

import hashlib
import json
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

from commit_digest.signature import sign

SAMPLE_REPOSITORY = "commit-digest/sample"
_COMMITS = (
    (
        "feat(api): add pagination to the commits endpoint",
        "Alice Zhang",
        "alice",
        {
            "added": ["src/api/pagination.py"],
            "modified": ["src/api/commits.py", "tests/test_commits.py"],
        },
    ),
    (
        "fix: keep the session open while streaming results",
        "Bob Li",
        "bob",
        {"added": [], "modified": ["src/db/session.py"]},
    ),
    (
        "docs: explain the webhook secret rotation",
        "Carol Wang",
        "carol",
        {"added": [], "modified": ["docs/webhooks.md", "README.md"]},
    ),
)


def sample_push(now: datetime) -> dict[str, object]:
    """A push of three commits to the default branch of a sample repository, landing ``now``."""
    commits = []
    for index, (message, name, login, files) in enumerate(_COMMITS):
        sha = hashlib.sha1(
            f"{SAMPLE_REPOSITORY}:{now.date()}:{index}".encode(), usedforsecurity=False
        ).hexdigest()
        commits.append(
            {
                "id": sha,
                "tree_id": hashlib.sha1(sha.encode(), usedforsecurity=False).hexdigest(),
                "distinct": True,
                "message": message,
                "timestamp": (now - timedelta(minutes=10 * (len(_COMMITS) - index))).isoformat(
                    timespec="seconds"
                ),
                "url": f"https://github.com/{SAMPLE_REPOSITORY}/commit/{sha}",
                "author": {"name": name, "email": f"{login}@example.com", "username": login},
                "committer": {"name": name, "email": f"{login}@example.com", "username": login},
                "added": files["added"],
                "removed": [],
                "modified": files["modified"],
            }
        )
    return {
        "ref": "refs/heads/main",
        "before": "1" * 40,
        "after": commits[-1]["id"],
        "created": False,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": f"https://github.com/{SAMPLE_REPOSITORY}/compare/1111111...{str(commits[-1]['id'])[:7]}",
        "commits": commits,
        "head_commit": commits[-1],
        "repository": {
            "id": 1,
            "name": "sample",
            "full_name": SAMPLE_REPOSITORY,
            "private": False,
            "html_url": f"https://github.com/{SAMPLE_REPOSITORY}",
            "default_branch": "main",
            "pushed_at": int(now.timestamp()),
        },
        "pusher": {"name": "alice", "email": "alice@example.com"},
        "sender": {"login": "alice", "id": 1, "type": "User"},
    }


def write_sample(directory: Path, secret: str, url: str) -> str:
    """Write the sample payload under ``directory``; return a ready-to-paste curl command."""
    body = json.dumps(sample_push(datetime.now(UTC)), indent=2).encode()
    path = directory / "sample-push.json"
    path.write_bytes(body)
    return (
        f"curl -sS -X POST {shlex.quote(url)} -H 'Content-Type: application/json' "
        "-H 'X-GitHub-Event: push' -H \"X-GitHub-Delivery: sample-$(date +%s%N)\" "
        f"-H 'X-Hub-Signature-256: {sign(body, secret)}' --data-binary @{shlex.quote(str(path))}"
    )
