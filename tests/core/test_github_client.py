"""The PyGithub adapter against a real HTTP server that speaks GitHub's REST wire format."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from commit_digest.analysis.github import CommentRef, GitHub, make_github
from commit_digest.analysis.inputs import FileChange
from commit_digest.config import Settings, load_settings
from commit_digest.errors import CommitGone, GitHubError, GitHubRateLimited, GitHubUnavailable
from tests.support.github_api import GitHubApiStandIn, files_named

REPO = "octo-org/hello-world"
TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
APP_ID = 12345
INSTALLATION_ID = 42


@pytest.fixture
def api() -> Iterator[GitHubApiStandIn]:
    """A started stand-in that knows TOKEN and has one public repository."""
    with GitHubApiStandIn(tokens={TOKEN: "octocat"}) as server:
        server.add_repo(REPO)
        yield server


@pytest.fixture(scope="module")
def app_key() -> tuple[str, bytes]:
    """A fresh RSA key of a GitHub App: the private PEM text and the public PEM bytes."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return private, public


def settings_for(url: str, **env: str) -> Settings:
    """Settings with GITHUB_API_URL pointing at ``url`` plus ``env``."""
    return load_settings({"GITHUB_API_URL": url, **env}, dotenv_path=None)


def token_client(url: str, *, token: str = TOKEN, timeout: int = 15) -> GitHub:
    """A client authenticated with a personal access token."""
    return make_github(settings_for(url, GITHUB_TOKEN=token), None, timeout=timeout)


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- authentication -----------------------------------------------------------------------------


def test_token_auth_sends_the_token(api: GitHubApiStandIn) -> None:
    """A token client sends ``Authorization: token …`` and reads the commit."""
    sha = api.add_commit(REPO, message="feat: greet\n\nbody", files=files_named(["app.py"]))

    commit = token_client(api.url).get_commit(REPO, sha)

    assert (commit.sha, commit.subject, commit.author, commit.source) == (
        sha,
        "feat: greet",
        "octocat",
        "github",
    )
    assert [r.authorization for r in api.requests] == [f"token {TOKEN}"]


def test_app_auth_gets_an_installation_token_and_uses_it(
    api: GitHubApiStandIn, app_key: tuple[str, bytes]
) -> None:
    """App credentials with a known installation: JWT → installation token → the API call."""
    private, public = app_key
    api.add_app(APP_ID, public)
    api.add_installation(INSTALLATION_ID, APP_ID)
    api.add_repo(REPO, installation_id=INSTALLATION_ID, private=True)
    sha = api.add_commit(REPO, files=files_named(["a.py"]))
    settings = settings_for(api.url, GITHUB_APP_ID=str(APP_ID), GITHUB_APP_PRIVATE_KEY=private)

    commit = make_github(settings, INSTALLATION_ID).get_commit(REPO, sha)

    assert commit.sha == sha
    token_request, commit_request = api.requests
    assert (token_request.method, token_request.path) == (
        "POST",
        f"/app/installations/{INSTALLATION_ID}/access_tokens",
    )
    scheme, _, signed = (token_request.authorization or "").partition(" ")
    assert (scheme, jwt.decode(signed, options={"verify_signature": False})["iss"]) == (
        "Bearer",
        str(APP_ID),
    )
    assert commit_request.authorization == f"token {api.issued_tokens[0]}"


def test_app_auth_looks_up_an_unknown_installation(
    api: GitHubApiStandIn, app_key: tuple[str, bytes]
) -> None:
    """Without an installation id the client asks GitHub for the repository's installation."""
    private, public = app_key
    api.add_app(APP_ID, public)
    api.add_installation(INSTALLATION_ID, APP_ID)
    api.add_repo(REPO, installation_id=INSTALLATION_ID)
    sha = api.add_commit(REPO)
    client = make_github(
        settings_for(api.url, GITHUB_APP_ID=str(APP_ID), GITHUB_APP_PRIVATE_KEY=private), None
    )

    client.get_commit(REPO, sha)
    client.default_branch(REPO)

    assert [(r.method, r.path) for r in api.requests] == [
        ("GET", f"/repos/{REPO}/installation"),
        ("POST", f"/app/installations/{INSTALLATION_ID}/access_tokens"),
        ("GET", f"/repos/{REPO}/commits/{sha}"),
        ("GET", f"/repos/{REPO}"),
    ]
    assert api.requests[0].authorization is not None
    assert api.requests[0].authorization.startswith("Bearer ")


