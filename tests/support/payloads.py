"""Push payloads for cases the captured fixtures do not cover, built on a real captured payload.

Every push starts from ``octokit__push__with-new-branch.json`` (a real delivery) and changes
only the fields the case is about, so the rest of the shape stays GitHub's.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TEMPLATE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "github"
    / "payloads"
    / "octokit__push__with-new-branch.json"
)
ZERO = "0" * 40


def fake_sha(seed: str) -> str:
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()


def commit(
    repo: str,
    seed: str,
    message: str = "feat: add a thing",
    *,
    author: str = "Alice Example",
    login: str | None = "alice",
    timestamp: datetime | None = None,
    added: list[str] | None = None,
    modified: list[str] | None = None,
    removed: list[str] | None = None,
    distinct: bool = True,
) -> dict[str, Any]:
    sha = fake_sha(f"{repo}:{seed}")
    person: dict[str, Any] = {"name": author, "email": f"{login or 'someone'}@example.com"}
    if login:
        person["username"] = login
    return {
        "id": sha,
        "tree_id": fake_sha(f"tree:{sha}"),
        "distinct": distinct,
        "message": message,
        "timestamp": (timestamp or datetime(2026, 2, 3, 8, 0, tzinfo=UTC)).isoformat(),
        "url": f"https://github.com/{repo}/commit/{sha}",
        "author": person,
        "committer": person,
        "added": added if added is not None else ["src/app/feature.py"],
        "removed": removed or [],
        "modified": modified if modified is not None else ["src/app/core.py"],
    }


def push(
    repo: str,
    commits: list[dict[str, Any]],
    *,
    ref: str = "refs/heads/main",
    before: str | None = None,
    after: str | None = None,
    default_branch: str = "main",
    pushed_at: datetime | None = None,
    created: bool = False,
    deleted: bool = False,
    forced: bool = False,
    installation_id: int | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = copy.deepcopy(json.loads(TEMPLATE.read_text()))
    owner, name = repo.split("/")
    payload["ref"] = ref
    payload["before"] = before or fake_sha(f"{repo}:before:{len(commits)}")
    payload["after"] = after or (commits[-1]["id"] if commits else fake_sha(f"{repo}:after"))
    payload["created"] = created
    payload["deleted"] = deleted
    payload["forced"] = forced
    payload["commits"] = commits
    payload["head_commit"] = commits[-1] if commits else None
    repository = payload["repository"]
    repository["full_name"] = repo
    repository["name"] = name
    repository["owner"]["login"] = owner
    repository["owner"]["name"] = owner
    repository["default_branch"] = default_branch
    repository["master_branch"] = default_branch
    repository["html_url"] = f"https://github.com/{repo}"
    repository["pushed_at"] = int((pushed_at or datetime(2026, 2, 3, 8, 5, tzinfo=UTC)).timestamp())
    if installation_id is None:
        payload.pop("installation", None)
    else:
        payload["installation"] = {
            "id": installation_id,
            "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==",
        }
    return payload


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def wsgi_environ(
    body: bytes, signature: str, delivery: str, *, event: str = "push", **extra: str
) -> dict[str, Any]:
    """A signed delivery as gunicorn hands it to the app: a WSGI environ with its body."""
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks/github",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "HTTP_X_GITHUB_EVENT": event,
        "HTTP_X_GITHUB_DELIVERY": delivery,
        "HTTP_X_HUB_SIGNATURE_256": signature,
        **extra,
    }
