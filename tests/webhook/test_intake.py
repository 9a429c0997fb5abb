"""POST /webhooks/github: what each delivery records in the database and queues on Redis."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from commit_digest.config import Settings
from commit_digest.models import Commit, Delivery, Repository
from commit_digest.runtime import Runtime

from conftest import deliver, payload_bytes
from support import payloads
from support.broker import analysis_ids, fan_out_deliveries, queued_tasks


def counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.session() as session:
        return (
            session.execute(select(func.count()).select_from(Delivery)).scalar_one(),
            session.execute(select(func.count()).select_from(Commit)).scalar_one(),
        )


def stored_commits(runtime: Runtime) -> list[tuple[str, str | None, str]]:
    with runtime.session() as session:
        rows = session.execute(select(Commit.sha, Commit.branch, Commit.source).order_by(Commit.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


# --- the captured payloads, one test each ----------------------------------------------------


@pytest.mark.parametrize(
    "fixture",
    [
        "octokit__push__payload.json",
        "octokit__push__1.json",
        "octokit__push__with-installation.json",
        "octokit__push__with-organization.json",
    ],
)
def test_tag_deletion_fixtures_record_the_delivery_only(
    fixture: str, client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """A deleted tag is answered 202, recorded as an ignored delivery, and queues nothing."""
    response = deliver(client, payload_bytes(fixture), delivery=f"d-{fixture}")
    assert (response.status_code, response.json) == (202, {"status": "ignored", "reason": "tag"})
    assert counts(runtime) == (1, 0)
    with runtime.session() as session:
        delivery = session.execute(select(Delivery)).scalar_one()
    assert (delivery.guid, delivery.event, delivery.outcome, delivery.ref) == (
        f"d-{fixture}",
        "push",
        "ignored:tag",
        "refs/tags/simple-tag",
    )
    assert queued_tasks(settings) == []


def test_new_branch_fixture_records_and_queues_its_commit(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """The new-branch push to the default branch stores its one commit and queues it by id."""
    response = deliver(client, payload_bytes("octokit__push__with-new-branch.json"))
    assert response.status_code == 202
    assert response.json == {
        "status": "accepted",
        "commits": 1,
        "new": 1,
        "queued": 1,
        "known": 0,
        "fetching_missing": False,
    }
    assert stored_commits(runtime) == [
        ("6113728f27ae82c7b1a177c8d03f9e96e0adf246", "master", "webhook")
    ]
    with runtime.session() as session:
        commit = session.execute(select(Commit)).scalar_one()
        repository = session.execute(select(Repository)).scalar_one()
    assert (commit.message, commit.author_name, commit.author_login) == (
        "Initial commit",
        "Codertocat",
        "Codertocat",
    )
    assert commit.committed_at is not None
    assert commit.committed_at.isoformat() == "2019-05-15T15:19:25+00:00"
    # repository.pushed_at (epoch seconds) is when the commit landed
    assert commit.landed_at.isoformat() == "2019-05-15T15:20:57+00:00"
    assert commit.files == {"added": ["README.md"], "removed": [], "modified": []}
    assert commit.queued_at is not None
    assert (repository.full_name, repository.default_branch, repository.installation_id) == (
        "Codertocat/Hello-World",
        "master",
        1,
    )
    assert analysis_ids(settings) == [commit.id]


def test_committer_without_username_fixture(client: FlaskClient, runtime: Runtime) -> None:
    """A commit whose author has no GitHub username is stored with the name alone."""
    body = payload_bytes("octokit__push__with-no-username-committer.json")
    assert deliver(client, body).status_code == 202
    with runtime.session() as session:
        commit = session.execute(select(Commit)).scalar_one()
    original = json.loads(body)["commits"][0]["author"]
    assert (commit.author_name, commit.author_login) == (original["name"], original.get("username"))


@pytest.mark.parametrize(
    "fixture",
    [
        "octokit__ping__payload.json",
        "octokit__ping__with-app_id.json",
        "octokit__ping__with-organization.json",
    ],
)
def test_ping_fixtures_answer_pong(
    fixture: str, client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """A ping is answered 200 and queues nothing."""
    response = deliver(client, payload_bytes(fixture), event="ping")
    assert (response.status_code, response.json) == (200, {"status": "pong"})
    assert counts(runtime) == (1, 0)
    assert queued_tasks(settings) == []


# --- signature and headers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Hub-Signature-256": None},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": "sha1=abc"},
    ],
)
def test_missing_or_invalid_signature_is_401_and_records_nothing(
    headers: dict[str, str], client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """Without a valid signature nothing is parsed, recorded or queued."""
    response = deliver(
        client, payload_bytes("octokit__push__with-new-branch.json"), headers=headers
    )
    assert response.status_code == 401
    assert counts(runtime) == (0, 0)
    assert queued_tasks(settings) == []


def test_signed_with_a_wrong_secret_is_401(client: FlaskClient, runtime: Runtime) -> None:
    """A delivery signed with another secret is refused."""
    response = deliver(
        client, payload_bytes("octokit__push__with-new-branch.json"), secret="not-ours"
    )
    assert response.status_code == 401
    assert counts(runtime) == (0, 0)


def test_old_secret_is_accepted_during_rotation(
    database_url: str, redis_url: str, redis_key_prefix: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """With GITHUB_WEBHOOK_SECRET=new,old both secrets verify."""
    from commit_digest.config import load_settings
    from webhook import create_app

    from conftest import base_env

    settings = load_settings(
        base_env(
            GITHUB_WEBHOOK_SECRET="new-secret,old-secret",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            REDIS_KEY_PREFIX=redis_key_prefix,
            DATA_DIR=str(tmp_path),
        )
    )
    client = create_app(settings).test_client()
    body = payload_bytes("octokit__ping__payload.json")
    assert deliver(client, body, event="ping", secret="old-secret").status_code == 200
    assert deliver(client, body, event="ping", secret="new-secret").status_code == 200
    assert deliver(client, body, event="ping", secret="older-secret").status_code == 401


@pytest.mark.parametrize("missing", ["X-GitHub-Event", "X-GitHub-Delivery"])
def test_missing_event_or_delivery_header_is_400(
    missing: str, client: FlaskClient, runtime: Runtime
) -> None:
    """A signed delivery without its event or delivery id header is a bad request."""
    response = deliver(
        client, payload_bytes("octokit__push__with-new-branch.json"), headers={missing: None}
    )  # type: ignore[dict-item]
    assert response.status_code == 400
    assert missing in response.json["error"]
    assert counts(runtime) == (0, 0)


# --- redelivery -------------------------------------------------------------------------------


def test_redelivery_is_a_no_op(client: FlaskClient, runtime: Runtime, settings: Settings) -> None:
    """The same X-GitHub-Delivery twice records and queues once."""
    body = payload_bytes("octokit__push__with-new-branch.json")
    first = deliver(client, body, delivery="same-id")
    second = deliver(client, body, delivery="same-id")
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json == {"status": "duplicate"}
    assert counts(runtime) == (1, 1)
    assert len(analysis_ids(settings)) == 1


def test_same_commits_in_a_new_delivery_are_known(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """A second push carrying a known sha (another branch, another delivery) queues nothing new."""
    repo = "acme/widgets"
    commits = [payloads.commit(repo, "a"), payloads.commit(repo, "b")]
    deliver(client, payloads.encode(payloads.push(repo, commits)))
    again = payloads.push(repo, [*commits, payloads.commit(repo, "c")], ref="refs/heads/main")
    response = deliver(client, payloads.encode(again))
    assert (response.json["new"], response.json["known"]) == (1, 2)
    assert counts(runtime) == (2, 3)
    assert len(analysis_ids(settings)) == 3


# --- bodies -----------------------------------------------------------------------------------


def test_form_encoded_delivery_is_accepted(client: FlaskClient, runtime: Runtime) -> None:
    """A webhook configured with content type x-www-form-urlencoded works the same."""
    body = urlencode(
        {"payload": payload_bytes("octokit__push__with-new-branch.json").decode()}
    ).encode()
    response = deliver(client, body, content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.json["new"]) == (202, 1)
    assert counts(runtime) == (1, 1)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"", "application/json"),
        (b"payload=%7Bbroken", "application/x-www-form-urlencoded"),
        (b"other=1", "application/x-www-form-urlencoded"),
        (b"<xml/>", "text/xml"),
        (b'{"ref": "refs/heads/main"}', "application/json"),
    ],
)
def test_malformed_bodies_are_400(
    body: bytes, content_type: str, client: FlaskClient, runtime: Runtime
) -> None:
    """A signed body that is not a readable push payload is a 400, never a 500."""
    response = deliver(client, body, content_type=content_type)
    assert response.status_code == 400
    assert counts(runtime) == (0, 0)


def test_oversized_body_is_413(client: FlaskClient, runtime: Runtime) -> None:
    """A body over GitHub's 25 MB cap is refused while reading it."""
    body = b"{" + b" " * (25 * 1024 * 1024) + b"}"
    response = deliver(client, body)
    assert response.status_code == 413
    assert counts(runtime) == (0, 0)