def test_app_not_installed_on_the_repository_is_a_github_error(
    api: GitHubApiStandIn, app_key: tuple[str, bytes]
) -> None:
    """A repository the App is not installed on says so instead of looking like a gone commit."""
    private, public = app_key
    api.add_app(APP_ID, public)
    sha = api.add_commit(REPO)
    client = make_github(
        settings_for(api.url, GITHUB_APP_ID=str(APP_ID), GITHUB_APP_PRIVATE_KEY=private), None
    )

    with pytest.raises(GitHubError) as raised:
        client.get_commit(REPO, sha)

    assert "install the GitHub App" in str(raised.value)


def test_anonymous_sends_no_authorization(api: GitHubApiStandIn) -> None:
    """Without credentials the client sends no Authorization header at all."""
    sha = api.add_commit(REPO)

    make_github(settings_for(api.url), None).get_commit(REPO, sha)

    assert [r.authorization for r in api.requests] == [None]


# --- commits and files --------------------------------------------------------------------------


@pytest.mark.parametrize("enterprise", [False, True], ids=["github.com", "enterprise"])
def test_a_commit_with_750_files_pages_past_300(api: GitHubApiStandIn, enterprise: bool) -> None:
    """750 files come in three pages of 300, following Link headers (under /api/v3 too)."""
    names = [f"src/module_{i:04}.py" for i in range(750)]
    sha = api.add_commit(REPO, files=files_named(names))
    url = api.enterprise_url if enterprise else api.url

    commit = token_client(url).get_commit(REPO, sha)

    assert [f.path for f in commit.files] == names
    assert commit.files_total == 750
    assert [(r.path, r.param("page")) for r in api.requests] == [
        (f"/repos/{REPO}/commits/{sha}", "1"),
        (f"/repos/{REPO}/commits/{sha}", "2"),
        (f"/repos/{REPO}/commits/{sha}", "3"),
    ]
    assert {r.prefix for r in api.requests} == {"/api/v3" if enterprise else ""}


@pytest.mark.parametrize(
    ("reported", "expected_total"),
    [(3500, 3500), (None, 3000)],
    ids=["total-reported", "total-not-reported"],
)
def test_files_total_beyond_the_3000_github_lists(
    api: GitHubApiStandIn, reported: int | None, expected_total: int
) -> None:
    """GitHub lists 3000 files at most; a reported total beyond that becomes files_total."""
    sha = api.add_commit(
        REPO, files=files_named(f"f{i}.txt" for i in range(3500)), total_files=reported
    )

    commit = token_client(api.url).get_commit(REPO, sha)

    assert (len(commit.files), commit.files_total) == (3000, expected_total)
    assert len(api.requests) == 10


def test_file_fields_binary_and_renamed(api: GitHubApiStandIn) -> None:
    """A binary file has no patch; a rename keeps its previous path."""
    sha = api.add_commit(
        REPO,
        files=[
            {"filename": "logo.png", "status": "added", "additions": 0, "deletions": 0},
            {
                "filename": "src/new.py",
                "previous_filename": "src/old.py",
                "status": "renamed",
                "additions": 2,
                "deletions": 1,
                "patch": "@@ -1 +1,2 @@\n-a\n+b\n+c",
            },
        ],
    )

    files = token_client(api.url).get_commit(REPO, sha).files

    assert files == (
        FileChange("logo.png", "added", 0, 0, None, None),
        FileChange("src/new.py", "renamed", 2, 1, "@@ -1 +1,2 @@\n-a\n+b\n+c", "src/old.py"),
    )


