"""Parse a GitHub push payload, once, into typed values that own GitHub's quirks.

Nothing downstream touches the raw dict. ``parse_push`` raises ``PayloadError`` (a 400 for the
sender) for anything that is not a push we can understand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from commit_digest.errors import CommitDigestError

ZERO_SHA = "0" * 40
# GitHub truncates `commits` at this many entries; a push that long may be missing some.
PAYLOAD_COMMIT_CAP = 2048
MERGE_QUEUE_PREFIX = "gh-readonly-queue/"
_SHA = re.compile(r"^[0-9a-f]{40}$")
# GitHub's own rules: an owner is 1-39 letters, digits and single inner hyphens (GitHub
# Enterprise also allows _); a repository name is 1-100 of letters, digits, ".", "-", "_",
# but not "." or ".." — so a name can never walk up the API's URL path
_REPO_NAME = re.compile(
    r"^(?=.{1,140}\Z)[A-Za-z0-9_](?:[A-Za-z0-9_]|-(?=[A-Za-z0-9_])){0,38}"
    r"/(?!\.{1,2}\Z)[A-Za-z0-9_.\-]{1,100}\Z"  # \Z: "$" would let a trailing newline in
)


class PayloadError(CommitDigestError):
    """The payload is not a push event commit-digest can read."""


@dataclass(frozen=True)
class RepositoryRef:
    full_name: str
    github_id: int | None
    default_branch: str | None
    html_url: str | None


@dataclass(frozen=True)
class PushCommit:
    sha: str
    message: str
    author_name: str | None
    author_email: str | None
    author_login: str | None
    committed_at: datetime | None
    url: str | None
    added: tuple[str, ...]
    removed: tuple[str, ...]
    modified: tuple[str, ...]

    def files(self) -> dict[str, list[str]]:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "modified": list(self.modified),
        }


@dataclass(frozen=True)
class Push:
    repository: RepositoryRef
    ref: str
    before: str
    after: str
    created: bool
    deleted: bool
    commits: tuple[PushCommit, ...]
    pushed_at: datetime | None
    installation_id: int | None

    @property
    def branch(self) -> str | None:
        """The branch name, or None when the ref is a tag or something else."""
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith("refs/tags/")

    @property
    def is_merge_queue(self) -> bool:
        return (self.branch or "").startswith(MERGE_QUEUE_PREFIX)

    @property
    def is_deletion(self) -> bool:
        return self.deleted or self.after == ZERO_SHA

    @property
    def may_be_incomplete(self) -> bool:
        """Whether `commits` may miss commits that `before..after` holds.

        GitHub sends an empty list for some force pushes and for pushes of existing history,
        and cuts the list at 2048 entries; a compare walk settles what is really new.
        """
        if self.is_deletion or self.before == self.after:
            return False
        if len(self.commits) >= PAYLOAD_COMMIT_CAP:
            return True
        return not self.commits and not self.created


def parse_push(payload: Mapping[str, Any]) -> Push:
    """Read a push payload; raise ``PayloadError`` naming the first field that is wrong."""
    repo = _mapping(payload, "repository")
    full_name = _str(repo, "full_name", "repository.full_name")
    if not _REPO_NAME.match(full_name):
        raise PayloadError(f"repository.full_name {full_name[:100]!r} is not OWNER/NAME")
    repository = RepositoryRef(
        full_name=full_name,
        github_id=_opt_int(repo.get("id")),
        # very old payloads call it master_branch
        default_branch=_opt_str(repo.get("default_branch")) or _opt_str(repo.get("master_branch")),
        html_url=_opt_str(repo.get("html_url")),
    )
    ref = _str(payload, "ref", "ref")
    before = _sha(payload.get("before"), "before")
    after = _sha(payload.get("after"), "after")
    raw_commits = payload.get("commits") or []
    if not isinstance(raw_commits, list):
        raise PayloadError("commits is not a list")
    commits = tuple(_commit(c, i) for i, c in enumerate(raw_commits))
    installation = payload.get("installation")
    return Push(
        repository=repository,
        ref=ref,
        before=before,
        after=after,
        created=payload.get("created") is True,
        deleted=payload.get("deleted") is True,
        commits=commits,
        pushed_at=_timestamp(repo.get("pushed_at")),
        installation_id=_opt_int(installation.get("id"))
        if isinstance(installation, Mapping)
        else None,
    )


def _commit(raw: Any, index: int) -> PushCommit:
    where = f"commits[{index}]"
    if not isinstance(raw, Mapping):
        raise PayloadError(f"{where} is not an object")
    sha = _sha(raw.get("id"), f"{where}.id")
    if sha == ZERO_SHA:
        raise PayloadError(f"{where}.id is all zeros")
    raw_author = raw.get("author")
    author: Mapping[str, Any] = raw_author if isinstance(raw_author, Mapping) else {}
    message = raw.get("message")
    return PushCommit(
        sha=sha,
        message=clean_text(message) if isinstance(message, str) else "",
        author_name=_opt_str(author.get("name")),
        author_email=_opt_str(author.get("email")),
        author_login=_opt_str(author.get("username")),
        committed_at=_timestamp(raw.get("timestamp")),
        url=_opt_str(raw.get("url")),
        added=_paths(raw.get("added")),
        removed=_paths(raw.get("removed")),
        modified=_paths(raw.get("modified")),
    )


# PostgreSQL's text cannot hold NUL, and git can: it is stored as a visible mark instead
NUL_MARK = "\u2400"


_SURROGATE = re.compile(r"[\ud800-\udfff]")
INT64_MAX = 2**63 - 1


def clean_text(value: str) -> str:
    """Text as stored: NUL bytes as ␀ (U+2400), lone surrogates (not UTF-8) as U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", NUL_MARK)
    if _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)
    return value


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise PayloadError(f"{key} is missing or not an object")
    return value


def _str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{where} is missing or not a string")
    return clean_text(value)


def _opt_str(value: Any) -> str | None:
    return clean_text(value) if isinstance(value, str) and value else None


def _opt_int(value: Any) -> int | None:
    """An id as GitHub sends it (a 64-bit integer); anything else is no id."""
    if isinstance(value, int) and not isinstance(value, bool) and -INT64_MAX <= value <= INT64_MAX:
        return value
    return None


def _sha(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _SHA.match(value):
        raise PayloadError(f"{where} is not a 40-character hex sha")
    return value


def _paths(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(clean_text(p) for p in value if isinstance(p, str))


def _timestamp(value: Any) -> datetime | None:
    """GitHub sends epoch seconds (repository.pushed_at) or ISO 8601 (commit timestamps)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