def test_other_events_are_ignored(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """An event we do not use is answered 202 and neither recorded nor queued."""
    response = deliver(client, b'{"action": "opened"}', event="pull_request")
    assert (response.status_code, response.json) == (
        202,
        {"status": "ignored", "event": "pull_request"},
    )
    assert counts(runtime) == (0, 0)
    assert queued_tasks(settings) == []


# --- captured pushes of other shapes (zulip/zulip fixtures) ----------------------------------


@pytest.mark.parametrize(
    ("fixture", "tracked", "answer", "stored", "tasks"),
    [
        # force push of one commit to the default branch
        (
            "zulip__push__1_commit_forced.json",
            "",
            {"status": "accepted", "new": 1},
            1,
            ["analyze_commit"],
        ),
        # a push to a branch that is not the default one is not analysed …
        (
            "zulip__push__1_commit_private_repository.json",
            "",
            {"status": "ignored", "reason": "untracked-branch"},
            0,
            [],
        ),
        # … unless TRACKED_BRANCHES selects it
        (
            "zulip__push__1_commit_private_repository.json",
            "changes",
            {"status": "accepted", "new": 1},
            1,
            ["analyze_commit"],
        ),
        # fifty entries of one sha: one commit, one analysis
        (
            "zulip__push__50_commits.json",
            "chang*",
            {"status": "accepted", "commits": 50, "new": 1, "known": 0},
            1,
            ["analyze_commit"],
        ),
        (
            "zulip__push__delete_branch.json",
            "*",
            {"status": "ignored", "reason": "branch-deleted"},
            0,
            [],
        ),
        (
            "zulip__push__force_1_commit.json",
            "temp",
            {"status": "accepted", "new": 1},
            1,
            ["analyze_commit"],
        ),
        # a force push that only removed commits: nothing listed, so a compare walk settles it
        (
            "zulip__push__force_remove_commits.json",
            "temp",
            {"status": "accepted", "new": 0, "fetching_missing": True},
            0,
            ["fetch_push_commits"],
        ),
        (
            "zulip__push__merge_queue.json",
            "*",
            {"status": "ignored", "reason": "branch-deleted"},
            0,
            [],
        ),
    ],
)
def test_zulip_push_fixtures(
    fixture: str,
    tracked: str,
    answer: dict[str, object],
    stored: int,
    tasks: list[str],
    client_with,
    runtime: Runtime,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    """Each captured push records exactly its new commits and queues exactly their work: one
    dispatch message from the web process, fanned out into that work by a worker."""
    client = client_with(TRACKED_BRANCHES=tracked)
    response = deliver(client, payload_bytes(fixture))
    assert response.status_code == 202
    assert {k: response.json[k] for k in answer} == answer
    assert counts(runtime) == (1, stored)
    sent = [t.task.removeprefix("commit_digest.") for t in queued_tasks(settings)]
    assert sent == (["dispatch_delivery"] if tasks else [])
    fan_out_deliveries(settings)
    assert [t.task.removeprefix("commit_digest.") for t in queued_tasks(settings)] == tasks


def test_merge_queue_branches_are_never_analysed(client_with, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    """Pushes to gh-readonly-queue/… are ignored even when every branch is tracked."""
    repo = "acme/queue"
    body = payloads.push(
        repo, [payloads.commit(repo, "1")], ref="refs/heads/gh-readonly-queue/main/pr-12-abc"
    )
    response = deliver(client_with(TRACKED_BRANCHES="*"), payloads.encode(body))
    assert response.json == {"status": "ignored", "reason": "merge-queue"}
    assert counts(runtime) == (1, 0)


def test_tag_creation_records_nothing(client: FlaskClient, runtime: Runtime) -> None:
    """Creating a tag is not a change to analyse."""
    repo = "acme/tags"
    body = payloads.push(
        repo,
        [payloads.commit(repo, "1")],
        ref="refs/tags/v1.0.0",
        before=payloads.ZERO,
        created=True,
    )
    assert deliver(client, payloads.encode(body)).json == {"status": "ignored", "reason": "tag"}
    assert counts(runtime) == (1, 0)


def test_new_branch_without_commits_needs_no_compare(
    client_with, runtime: Runtime, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """A new branch pointing at an existing commit brings nothing new and no compare walk."""
    repo = "acme/branches"
    body = payloads.push(repo, [], ref="refs/heads/release/2.0", before=payloads.ZERO, created=True)
    response = deliver(client_with(TRACKED_BRANCHES="release/*"), payloads.encode(body))
    assert (response.json["new"], response.json["fetching_missing"]) == (0, False)
    assert queued_tasks(settings) == []


def test_distinct_false_commits_are_recorded_once(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """A merge brings distinct: false commits; those already known are not queued again."""
    repo = "acme/merge"
    first = payloads.commit(repo, "1")
    deliver(client, payloads.encode(payloads.push(repo, [first])))
    merged = {**first, "distinct": False}
    response = deliver(
        client,
        payloads.encode(
            payloads.push(repo, [merged, payloads.commit(repo, "merge", "Merge branch x")])
        ),
    )
    assert (response.json["new"], response.json["known"]) == (1, 1)
    assert len(analysis_ids(settings)) == 2


def test_untracked_then_tracked_push_of_the_same_commit(
    client_with, runtime: Runtime, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """A commit first pushed to a feature branch is analysed when it lands on the default branch."""
    repo = "acme/flow"
    client = client_with()
    feature = payloads.commit(repo, "1")
    deliver(client, payloads.encode(payloads.push(repo, [feature], ref="refs/heads/feature/x")))
    assert counts(runtime) == (1, 0)
    deliver(client, payloads.encode(payloads.push(repo, [{**feature, "distinct": False}])))
    assert counts(runtime) == (2, 1)
    assert len(analysis_ids(settings)) == 1