def test_author_without_a_github_account_falls_back_to_the_git_name(
    api: GitHubApiStandIn,
) -> None:
    """A commit whose email matches no GitHub user is attributed to the git author name."""
    sha = api.add_commit(REPO, author=None, author_name="Jane Doe")

    assert token_client(api.url).get_commit(REPO, sha).author == "Jane Doe"


@pytest.mark.parametrize(
    ("repository", "sha", "status"),
    [
        ("octo-org/deleted", "a" * 40, 404),
        (REPO, "b" * 40, 422),
    ],
    ids=["404-repository", "422-unknown-sha"],
)
def test_a_missing_commit_is_gone(
    api: GitHubApiStandIn, repository: str, sha: str, status: int
) -> None:
    """404 and 422 on get_commit mean the commit is gone (force-pushed away)."""
    with pytest.raises(CommitGone) as raised:
        token_client(api.url).get_commit(repository, sha)

    assert f"GitHub answered {status}" in str(raised.value)


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 429])
def test_primary_rate_limit_is_reported_at_once_without_retrying(
    api: GitHubApiStandIn, status: int
) -> None:
    """Remaining 0 with a reset in 120 s raises GitHubRateLimited(~120) after one request."""
    sha = api.add_commit(REPO)
    api.fail_rate_limited("GET", "/commits/", reset_in=120)
    if status == 429:
        api.clear_faults()
        reset = str(int(time.time() + 120))
        api.fail(
            "GET",
            "/commits/",
            429,
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        )

    started = time.monotonic()
    with pytest.raises(GitHubRateLimited) as raised:
        token_client(api.url).get_commit(REPO, sha)

    assert raised.value.retry_after == pytest.approx(120, abs=2)
    assert len(api.requests) == 1
    assert time.monotonic() - started < 5


def test_429_with_retry_after(api: GitHubApiStandIn) -> None:
    """A 429 with ``Retry-After: 7`` asks to retry in 7 s."""
    api.fail("GET", f"/repos/{REPO}$", 429, headers={"retry-after": "7"})

    with pytest.raises(GitHubRateLimited) as raised:
        token_client(api.url).default_branch(REPO)

    assert (raised.value.retry_after, len(api.requests)) == (7, 1)


@pytest.mark.parametrize(("retry_after", "expected"), [(30, 30), (None, 60)])
def test_secondary_rate_limit(
    api: GitHubApiStandIn, retry_after: int | None, expected: float
) -> None:
    """A secondary limit honours Retry-After, else waits a minute; no retry request is made."""
    sha = api.add_commit(REPO)
    api.fail_secondary_limit("POST", "/comments$", retry_after=retry_after)

    with pytest.raises(GitHubRateLimited) as raised:
        token_client(api.url).create_commit_comment(REPO, sha, "hello")

    assert (raised.value.retry_after, len(api.requests_to("POST"))) == (expected, 1)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_unavailable_and_not_retried(api: GitHubApiStandIn, status: int) -> None:
    """5xx on a GET raises GitHubUnavailable after a single request."""
    sha = api.add_commit(REPO)
    api.fail("GET", "/commits/", status)

    with pytest.raises(GitHubUnavailable):
        token_client(api.url).get_commit(REPO, sha)

    assert len(api.requests) == 1


def test_a_post_answered_502_is_not_retried(api: GitHubApiStandIn) -> None:
    """A comment POST that gets a 502 is sent exactly once, so no comment can be doubled."""
    sha = api.add_commit(REPO)
    api.fail("POST", "/comments$", 502)

    with pytest.raises(GitHubUnavailable):
        token_client(api.url).create_commit_comment(REPO, sha, "analysis")

    assert (len(api.requests_to("POST")), api.comments(REPO)) == (1, [])


def test_connection_refused_is_unavailable() -> None:
    """Nothing listening on the API URL raises GitHubUnavailable."""
    client = token_client(f"http://127.0.0.1:{free_port()}")

    with pytest.raises(GitHubUnavailable) as raised:
        client.default_branch(REPO)

    assert "could not be reached" in str(raised.value)


