"""GitHub behind a small interface: a Protocol, and the PyGithub adapter that maps its errors.

Only plain data crosses the interface (``CommitInput``, ``PushCommit``, ``CommentRef``, ids);
no PyGithub object leaks out. PyGithub's own retrying and throttling are switched off: a rate
limit or an outage becomes ``GitHubRateLimited`` / ``GitHubUnavailable`` at once, and the Celery
task retries with a countdown instead of a worker sleeping, and no POST is ever sent twice.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import requests
import structlog
from github import Auth, Github, GithubException, GithubIntegration
from github.Commit import Commit
from github.File import File
from github.Requester import Requester

from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.config import Settings
from commit_digest.errors import CommitGone, GitHubError, GitHubRateLimited, GitHubUnavailable
from commit_digest.push import PushCommit
from commit_digest.retry import retry_after

TIMEOUT_SECONDS = 15
USER_AGENT = "commit-digest"
FILES_PER_PAGE = 300  # GitHub's maximum page of a commit's files (it lists 3000 at most)
log = structlog.get_logger(__name__)

COMPARE_PER_PAGE = 250  # GitHub's page of a comparison's commits
# the most commits one push is walked for (ten of GitHub's pages): a force push onto an
# unrelated history could otherwise list hundreds of thousands; the rest are logged as skipped
MAX_COMPARE_COMMITS = 2_500
PULLS_PER_PAGE = 30  # the pull requests of one commit asked for
LIST_PER_PAGE = 100  # GitHub's maximum page for commit and comment lists
# GitHub names no wait for a secondary limit without Retry-After, only "at least one minute"
SECONDARY_LIMIT_WAIT = 60.0


@dataclass(frozen=True)
class CommentRef:
    """One comment on a commit, as much of it as commit-digest needs."""

    id: int
    body: str
    user_login: str | None


@dataclass(frozen=True)
class PullRef:
    """The pull request a commit came in through: number, title, link, and whether merged."""

    number: int
    title: str
    url: str
    merged: bool


@dataclass(frozen=True)
class RepoFile:
    """A file of a repository as the contents API gives it: its blob sha and its bytes."""

    sha: str
    content: bytes


class GitHub(Protocol):
    """The GitHub operations commit-digest performs; each failure is one of our error classes."""

    def get_commit(self, repository: str, sha: str) -> CommitInput:
        """Fetch a commit with every changed file GitHub lists; ``CommitGone`` if it is gone."""
        ...

    def compare(self, repository: str, base: str, head: str) -> list[PushCommit]:
        """List the commits of ``base...head``, oldest first; none when head is behind base."""
        ...

    def list_commits(
        self, repository: str, branch: str, since: datetime, until: datetime
    ) -> list[PushCommit]:
        """List the commits reachable from ``branch`` committed between ``since`` and ``until``."""
        ...

    def default_branch(self, repository: str) -> str:
        """Return the repository's default branch."""
        ...

    def list_commit_comments(self, repository: str, sha: str) -> list[CommentRef]:
        """List the comments on a commit, oldest first."""
        ...

    def create_commit_comment(self, repository: str, sha: str, body: str) -> int:
        """Post a comment on a commit and return its id."""
        ...

    def edit_commit_comment(self, repository: str, comment_id: int, body: str) -> None:
        """Replace the body of a commit comment."""
        ...

    def delete_commit_comment(self, repository: str, comment_id: int) -> None:
        """Delete a commit comment."""
        ...

    def collaborator_permission(self, repository: str, login: str) -> str:
        """The user's permission on the repository: admin, write, read or none."""
        ...

    def own_login(self) -> str | None:
        """The login our comments carry (the token's user, the App's bot); None anonymously."""
        ...

    def get_file(self, repository: str, path: str, ref: str) -> RepoFile | None:
        """A file's blob sha and bytes at ``ref``; None when there is no such file."""
        ...

    def react_to_commit_comment(self, repository: str, comment_id: int, content: str) -> None:
        """Add a reaction (``+1``, ``confused``, ``eyes``, …) to a comment on a commit."""
        ...

    def pull_of_commit(self, repository: str, sha: str) -> PullRef | None:
        """The pull request the commit came in through (merged first), or None."""
        ...

    def rate_limit_remaining(self) -> int | None:
        """Return the requests left in the primary rate limit as of the last response, if known."""
        ...


