"""A stand-in GitHub REST API: a real HTTP server on 127.0.0.1 that real PyGithub talks to.

Bodies follow GitHub's wire format (modelled on the captured responses in
``/work/shared/fixtures/github/``): ``Link`` headers with ``rel="next"``/``rel="last"`` for
pagination, rate-limit headers on every response, ``token``/``Bearer`` authorization with
GitHub App JWTs verified against the App's public key. The test process programs it in
process; other processes (a Celery worker) reach it over HTTP, so all state lives here.

Served (each also under the Enterprise prefix ``/api/v3``):

- ``GET /repos/{o}/{r}``, ``GET /repos/{o}/{r}/commits/{ref}`` (files 300 a page, 3000 at most),
  ``GET /repos/{o}/{r}/commits?sha=&since=&until=``, ``GET /repos/{o}/{r}/compare/{b}...{h}``
- ``GET /repos/{o}/{r}/commits/{sha}/pulls`` (the pull requests of ``add_pull``)
- commit comments: ``GET``/``POST /repos/{o}/{r}/commits/{sha}/comments``,
  ``GET``/``PATCH``/``DELETE /repos/{o}/{r}/comments/{id}``
- GitHub Apps: ``POST /app/installations/{id}/access_tokens``, ``GET /repos/{o}/{r}/installation``
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization

ENTERPRISE_PREFIX = "/api/v3"
FILES_PAGE = 300
FILES_CAP = 3000
PRIMARY_LIMIT_MESSAGE = "API rate limit exceeded for installation ID 1."
SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID."
)
DOCS = "https://docs.github.com/rest"
_EPOCH = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stand-in received."""

    method: str
    path: str  # without the Enterprise prefix and without the query string
    prefix: str  # "" or "/api/v3"
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: Any  # the JSON body, or None

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    times: int
    status: int | None = None  # None: answer normally (after the delay)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    drop: bool = False  # close the connection without answering


@dataclass
class _Commit:
    repo: str
    sha: str
    message: str
    author_login: str | None
    author_name: str
    author_email: str
    date: datetime
    parents: list[str]
    files: list[dict[str, Any]]
    total_files: int | None
    seq: int


@dataclass
class _Repo:
    full_name: str
    id: int
    default_branch: str
    private: bool
    installation_id: int | None
    branches: dict[str, str] = field(default_factory=dict)  # branch -> head sha


@dataclass
class _App:
    app_id: int
    public_key: Any
    slug: str


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class _Identity:
    kind: str  # anonymous, token, installation, app
    key: str  # what the rate limit is counted against
    login: str | None
    installation_id: int | None = None