def test_a_dropped_connection_is_unavailable(api: GitHubApiStandIn) -> None:
    """A connection closed without an answer raises GitHubUnavailable after one attempt."""
    api.drop("GET", f"/repos/{REPO}$")

    with pytest.raises(GitHubUnavailable):
        token_client(api.url).default_branch(REPO)

    assert len(api.requests) == 1


def test_a_slow_answer_times_out_as_unavailable(api: GitHubApiStandIn) -> None:
    """An answer slower than the timeout raises GitHubUnavailable without waiting for it."""
    api.delay("GET", f"/repos/{REPO}$", seconds=3)

    started = time.monotonic()
    with pytest.raises(GitHubUnavailable):
        token_client(api.url, timeout=1).default_branch(REPO)

    assert time.monotonic() - started < 2.5


def test_401_names_the_variable_to_fix_and_not_the_token(api: GitHubApiStandIn) -> None:
    """Bad credentials raise GitHubError pointing at GITHUB_TOKEN, without the token itself."""
    wrong = "ghp_wrongWrongWrongWrongWrongWrong0000"

    with pytest.raises(GitHubError) as raised:
        token_client(api.url, token=wrong).default_branch(REPO)

    message = str(raised.value)
    assert "GitHub answered 401" in message
    assert "check GITHUB_TOKEN" in message
    assert wrong not in message


def test_403_without_rate_limit_is_a_github_error(api: GitHubApiStandIn) -> None:
    """A plain 403 (missing permission) is not mistaken for a rate limit."""
    sha = api.add_commit(REPO)
    api.fail(
        "POST", "/comments$", 403, body={"message": "Resource not accessible by personal token"}
    )

    with pytest.raises(GitHubError) as raised:
        token_client(api.url).create_commit_comment(REPO, sha, "hi")

    assert str(raised.value) == (
        f"GitHub answered 403 while commenting on commit {sha[:12]} of {REPO}: "
        "Resource not accessible by personal token; "
        "give GITHUB_TOKEN access to the repository (contents: read and write)"
    )


def test_404_outside_get_commit_is_a_github_error(api: GitHubApiStandIn) -> None:
    """A missing repository elsewhere than get_commit is a GitHubError, not CommitGone."""
    with pytest.raises(GitHubError) as raised:
        token_client(api.url).default_branch("octo-org/missing")

    assert not isinstance(raised.value, CommitGone)
    assert "GitHub answered 404" in str(raised.value)


# --- compare, list, default branch -------------------------------------------------------------


def test_compare_pages_through_300_commits(api: GitHubApiStandIn) -> None:
    """300 new commits come in two pages of 250 and 50, oldest first."""
    base = api.add_commit(REPO, message="base")
    shas = [api.add_commit(REPO, message=f"change {i}") for i in range(300)]

    commits = token_client(api.url).compare(REPO, base, shas[-1])

    assert [c.sha for c in commits] == shas
    assert [r.param("page") for r in api.requests_to("GET", "/compare/")] == ["1", "2"]
    assert (commits[0].message, commits[0].author_login, commits[0].url) == (
        "change 0",
        "octocat",
        f"{api.url}/{REPO}/commit/{shas[0]}",
    )


def test_compare_behind_is_empty(api: GitHubApiStandIn) -> None:
    """A head that is behind the base (a rewind) has no new commits."""
    old = api.add_commit(REPO)
    new = api.add_commit(REPO)

    assert token_client(api.url).compare(REPO, new, old) == []


def test_list_commits_between_since_and_until(api: GitHubApiStandIn) -> None:
    """list_commits sends since/until in UTC and returns the branch's commits in the window."""
    shanghai = ZoneInfo("Asia/Shanghai")
    api.add_commit(REPO, message="day 1", date=datetime(2024, 5, 1, 10, tzinfo=UTC))
    morning = api.add_commit(REPO, message="day 2 a", date=datetime(2024, 5, 2, 1, tzinfo=UTC))
    evening = api.add_commit(REPO, message="day 2 b", date=datetime(2024, 5, 2, 15, tzinfo=UTC))
    api.add_commit(REPO, message="day 3", date=datetime(2024, 5, 3, 9, tzinfo=UTC))

    commits = token_client(api.url).list_commits(
        REPO,
        "main",
        since=datetime(2024, 5, 2, 8, tzinfo=shanghai),
        until=datetime(2024, 5, 3, 7, 59, 59, tzinfo=shanghai),
    )

    assert [(c.sha, c.committed_at) for c in commits] == [
        (evening, datetime(2024, 5, 2, 15, tzinfo=UTC)),
        (morning, datetime(2024, 5, 2, 1, tzinfo=UTC)),
    ]
    (request,) = api.requests
    assert (request.param("sha"), request.param("since"), request.param("until")) == (
        "main",
        "2024-05-02T00:00:00Z",
        "2024-05-02T23:59:59Z",
    )