def make_github(
    settings: Settings, installation_id: int | None, *, timeout: int = TIMEOUT_SECONDS
) -> GitHub:
    """Build the GitHub adapter for the configured credentials without making any request."""
    if settings.github_app_id is not None and settings.github_app_private_key:
        return PyGithubClient(
            base_url=settings.github_api_url,
            app_auth=Auth.AppAuth(settings.github_app_id, settings.github_app_private_key),
            installation_id=installation_id,
            timeout=timeout,
        )
    return PyGithubClient(
        base_url=settings.github_api_url, token=settings.github_token, timeout=timeout
    )


class PyGithubClient:
    """The ``GitHub`` interface over PyGithub, with token, GitHub App or anonymous access."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str | None = None,
        app_auth: Auth.AppAuth | None = None,
        installation_id: int | None = None,
        timeout: int = TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._base_url = base_url
        self._token = token
        self._app_auth = app_auth
        self._installation_id = installation_id
        self._timeout = timeout
        self._clock = clock
        self._installations: dict[str, int] = {}
        self._clients: dict[int | None, Github] = {}
        self._last_requester: Requester | None = None
        self._own_login: str | None = None

    # -- the GitHub interface -------------------------------------------------------------

    def get_commit(self, repository: str, sha: str) -> CommitInput:
        gh = self._client_for(repository)
        with self._mapped_errors(f"fetching commit {sha[:12]} of {repository}", commit=True):
            commit = gh.get_repo(repository).get_commit(sha, commit_files_per_page=FILES_PER_PAGE)
            commit.complete()  # page 1 carries the metadata; `files` pages on from its Link header
            files = tuple(_file_change(f) for f in commit.files)
            raw = commit.raw_data
        login = _nested_str(raw, "author", "login")
        return CommitInput(
            repository=repository,
            sha=raw.get("sha") or sha,
            message=_nested_str(raw, "commit", "message") or "",
            author=login or _nested_str(raw, "commit", "author", "name"),
            files=files,
            files_total=_files_total(raw, len(files)),
            source="github",
            committed_at=_iso(_nested_str(raw, "commit", "committer", "date")),
        )

    def compare(self, repository: str, base: str, head: str) -> list[PushCommit]:
        gh = self._client_for(repository)
        with self._mapped_errors(f"comparing {base[:12]}...{head[:12]} of {repository}"):
            comparison = gh.get_repo(repository).compare(
                base, head, comparison_commits_per_page=COMPARE_PER_PAGE
            )
            if comparison.status == "behind":
                return []
            # the oldest first, as GitHub lists them; a walk past the bound stops there
            walked = [
                _push_commit(c) for c in itertools.islice(comparison.commits, MAX_COMPARE_COMMITS)
            ]
            skipped = max(comparison.total_commits - len(walked), 0)
            if skipped:
                log.warning(
                    "github.compare.bounded",
                    repository=repository,
                    walked=len(walked),
                    skipped=skipped,
                    newest_skipped=head[:12],
                )
            return walked

    def list_commits(
        self, repository: str, branch: str, since: datetime, until: datetime
    ) -> list[PushCommit]:
        gh = self._client_for(repository)
        with self._mapped_errors(f"listing commits of {repository}@{branch}"):
            commits = gh.get_repo(repository).get_commits(
                sha=branch, since=_utc(since, "since"), until=_utc(until, "until")
            )
            return [_push_commit(c) for c in commits]

    def default_branch(self, repository: str) -> str:
        gh = self._client_for(repository)
        with self._mapped_errors(f"reading repository {repository}"):
            return gh.get_repo(repository).default_branch

    def list_commit_comments(self, repository: str, sha: str) -> list[CommentRef]:
        gh = self._client_for(repository)
        with self._mapped_errors(f"listing comments on commit {sha[:12]} of {repository}"):
            return [
                CommentRef(id=c.id, body=c.body or "", user_login=c.user.login if c.user else None)
                for c in gh.get_repo(repository).get_commit(sha).get_comments()
            ]

    def create_commit_comment(self, repository: str, sha: str, body: str) -> int:
        gh = self._client_for(repository)
        with self._mapped_errors(f"commenting on commit {sha[:12]} of {repository}"):
            return gh.get_repo(repository).get_commit(sha).create_comment(body).id

    def edit_commit_comment(self, repository: str, comment_id: int, body: str) -> None:
        gh = self._client_for(repository)
        with self._mapped_errors(f"editing comment {comment_id} of {repository}"):
            gh.get_repo(repository).get_comment(comment_id).edit(body)

    def delete_commit_comment(self, repository: str, comment_id: int) -> None:
        gh = self._client_for(repository)
        with self._mapped_errors(f"deleting comment {comment_id} of {repository}"):
            gh.get_repo(repository).get_comment(comment_id).delete()

    def collaborator_permission(self, repository: str, login: str) -> str:
        gh = self._client_for(repository)
        with self._mapped_errors(f"reading the permission of {login} on {repository}"):
            return gh.get_repo(repository).get_collaborator_permission(login)

    def own_login(self) -> str | None:
        if self._own_login is not None:
            return self._own_login
        if self._app_auth is not None:
            integration = GithubIntegration(auth=self._app_auth, **self._options())
            try:
                with self._mapped_errors("reading the GitHub App"):
                    self._own_login = f"{integration.get_app().slug}[bot]"
            finally:
                integration.close()
        elif self._token:
            gh = self._client_for("")
            with self._mapped_errors("reading the token's user"):
                self._own_login = gh.get_user().login
        return self._own_login

    def get_file(self, repository: str, path: str, ref: str) -> RepoFile | None:
        gh = self._client_for(repository)
        try:
            # commit=True: a 404 (no such file or ref) comes out as CommitGone
            with self._mapped_errors(f"reading {path} of {repository}", commit=True):
                found = gh.get_repo(repository).get_contents(path, ref=ref)
        except CommitGone:
            return None
        if isinstance(found, list):  # a directory of that name
            return None
        return RepoFile(sha=found.sha, content=found.decoded_content)

    def react_to_commit_comment(self, repository: str, comment_id: int, content: str) -> None:
        gh = self._client_for(repository)
        with self._mapped_errors(f"reacting to comment {comment_id} of {repository}"):
            gh.get_repo(repository).get_comment(comment_id).create_reaction(content)

    def pull_of_commit(self, repository: str, sha: str) -> PullRef | None:
        gh = self._client_for(repository)
        with self._mapped_errors(f"listing the pull requests of {sha[:12]} in {repository}"):
            # one page is plenty: a commit is in more than PULLS_PER_PAGE pull requests only on
            # a long-lived branch merged again and again, and the merged one comes first
            _, pulls = gh.requester.requestJsonAndCheck(
                "GET",
                f"/repos/{repository}/commits/{sha}/pulls",
                parameters={"per_page": PULLS_PER_PAGE},
            )
        return chosen_pull(pulls if isinstance(pulls, list) else [], sha)

    def rate_limit_remaining(self) -> int | None:
        if self._last_requester is None:
            return None
        remaining, limit = self._last_requester.rate_limiting
        return remaining if limit >= 0 and remaining >= 0 else None

    def close(self) -> None:
        """Close the HTTP connections of every client this adapter opened."""
        for gh in self._clients.values():
            gh.close()
        self._clients.clear()

    # -- clients and credentials -----------------------------------------------------------

    def _options(self) -> dict[str, Any]:
        return {
            "base_url": self._base_url,
            "timeout": self._timeout,
            "user_agent": USER_AGENT,
            "per_page": LIST_PER_PAGE,
            # None: no urllib3 retries at all. PyGithub's default GithubRetry sleeps in the
            # process until a rate limit resets and retries POSTs; Celery retries instead.
            "retry": None,
            # no client-side pacing either: it sleeps in the worker between requests
            "seconds_between_requests": None,
            "seconds_between_writes": None,
            # objects are built from URLs without a request; we fetch exactly what we read
            "lazy": True,
        }

    def _client_for(self, repository: str) -> Github:
        if self._app_auth is None:
            key = None
            if key not in self._clients:
                auth = Auth.Token(self._token) if self._token else None
                self._clients[key] = Github(auth=auth, **self._options())
        else:
            key = self._installation_for(self._app_auth, repository)
            if key not in self._clients:
                installation = self._app_auth.get_installation_auth(key)
                gh = Github(auth=installation, **self._options())
                # fetch the installation token now, so a refusal is reported as such and not
                # mistaken for a missing commit by the request that would otherwise fetch it
                with self._mapped_errors(f"getting a token for GitHub App installation {key}"):
                    installation.token  # noqa: B018 - the property requests the token
                self._clients[key] = gh
        gh = self._clients[key]
        self._last_requester = gh.requester
        return gh

    def _installation_for(self, app_auth: Auth.AppAuth, repository: str) -> int:
        if self._installation_id is not None:
            return self._installation_id
        if repository not in self._installations:
            owner, _, name = repository.partition("/")
            integration = GithubIntegration(auth=app_auth, **self._options())
            try:
                with self._mapped_errors(f"looking up the GitHub App installation of {repository}"):
                    self._installations[repository] = integration.get_repo_installation(
                        owner, name
                    ).id
            finally:
                integration.close()
        return self._installations[repository]

    def _hint(self, status: int) -> str | None:
        """Return what the user should change after a 401, 403 or 404, or None."""
        if status not in (401, 403, 404):
            return None
        if self._app_auth is not None:
            return {
                401: "check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY",
                403: "grant the GitHub App the Contents permission (write, for comments)",
                404: "install the GitHub App on the repository",
            }[status]
        if self._token:
            return {
                401: "check GITHUB_TOKEN (expired, revoked or mistyped?)",
                403: "give GITHUB_TOKEN access to the repository (contents: read and write)",
                404: "check the repository name and that GITHUB_TOKEN can see it",
            }[status]
        return "set GITHUB_TOKEN or GitHub App credentials to reach private repositories"

    # -- error mapping ---------------------------------------------------------------------

    @contextmanager
    def _mapped_errors(self, action: str, *, commit: bool = False) -> Iterator[None]:
        """Turn PyGithub and transport errors raised inside into ``commit_digest.errors`` classes.

        With ``commit``, a 404 or 422 means the commit is gone (GitHub answers 422 for an
        unknown sha).
        """
        try:
            yield
        except GithubException as exc:
            raise self._mapped(exc, action, commit) from exc
        except requests.exceptions.RequestException as exc:
            # the message names the failure class only: request URLs and headers stay out
            raise GitHubUnavailable(
                f"GitHub could not be reached while {action}: {type(exc).__name__}"
            ) from exc

    def _mapped(self, exc: GithubException, action: str, commit: bool) -> Exception:
        status = exc.status
        message = _github_message(exc.data)
        wait = self._rate_limit_wait(status, exc.headers or {}, message)
        if wait is not None:
            return GitHubRateLimited(wait, f"GitHub rate limit hit while {action}")
        if commit and status in (404, 422):
            return CommitGone(f"GitHub answered {status} while {action}: {message or 'not found'}")
        if status >= 500:
            return GitHubUnavailable(f"GitHub answered {status} while {action}")
        text = f"GitHub answered {status} while {action}"
        if message:
            text += f": {message}"
        hint = self._hint(status)
        return GitHubError(f"{text}; {hint}" if hint else text)

    def _rate_limit_wait(
        self, status: int, headers: Mapping[str, Any], message: str
    ) -> float | None:
        """Return the seconds to wait when a 403/429 is a primary or secondary rate limit."""
        if status not in (403, 429):
            return None
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        asked = retry_after(lowered, self._clock())
        if asked is not None:
            return max(asked, 1.0)
        if lowered.get("x-ratelimit-remaining", "").strip() == "0":
            try:
                reset = float(lowered["x-ratelimit-reset"])
            except (KeyError, ValueError):
                return SECONDARY_LIMIT_WAIT
            return max(reset - self._clock(), 1.0)
        if (
            status == 429
            or "secondary rate limit" in message.lower()
            or Requester.isRateLimitError(message)
        ):
            return SECONDARY_LIMIT_WAIT
        return None


def chosen_pull(pulls: list[Any], sha: str) -> PullRef | None:
    """The pull request a commit came in through, from GitHub's commit → pulls answer.

    The one whose merge (or squash) commit it is, else the earliest merged one, else the
    lowest-numbered open one; None when it came in through none.
    """
    found = [p for p in pulls if isinstance(p, Mapping) and isinstance(p.get("number"), int)]
    if not found:
        return None

    def rank(p: Mapping[str, Any]) -> tuple[int, int, str, int]:
        merged_at = str(p.get("merged_at") or "")
        return (
            0 if p.get("merge_commit_sha") == sha and merged_at else 1,
            0 if merged_at else 1,
            merged_at,
            int(p["number"]),
        )

    best = min(found, key=rank)
    return PullRef(
        number=int(best["number"]),
        title=str(best.get("title") or ""),
        url=str(best.get("html_url") or ""),
        merged=bool(best.get("merged_at")),
    )


def _file_change(f: File) -> FileChange:
    return FileChange(
        path=f.filename,
        status=f.status,
        additions=f.additions,
        deletions=f.deletions,
        # GitHub leaves `patch` out for binary files and diffs too large to show
        patch=f.patch or None,
        previous_path=f.previous_filename or None,
    )


def _files_total(raw: Mapping[str, Any], listed: int) -> int:
    # GitHub lists 3000 files at most; a total beyond that is used when the response carries one
    # (PyGithub reads it as `total_files`)
    reported = raw.get("total_files")
    if isinstance(reported, int) and not isinstance(reported, bool):
        return max(reported, listed)
    return listed


def _push_commit(c: Commit) -> PushCommit:
    # attributes only: list items are not "completed", and raw_data would fetch each commit
    git = c.commit
    author = git.author
    committer = git.committer
    user = c.author
    return PushCommit(
        sha=c.sha,
        message=git.message or "",
        author_name=author.name if author else None,
        author_email=author.email if author else None,
        author_login=user.login if user else None,
        committed_at=_aware(committer.date if committer else None),
        url=c.html_url,
        added=(),
        removed=(),
        modified=(),
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _utc(value: datetime, name: str) -> datetime:
    # PyGithub formats the fields as they are and appends "Z"; a naive time would be misread
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _nested_str(data: Mapping[str, Any], *keys: str) -> str | None:
    value: Any = data
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value if isinstance(value, str) and value else None


def _github_message(data: Any) -> str:
    """Return GitHub's error message on one short line, or an empty string."""
    message = data.get("message") if isinstance(data, Mapping) else None
    if not isinstance(message, str):
        return ""
    return " ".join(message.split())[:200]


def _iso(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp as GitHub writes it (``2026-02-03T07:25:14Z``), made aware."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