class GitHubApiStandIn:
    """A programmable GitHub REST server; use ``with GitHubApiStandIn() as api: api.url``."""

    def __init__(self, *, tokens: Mapping[str, str] | None = None) -> None:
        """Accept ``tokens`` (token -> login of its user) as personal access tokens."""
        self._lock = threading.RLock()
        self._tokens: dict[str, str] = dict(tokens or {})
        self._installation_tokens: dict[str, tuple[int, datetime]] = {}
        self._installations: dict[int, int] = {}  # installation id -> app id
        self._apps: dict[int, _App] = {}
        self._repos: dict[str, _Repo] = {}
        self._commits: dict[tuple[str, str], _Commit] = {}
        self._comments: dict[int, dict[str, Any]] = {}
        self._permissions: dict[tuple[str, str], str] = {}  # (repo, login) -> permission
        self._files: dict[tuple[str, str, str], bytes] = {}  # (repo, ref, path) -> content
        self._pulls: dict[str, list[dict[str, Any]]] = {}  # repo -> pull requests
        self.reactions: list[tuple[str, int, str]] = []  # (repo, comment id, content)
        self._faults: list[_Fault] = []
        self._used: dict[str, int] = {}
        self._seq = itertools.count(1)
        self._comment_ids = itertools.count(1_361_949)
        self._reset_at = int(time.time()) + 3600
        self.requests: list[RecordedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> GitHubApiStandIn:
        """Listen on a free port of 127.0.0.1 in a daemon thread."""
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            # a short poll keeps stop() quick: shutdown() waits for the loop's next poll
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="github-api-stand-in",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; connections still open die with their daemon threads."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> GitHubApiStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to use as ``GITHUB_API_URL`` (github.com style, no path)."""
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def enterprise_url(self) -> str:
        """The base URL of the same server in GitHub Enterprise style (``…/api/v3``)."""
        return self.url + ENTERPRISE_PREFIX

    # -- programming -----------------------------------------------------------------------

    def add_token(self, token: str, login: str = "octocat") -> None:
        """Accept ``token`` as a personal access token of user ``login``."""
        with self._lock:
            self._tokens[token] = login

    def add_app(
        self, app_id: int, public_key_pem: str | bytes, slug: str = "commit-digest"
    ) -> None:
        """Register a GitHub App whose JWTs verify with ``public_key_pem``."""
        pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
        with self._lock:
            self._apps[app_id] = _App(app_id, serialization.load_pem_public_key(pem), slug)

    def add_installation(self, installation_id: int, app_id: int) -> None:
        """Install App ``app_id`` as ``installation_id`` (repositories join it via ``add_repo``)."""
        with self._lock:
            self._installations[installation_id] = app_id

    def add_repo(
        self,
        repo: str,
        *,
        default_branch: str = "main",
        private: bool = False,
        installation_id: int | None = None,
    ) -> None:
        """Create (or reconfigure) repository ``owner/name``."""
        with self._lock:
            existing = self._repos.get(repo)
            self._repos[repo] = _Repo(
                full_name=repo,
                id=existing.id if existing else 100_000 + len(self._repos),
                default_branch=default_branch,
                private=private,
                installation_id=installation_id,
                branches=existing.branches if existing else {},
            )

    def add_commit(
        self,
        repo: str,
        sha: str | None = None,
        *,
        message: str = "Change things",
        files: Sequence[Mapping[str, Any]] = (),
        author: str | None = "octocat",
        author_name: str = "The Octocat",
        author_email: str = "octocat@github.com",
        date: datetime | None = None,
        parents: Sequence[str] | None = None,
        branch: str | None = "main",
        total_files: int | None = None,
    ) -> str:
        """Add a commit on top of ``branch`` (created if new) and return its sha.

        ``files`` items hold ``filename``, ``status``, ``additions``, ``deletions`` and optionally
        ``patch`` (leave it out for a binary file) and ``previous_filename``. ``parents`` defaults
        to the branch head. ``total_files`` is reported as ``total_files`` when set.
        """
        with self._lock:
            if repo not in self._repos:
                self.add_repo(repo)
            seq = next(self._seq)
            if sha is None:
                seed = f"{repo}:{seq}:{message}".encode()
                sha = hashlib.sha1(seed, usedforsecurity=False).hexdigest()
            head = self._repos[repo].branches.get(branch) if branch else None
            commit = _Commit(
                repo=repo,
                sha=sha,
                message=message,
                author_login=author,
                author_name=author_name,
                author_email=author_email,
                date=date or _EPOCH + timedelta(minutes=seq),
                parents=list(parents) if parents is not None else ([head] if head else []),
                files=[_file_json(repo, sha, f) for f in files],
                total_files=total_files,
                seq=seq,
            )
            self._commits[(repo, sha)] = commit
            if branch:
                self._repos[repo].branches[branch] = sha
            return sha

    def set_branch(self, repo: str, branch: str, sha: str) -> None:
        """Point ``branch`` at ``sha`` (a force push)."""
        with self._lock:
            self._repos[repo].branches[branch] = sha

    def branch_head(self, repo: str, branch: str) -> str:
        """Return the sha ``branch`` points at."""
        with self._lock:
            return self._repos[repo].branches[branch]

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (after ``delay`` s).

        ``path_regex`` is searched in the path without the Enterprise prefix and query string.
        ``headers`` override the usual rate-limit headers; ``body`` defaults to GitHub's error
        shape, ``{"message": …, "documentation_url": …}``.
        """
        if body is None:
            body = {"message": HTTPStatus(status).phrase, "documentation_url": DOCS}
        fault = _Fault(method.upper(), re.compile(path_regex), times, status, dict(headers or {}))
        fault.body = body
        fault.delay = delay
        self._add_fault(fault)

    def fail_rate_limited(
        self, method: str, path_regex: str, *, reset_in: float, times: int = 1
    ) -> None:
        """Answer like a spent primary rate limit: 403, remaining 0, reset in ``reset_in`` s."""
        reset = int(time.time() + reset_in)
        self.fail(
            method,
            path_regex,
            403,
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
            body={"message": PRIMARY_LIMIT_MESSAGE, "documentation_url": DOCS},
            times=times,
        )

    def fail_secondary_limit(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 403,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer like a secondary rate limit, with ``Retry-After`` when given."""
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        self.fail(
            method,
            path_regex,
            status,
            headers=headers,
            body={"message": SECONDARY_LIMIT_MESSAGE, "documentation_url": DOCS},
            times=times,
        )

    def delay(self, method: str, path_regex: str, seconds: float, times: int = 1) -> None:
        """Answer the next ``times`` matching requests normally, but only after ``seconds``."""
        self._add_fault(_Fault(method.upper(), re.compile(path_regex), times, delay=seconds))

    def drop(self, method: str, path_regex: str, times: int = 1) -> None:
        """Close the connection of the next ``times`` matching requests without an answer."""
        self._add_fault(_Fault(method.upper(), re.compile(path_regex), times, drop=True))

    def clear_faults(self) -> None:
        """Forget every fault not yet used."""
        with self._lock:
            self._faults.clear()

    # -- inspection ------------------------------------------------------------------------

    def requests_to(self, method: str, path_regex: str = "") -> list[RecordedRequest]:
        """Return the recorded requests with ``method`` whose path matches ``path_regex``."""
        pattern = re.compile(path_regex)
        with self._lock:
            return [
                r for r in self.requests if r.method == method.upper() and pattern.search(r.path)
            ]

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()

    def comments(self, repo: str, sha: str | None = None) -> list[dict[str, Any]]:
        """Return the stored comments of ``repo`` (on ``sha``), oldest first."""
        with self._lock:
            return [
                dict(c)
                for c in sorted(self._comments.values(), key=lambda c: c["id"])
                if c["repo"] == repo and (sha is None or c["sha"] == sha)
            ]

    def add_comment(self, repo: str, sha: str, body: str, login: str = "octocat") -> int:
        """Store a comment as if someone had posted it, and return its id."""
        with self._lock:
            return self._store_comment(repo, sha, body, login)

    def set_file(self, repo: str, path: str, content: bytes | None, ref: str = "main") -> None:
        """Put a file on a branch of ``repo`` (None removes it), as the contents API serves it."""
        with self._lock:
            if content is None:
                self._files.pop((repo, ref, path), None)
            else:
                self._files[(repo, ref, path)] = content

    def add_pull(
        self,
        repo: str,
        number: int,
        title: str,
        shas: Sequence[str],
        *,
        merged: bool = True,
        merge_commit_sha: str | None = None,
    ) -> None:
        """A pull request of ``repo`` holding ``shas`` (merged unless ``merged`` is false).

        ``GET /repos/{o}/{r}/commits/{sha}/pulls`` lists it for each of them, and for its
        ``merge_commit_sha`` (the squash or merge commit), as GitHub does.
        """
        with self._lock:
            self._pulls.setdefault(repo, []).append(
                {
                    "number": number,
                    "title": title,
                    "state": "closed" if merged else "open",
                    "merged_at": "2026-02-03T09:00:00Z" if merged else None,
                    "merge_commit_sha": merge_commit_sha,
                    "shas": [*shas, *([merge_commit_sha] if merge_commit_sha else [])],
                }
            )

    def set_permission(self, repo: str, login: str, permission: str) -> None:
        """Make ``login`` a collaborator of ``repo`` with admin, write, read or none."""
        with self._lock:
            self._permissions[(repo, login.lower())] = permission

    @property
    def issued_tokens(self) -> list[str]:
        """The installation tokens handed out so far."""
        with self._lock:
            return list(self._installation_tokens)

    # -- request handling (called from the server threads) ---------------------------------

    def _add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method == method and fault.pattern.search(path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _rate_headers(self, identity: _Identity) -> dict[str, str]:
        with self._lock:
            used = self._used.get(identity.key, 0) + 1
            self._used[identity.key] = used
        limit = 60 if identity.kind == "anonymous" else 5000
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(limit - used, 0)),
            "x-ratelimit-reset": str(self._reset_at),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "core",
        }

    def _identify(self, authorization: str | None) -> _Identity:
        if not authorization:
            return _Identity("anonymous", "anonymous", None)
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        with self._lock:
            if credential in self._tokens:
                login = self._tokens[credential]
                return _Identity("token", credential, login)
            if credential in self._installation_tokens:
                installation_id, expires_at = self._installation_tokens[credential]
                if expires_at > datetime.now(UTC):
                    app = self._apps[self._installations[installation_id]]
                    return _Identity(
                        "installation", credential, f"{app.slug}[bot]", installation_id
                    )
            if scheme.lower() == "bearer":
                return self._app_identity(credential)
        raise _HttpError(401, "Bad credentials")

    def _app_identity(self, token: str) -> _Identity:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            app = self._apps[int(claims["iss"])]
            jwt.decode(
                token,
                app.public_key,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
                leeway=60,
            )
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            raise _HttpError(401, "A JSON web token could not be decoded") from None
        return _Identity("app", f"app:{app.app_id}", app.slug)

    def _handle(
        self,
        method: str,
        path: str,
        prefix: str,
        query: dict[str, list[str]],
        body: Any,
        identity: _Identity,
    ) -> _Reply:
        for route_method, pattern, handler in self._routes():
            if route_method != method:
                continue
            match = pattern.fullmatch(path)
            if match:
                return handler(_Call(self, method, path, prefix, query, body, identity), match)
        raise _HttpError(404, "Not Found")

    def _routes(
        self,
    ) -> list[tuple[str, re.Pattern[str], Callable[[_Call, re.Match[str]], _Reply]]]:
        repo = r"/repos/(?P<repo>[^/]+/[^/]+)"
        return [
            ("POST", re.compile(r"/app/installations/(?P<id>\d+)/access_tokens"), _access_token),
            ("GET", re.compile(repo + r"/installation"), _repo_installation),
            ("GET", re.compile(repo), _get_repo),
            ("GET", re.compile(repo + r"/commits"), _list_commits),
            ("GET", re.compile(repo + r"/commits/(?P<ref>[^/]+)/comments"), _list_comments),
            ("GET", re.compile(repo + r"/commits/(?P<ref>[^/]+)/pulls"), _list_commit_pulls),
            ("POST", re.compile(repo + r"/commits/(?P<ref>[^/]+)/comments"), _create_comment),
            ("GET", re.compile(repo + r"/commits/(?P<ref>[^/]+)"), _get_commit),
            ("GET", re.compile(repo + r"/compare/(?P<basehead>.+)"), _compare),
            ("GET", re.compile(repo + r"/comments/(?P<id>\d+)"), _get_comment),
            ("PATCH", re.compile(repo + r"/comments/(?P<id>\d+)"), _edit_comment),
            ("DELETE", re.compile(repo + r"/comments/(?P<id>\d+)"), _delete_comment),
            (
                "GET",
                re.compile(repo + r"/collaborators/(?P<login>[^/]+)/permission"),
                _collaborator_permission,
            ),
            ("POST", re.compile(repo + r"/comments/(?P<id>\d+)/reactions"), _create_reaction),
            ("GET", re.compile(repo + r"/contents/(?P<path>.+)"), _get_contents),
            ("GET", re.compile(r"/user"), _get_user),
            ("GET", re.compile(r"/app"), _get_app),
        ]

    # -- data helpers used by the routes -----------------------------------------------------

    def _repo_for(self, call: _Call, name: str) -> _Repo:
        repo = self._repos.get(name)
        if repo is None:
            raise _HttpError(404, "Not Found")
        identity = call.identity
        if identity.kind == "app":
            raise _HttpError(403, "Resource not accessible by integration")
        if identity.kind == "installation" and repo.installation_id != identity.installation_id:
            raise _HttpError(404, "Not Found")
        if identity.kind == "anonymous" and repo.private:
            raise _HttpError(404, "Not Found")
        return repo

    def _resolve(self, repo: _Repo, ref: str) -> _Commit | None:
        sha = repo.branches.get(ref, ref)
        commit = self._commits.get((repo.full_name, sha))
        if commit is not None:
            return commit
        if len(ref) >= 7:
            found = [
                c
                for (r, s), c in self._commits.items()
                if r == repo.full_name and s.startswith(ref)
            ]
            if len(found) == 1:
                return found[0]
        return None

    def _ancestors(self, repo: str, sha: str) -> dict[str, _Commit]:
        seen: dict[str, _Commit] = {}
        todo = [sha]
        while todo:
            current = todo.pop()
            commit = self._commits.get((repo, current))
            if commit is None or current in seen:
                continue
            seen[current] = commit
            todo.extend(commit.parents)
        return seen

    def _store_comment(self, repo: str, sha: str, body: str, login: str) -> int:
        comment_id = next(self._comment_ids)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._comments[comment_id] = {
            "id": comment_id,
            "repo": repo,
            "sha": sha,
            "body": body,
            "login": login,
            "created_at": now,
            "updated_at": now,
        }
        return comment_id

    # JSON shapes -------------------------------------------------------------------------

    def _api(self, prefix: str, path: str) -> str:
        return f"{self.url}{prefix}{path}"

    def _user_json(self, prefix: str, login: str | None) -> dict[str, Any] | None:
        if login is None:
            return None
        user_id = int(hashlib.sha1(login.encode(), usedforsecurity=False).hexdigest()[:6], 16)
        is_bot = login.endswith("[bot]")
        return {
            "login": login,
            "id": user_id,
            "node_id": f"MDQ6VXNlcj{user_id}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
            "gravatar_id": "",
            "url": self._api(prefix, f"/users/{quote(login)}"),
            "html_url": f"{self.url}/{quote(login)}",
            "type": "Bot" if is_bot else "User",
            "user_view_type": "public",
            "site_admin": False,
        }

    def _commit_json(
        self, prefix: str, c: _Commit, *, files: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        api = self._api(prefix, f"/repos/{c.repo}/commits/{c.sha}")
        person = {"name": c.author_name, "email": c.author_email, "date": _iso(c.date)}
        data: dict[str, Any] = {
            "sha": c.sha,
            "node_id": f"C_{c.sha[:20]}",
            "commit": {
                "author": person,
                "committer": dict(person),
                "message": c.message,
                "tree": {
                    "sha": hashlib.sha1(c.sha.encode(), usedforsecurity=False).hexdigest(),
                    "url": self._api(prefix, f"/repos/{c.repo}/git/trees/{c.sha}"),
                },
                "url": self._api(prefix, f"/repos/{c.repo}/git/commits/{c.sha}"),
                "comment_count": sum(
                    1 for x in self._comments.values() if x["repo"] == c.repo and x["sha"] == c.sha
                ),
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
            "url": api,
            "html_url": f"{self.url}/{c.repo}/commit/{c.sha}",
            "comments_url": f"{api}/comments",
            "author": self._user_json(prefix, c.author_login),
            "committer": self._user_json(prefix, c.author_login),
            "parents": [
                {
                    "sha": p,
                    "url": self._api(prefix, f"/repos/{c.repo}/commits/{p}"),
                    "html_url": f"{self.url}/{c.repo}/commit/{p}",
                }
                for p in c.parents
            ],
        }
        if files is not None:
            additions = sum(f["additions"] for f in c.files)
            deletions = sum(f["deletions"] for f in c.files)
            data["stats"] = {
                "total": additions + deletions,
                "additions": additions,
                "deletions": deletions,
            }
            data["files"] = [
                {**f, "contents_url": self._api(prefix, f["contents_url"])} for f in files
            ]
            if c.total_files is not None:
                data["total_files"] = c.total_files
        return data

    def _comment_json(self, prefix: str, c: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "html_url": f"{self.url}/{c['repo']}/commit/{c['sha']}#commitcomment-{c['id']}",
            "url": self._api(prefix, f"/repos/{c['repo']}/comments/{c['id']}"),
            "id": c["id"],
            "node_id": f"CC_{c['id']}",
            "body": c["body"],
            "path": None,
            "position": None,
            "line": None,
            "commit_id": c["sha"],
            "user": self._user_json(prefix, c["login"]),
            "created_at": c["created_at"],
            "updated_at": c["updated_at"],
            "author_association": "OWNER",
        }

    def _repo_json(self, prefix: str, repo: _Repo) -> dict[str, Any]:
        owner, _, name = repo.full_name.partition("/")
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self._user_json(prefix, owner),
            "html_url": f"{self.url}/{repo.full_name}",
            "url": self._api(prefix, f"/repos/{repo.full_name}"),
            "fork": False,
            "default_branch": repo.default_branch,
            "visibility": "private" if repo.private else "public",
        }

    def _paged(
        self, call: _Call, items: Sequence[Any], *, default: int, maximum: int
    ) -> tuple[list[Any], dict[str, str]]:
        """Cut ``items`` into the requested page and build GitHub's ``Link`` header."""
        try:
            per_page = min(max(int(call.param("per_page") or default), 1), maximum)
            page = max(int(call.param("page") or 1), 1)
        except ValueError:
            raise _HttpError(422, "Invalid pagination parameters") from None
        last = max(math.ceil(len(items) / per_page), 1)
        chunk = list(items[(page - 1) * per_page : page * per_page])

        def link(number: int) -> str:
            params = {k: v[-1] for k, v in call.query.items() if k != "page"}
            params["page"] = str(number)
            return f"<{self._api(call.prefix, call.path)}?{urlencode(params)}>"

        rels = []
        if page > 1:
            rels += [f'{link(page - 1)}; rel="prev"', f'{link(1)}; rel="first"']
        if page < last:
            rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
        return chunk, ({"link": ", ".join(rels)} if rels else {})


@dataclass(frozen=True)
class _Call:
    api: GitHubApiStandIn
    method: str
    path: str
    prefix: str
    query: dict[str, list[str]]
    body: Any
    identity: _Identity

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


# -- routes (run under the stand-in's lock) ------------------------------------------------


def _access_token(call: _Call, match: re.Match[str]) -> _Reply:
    api = call.api
    if call.identity.kind != "app":
        raise _HttpError(401, "A JSON web token could not be decoded")
    installation_id = int(match["id"])
    if api._installations.get(installation_id) != int(call.identity.key.removeprefix("app:")):
        raise _HttpError(404, "Not Found")
    token = "ghs_" + secrets.token_hex(18)
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    api._installation_tokens[token] = (installation_id, expires_at)
    return _Reply(
        201,
        {
            "token": token,
            "expires_at": _iso(expires_at),
            "permissions": {"contents": "write", "metadata": "read"},
            "repository_selection": "all",
        },
    )


def _repo_installation(call: _Call, match: re.Match[str]) -> _Reply:
    api = call.api
    if call.identity.kind != "app":
        raise _HttpError(401, "A JSON web token could not be decoded")
    repo = api._repos.get(match["repo"])
    app_id = int(call.identity.key.removeprefix("app:"))
    if repo is None or repo.installation_id is None:
        raise _HttpError(404, "Not Found")
    if api._installations.get(repo.installation_id) != app_id:
        raise _HttpError(404, "Not Found")
    owner = repo.full_name.partition("/")[0]
    iid = repo.installation_id
    return _Reply(
        200,
        {
            "id": iid,
            "app_id": app_id,
            "app_slug": api._apps[app_id].slug,
            "target_id": 1,
            "target_type": "Organization",
            "account": api._user_json(call.prefix, owner),
            "repository_selection": "all",
            "access_tokens_url": api._api(call.prefix, f"/app/installations/{iid}/access_tokens"),
            "repositories_url": api._api(call.prefix, "/installation/repositories"),
            "html_url": f"{api.url}/organizations/{owner}/settings/installations/{iid}",
            "permissions": {"contents": "write", "metadata": "read"},
            "events": ["push"],
            "created_at": "2024-05-01T09:00:00Z",
            "updated_at": "2024-05-01T09:00:00Z",
            "single_file_name": None,
        },
    )


def _get_repo(call: _Call, match: re.Match[str]) -> _Reply:
    return _Reply(200, call.api._repo_json(call.prefix, call.api._repo_for(call, match["repo"])))


def _get_commit(call: _Call, match: re.Match[str]) -> _Reply:
    api = call.api
    repo = api._repo_for(call, match["repo"])
    ref = unquote(match["ref"])
    commit = api._resolve(repo, ref)
    if commit is None:
        raise _HttpError(422, f"No commit found for SHA: {ref}")
    files, headers = api._paged(
        call, commit.files[:FILES_CAP], default=FILES_PAGE, maximum=FILES_PAGE
    )
    return _Reply(200, api._commit_json(call.prefix, commit, files=files), headers)


def _list_commits(call: _Call, match: re.Match[str]) -> _Reply:
    api = call.api
    repo = api._repo_for(call, match["repo"])
    ref = call.param("sha") or repo.default_branch
    head = api._resolve(repo, ref)
    if head is None:
        raise _HttpError(404, "Not Found")
    since = _parse_time(call.param("since"))
    until = _parse_time(call.param("until"))
    commits = [
        c
        for c in api._ancestors(repo.full_name, head.sha).values()
        if (since is None or c.date >= since) and (until is None or c.date <= until)
    ]
    commits.sort(key=lambda c: (c.date, c.seq), reverse=True)
    page, headers = api._paged(call, commits, default=30, maximum=100)
    return _Reply(200, [api._commit_json(call.prefix, c, files=None) for c in page], headers)


def _compare(call: _Call, match: re.Match[str]) -> _Reply:
    api = call.api
    repo = api._repo_for(call, match["repo"])
    base_ref, dots, head_ref = unquote(match["basehead"]).partition("...")
    if not dots:
        raise _HttpError(404, "Not Found")
    base = api._resolve(repo, base_ref)
    head = api._resolve(repo, head_ref)
    if base is None or head is None:
        raise _HttpError(404, "Not Found")
    base_side = api._ancestors(repo.full_name, base.sha)
    head_side = api._ancestors(repo.full_name, head.sha)
    ahead = sorted(
        (c for s, c in head_side.items() if s not in base_side), key=lambda c: (c.date, c.seq)
    )
    behind = [c for s, c in base_side.items() if s not in head_side]
    common = [c for s, c in head_side.items() if s in base_side]
    merge_base = max(common, key=lambda c: (c.date, c.seq)) if common else None
    if not ahead and not behind:
        status = "identical"
    elif not behind:
        status = "ahead"
    elif not ahead:
        status = "behind"
    else:
        status = "diverged"
    page, headers = api._paged(call, ahead, default=250, maximum=250)
    url = api._api(call.prefix, f"/repos/{repo.full_name}/compare/{base_ref}...{head_ref}")
    html = f"{api.url}/{repo.full_name}/compare/{base_ref}...{head_ref}"
    body = {
        "url": url,
        "html_url": html,
        "permalink_url": f"{api.url}/{repo.full_name}/compare/{base.sha}...{head.sha}",
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "base_commit": api._commit_json(call.prefix, base, files=None),
        "merge_base_commit": (
            api._commit_json(call.prefix, merge_base, files=None) if merge_base else None
        ),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": len(behind),
        "total_commits": len(ahead),
        "commits": [api._commit_json(call.prefix, c, files=None) for c in page],
        "files": [],
    }
    return _Reply(200, body, headers)


def _comment_target(call: _Call, match: re.Match[str]) -> tuple[_Repo, _Commit]:
    api = call.api
    repo = api._repo_for(call, match["repo"])
    commit = api._resolve(repo, unquote(match["ref"]))
    if commit is None:
        raise _HttpError(422, f"No commit found for SHA: {match['ref']}")
    return repo, commit


def _list_comments(call: _Call, match: re.Match[str]) -> _Reply:
    repo, commit = _comment_target(call, match)
    comments = call.api.comments(repo.full_name, commit.sha)
    page, headers = call.api._paged(call, comments, default=30, maximum=100)
    return _Reply(200, [call.api._comment_json(call.prefix, c) for c in page], headers)


def _list_commit_pulls(call: _Call, match: re.Match[str]) -> _Reply:
    repo, commit = _comment_target(call, match)
    with call.api._lock:
        pulls = [p for p in call.api._pulls.get(repo.full_name, []) if commit.sha in p["shas"]]
    body = [
        {
            "url": call.api._api(call.prefix, f"/repos/{repo.full_name}/pulls/{p['number']}"),
            "html_url": f"https://github.com/{repo.full_name}/pull/{p['number']}",
            "number": p["number"],
            "state": p["state"],
            "title": p["title"],
            "user": call.api._user_json(call.prefix, "octocat"),
            "merged_at": p["merged_at"],
            "merge_commit_sha": p["merge_commit_sha"],
        }
        for p in pulls
    ]
    page, headers = call.api._paged(call, body, default=30, maximum=100)
    return _Reply(200, page, headers)


def _create_comment(call: _Call, match: re.Match[str]) -> _Reply:
    if call.identity.kind == "anonymous":
        raise _HttpError(401, "Requires authentication")
    repo, commit = _comment_target(call, match)
    body = call.body.get("body") if isinstance(call.body, dict) else None
    if not isinstance(body, str) or not body:
        raise _HttpError(422, "Validation Failed")
    comment_id = call.api._store_comment(
        repo.full_name, commit.sha, body, call.identity.login or ""
    )
    return _Reply(201, call.api._comment_json(call.prefix, call.api._comments[comment_id]))


def _existing_comment(call: _Call, match: re.Match[str]) -> dict[str, Any]:
    repo = call.api._repo_for(call, match["repo"])
    comment = call.api._comments.get(int(match["id"]))
    if comment is None or comment["repo"] != repo.full_name:
        raise _HttpError(404, "Not Found")
    return comment


def _get_comment(call: _Call, match: re.Match[str]) -> _Reply:
    return _Reply(200, call.api._comment_json(call.prefix, _existing_comment(call, match)))


def _edit_comment(call: _Call, match: re.Match[str]) -> _Reply:
    if call.identity.kind == "anonymous":
        raise _HttpError(401, "Requires authentication")
    comment = _existing_comment(call, match)
    body = call.body.get("body") if isinstance(call.body, dict) else None
    if not isinstance(body, str) or not body:
        raise _HttpError(422, "Validation Failed")
    comment["body"] = body
    comment["updated_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _Reply(200, call.api._comment_json(call.prefix, comment))


def _delete_comment(call: _Call, match: re.Match[str]) -> _Reply:
    if call.identity.kind == "anonymous":
        raise _HttpError(401, "Requires authentication")
    comment = _existing_comment(call, match)
    del call.api._comments[comment["id"]]
    return _Reply(204)


def _collaborator_permission(call: _Call, match: re.Match[str]) -> _Reply:
    if call.identity.kind == "anonymous":
        raise _HttpError(401, "Requires authentication")
    repo = call.api._repo_for(call, match["repo"])
    login = unquote(match["login"])
    permission = call.api._permissions.get((repo.full_name, login.lower()))
    if permission is None:  # GitHub answers 404 for a user who is not a collaborator at all
        raise _HttpError(404, f"{login} is not a user")
    role = {"admin": "admin", "write": "write", "read": "read", "none": "none"}[permission]
    return _Reply(
        200,
        {
            "permission": permission,
            "role_name": role,
            "user": call.api._user_json(call.prefix, login),
        },
    )


def _get_user(call: _Call, match: re.Match[str]) -> _Reply:
    if call.identity.kind == "anonymous":
        raise _HttpError(401, "Requires authentication")
    if call.identity.kind != "token":
        raise _HttpError(403, "Resource not accessible by integration")
    return _Reply(200, call.api._user_json(call.prefix, call.identity.login))


def _get_app(call: _Call, match: re.Match[str]) -> _Reply:
    if call.identity.kind != "app":
        raise _HttpError(401, "A JSON web token could not be decoded")
    app = next(a for a in call.api._apps.values() if a.slug == call.identity.login)
    return _Reply(200, {"id": app.app_id, "slug": app.slug, "name": app.slug, "owner": None})


def _get_contents(call: _Call, match: re.Match[str]) -> _Reply:
    repo = call.api._repo_for(call, match["repo"])
    path = unquote(match["path"])
    ref = (call.query.get("ref") or [repo.default_branch])[0]
    content = call.api._files.get((repo.full_name, ref, path))
    if content is None:
        raise _HttpError(404, "Not Found")
    blob = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()  # noqa: S324 - git's id
    return _Reply(
        200,
        {
            "type": "file",
            "encoding": "base64",
            "size": len(content),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": base64.b64encode(content).decode(),
            "sha": blob,
            "url": call.api._api(call.prefix, f"/repos/{repo.full_name}/contents/{path}"),
        },
    )


def _create_reaction(call: _Call, match: re.Match[str]) -> _Reply:
    if call.identity.kind == "anonymous":
        raise _HttpError(401, "Requires authentication")
    comment = _existing_comment(call, match)
    content = call.body.get("content") if isinstance(call.body, dict) else None
    allowed = {"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}
    if content not in allowed:
        raise _HttpError(422, "Validation Failed")
    with call.api._lock:
        call.api.reactions.append((comment["repo"], comment["id"], content))
    return _Reply(
        201,
        {
            "id": len(call.api.reactions),
            "content": content,
            "user": call.api._user_json(call.prefix, call.identity.login),
            "created_at": _iso(datetime.now(UTC)),
        },
    )


# -- HTTP plumbing ---------------------------------------------------------------------------


def _handler_for(api: GitHubApiStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # keep-alive like GitHub, so PyGithub's pooled connections are exercised
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: without TCP_NODELAY each answer on a
        # kept-alive connection waits ~40 ms for a delayed ACK
        disable_nagle_algorithm = True
        server_version = "GitHub.com"
        sys_version = ""

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            # routes match the path as sent (still quoted); handlers unquote what they capture
            raw_path = parts.path
            prefix = ENTERPRISE_PREFIX if raw_path.startswith(ENTERPRISE_PREFIX + "/") else ""
            path = raw_path.removeprefix(prefix)
            length = int(self.headers.get("content-length") or 0)
            raw_body = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw_body) if raw_body else None
            except ValueError:
                body = None
            headers = {k.lower(): v for k, v in self.headers.items()}
            query = parse_qs(parts.query, keep_blank_values=True)
            api._record(RecordedRequest(method, path, prefix, query, headers, body))

            fault = api._take_fault(method, path)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.drop:
                self.close_connection = True
                return
            reply = self._reply(method, path, prefix, query, body, headers, fault)
            self._send(reply)

        def _reply(
            self,
            method: str,
            path: str,
            prefix: str,
            query: dict[str, list[str]],
            body: Any,
            headers: dict[str, str],
            fault: _Fault | None,
        ) -> _Reply:
            try:
                identity = api._identify(headers.get("authorization"))
            except _HttpError as exc:
                identity = _Identity("anonymous", "anonymous", None)
                return self._with_rate(_error(exc), identity)
            if fault is not None and fault.status is not None:
                reply = _Reply(fault.status, fault.body)
                reply = self._with_rate(reply, identity)
                reply.headers.update({k.lower(): v for k, v in fault.headers.items()})
                return reply
            try:
                with api._lock:
                    reply = api._handle(method, path, prefix, query, body, identity)
            except _HttpError as exc:
                reply = _error(exc)
            return self._with_rate(reply, identity)

        def _with_rate(self, reply: _Reply, identity: _Identity) -> _Reply:
            reply.headers = {**api._rate_headers(identity), **reply.headers}
            return reply

        def _send(self, reply: _Reply) -> None:
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(payload)))
                self.send_header("x-github-media-type", "github.v3; format=json")
                self.send_header("x-github-request-id", secrets.token_hex(8).upper())
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if payload:
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                # the client gave up (a timeout test); nothing left to tell it
                self.close_connection = True

    return Handler


def _error(exc: _HttpError) -> _Reply:
    return _Reply(exc.status, {"message": exc.message, "documentation_url": DOCS})


def _file_json(repo: str, sha: str, f: Mapping[str, Any]) -> dict[str, Any]:
    filename = str(f["filename"])
    additions = int(f.get("additions", 0))
    deletions = int(f.get("deletions", 0))
    quoted = quote(filename, safe="")
    data: dict[str, Any] = {
        "sha": hashlib.sha1(f"{sha}:{filename}".encode(), usedforsecurity=False).hexdigest(),
        "filename": filename,
        "status": f.get("status", "modified"),
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
        "blob_url": f"https://github.com/{repo}/blob/{sha}/{quoted}",
        "raw_url": f"https://github.com/{repo}/raw/{sha}/{quoted}",
        # completed with the server's URL when served
        "contents_url": f"/repos/{repo}/contents/{quoted}?ref={sha}",
    }
    if f.get("patch") is not None:
        data["patch"] = f["patch"]
    if f.get("previous_filename"):
        data["previous_filename"] = f["previous_filename"]
    return data


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _HttpError(422, f"Invalid time: {value}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def files_named(
    names: Iterable[str], *, patch: str | None = "@@ -1 +1 @@\n-a\n+b"
) -> list[dict[str, Any]]:
    """Build ``add_commit`` file entries: one modified file per name, one line changed."""
    return [
        {"filename": n, "status": "modified", "additions": 1, "deletions": 1, "patch": patch}
        for n in names
    ]