def test_list_commits_rejects_naive_times(api: GitHubApiStandIn) -> None:
    """A naive datetime would be sent as if it were UTC, so it is refused."""
    with pytest.raises(ValueError, match="timezone-aware"):
        token_client(api.url).list_commits(
            REPO, "main", since=datetime(2024, 5, 2), until=datetime(2024, 5, 3, tzinfo=UTC)
        )


def test_default_branch(api: GitHubApiStandIn) -> None:
    """default_branch reads the repository's default branch."""
    api.add_repo(REPO, default_branch="trunk")

    assert token_client(api.url).default_branch(REPO) == "trunk"


def test_rate_limit_remaining_from_the_last_response(api: GitHubApiStandIn) -> None:
    """The remaining primary limit is unknown before a request and read from its headers after."""
    client = token_client(api.url)
    before = client.rate_limit_remaining()

    client.default_branch(REPO)

    assert (before, client.rate_limit_remaining()) == (None, 4999)


# --- comments ------------------------------------------------------------------------------------


def test_comments_create_list_edit_delete(api: GitHubApiStandIn) -> None:
    """A comment is created once, listed, edited in place and deleted."""
    sha = api.add_commit(REPO)
    other = api.add_comment(REPO, sha, "LGTM", login="hubot")
    client = token_client(api.url)

    created = client.create_commit_comment(REPO, sha, "<!-- commit-digest -->\nfirst")
    listed = client.list_commit_comments(REPO, sha)
    client.edit_commit_comment(REPO, created, "<!-- commit-digest -->\nsecond")
    edited = [c["body"] for c in api.comments(REPO, sha)]
    client.delete_commit_comment(REPO, created)

    assert listed == [
        CommentRef(other, "LGTM", "hubot"),
        CommentRef(created, "<!-- commit-digest -->\nfirst", "octocat"),
    ]
    assert edited == ["LGTM", "<!-- commit-digest -->\nsecond"]
    assert [c["id"] for c in api.comments(REPO, sha)] == [other]
    assert [(r.method, r.path) for r in api.requests] == [
        ("POST", f"/repos/{REPO}/commits/{sha}/comments"),
        ("GET", f"/repos/{REPO}/commits/{sha}/comments"),
        ("PATCH", f"/repos/{REPO}/comments/{created}"),
        ("DELETE", f"/repos/{REPO}/comments/{created}"),
    ]
    assert api.requests[0].body == {"body": "<!-- commit-digest -->\nfirst"}


def test_a_compare_walk_stops_at_its_bound_and_says_what_it_skipped(
    api: GitHubApiStandIn,
) -> None:
    """3,000 commits between before and after: 2,500 walked (oldest first), 500 logged skipped."""
    from structlog.testing import capture_logs

    from commit_digest.analysis.github import MAX_COMPARE_COMMITS

    base = api.add_commit(REPO, message="base", files=[])
    head = base
    for n in range(MAX_COMPARE_COMMITS + 500):
        head = api.add_commit(REPO, message=f"c{n}", files=[], parents=[head])
    with capture_logs() as logs:
        walked = token_client(api.url).compare(REPO, base, head)
    assert len(walked) == MAX_COMPARE_COMMITS
    assert walked[0].message == "c0"
    [bounded] = [e for e in logs if e["event"] == "github.compare.bounded"]
    assert (bounded["walked"], bounded["skipped"]) == (MAX_COMPARE_COMMITS, 500)
