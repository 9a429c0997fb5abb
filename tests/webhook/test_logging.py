"""Log lines of the webhook: named events with fields, never payloads or secrets."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from structlog.testing import capture_logs

from conftest import SECRET, deliver, payload_bytes


def test_push_logs_one_accepted_line_with_fields(client: FlaskClient) -> None:
    """An accepted push logs one line with repository, ref and counts, bound to the delivery."""
    with capture_logs() as logs:
        deliver(client, payload_bytes("octokit__push__with-new-branch.json"), delivery="log-1")
    accepted = [e for e in logs if e["event"] == "webhook.push.accepted"]
    assert len(accepted) == 1
    assert {
        k: accepted[0][k] for k in ("repository", "ref", "commits", "new", "queued", "known")
    } == {
        "repository": "Codertocat/Hello-World",
        "ref": "refs/heads/master",
        "commits": 1,
        "new": 1,
        "queued": 1,
        "known": 0,
    }


def test_ignored_event_logs_one_line(client: FlaskClient) -> None:
    """An event we do not use is logged once, with its name."""
    with capture_logs() as logs:
        deliver(client, b'{"action": "created"}', event="star")
    assert [(e["event"], e["github_event"], e["expected"]) for e in logs] == [
        ("webhook.event.ignored", "star", True)
    ]


def test_ping_logs_hook_id_and_events(client: FlaskClient) -> None:
    """A ping logs the hook id and the events it subscribes to."""
    with capture_logs() as logs:
        deliver(client, payload_bytes("octokit__ping__payload.json"), event="ping")
    [ping] = [e for e in logs if e["event"] == "webhook.ping"]
    assert (ping["hook_id"], ping["events"], ping["push_subscribed"]) == (109948940, ["*"], True)


def test_logs_hold_no_payload_or_secret(client: FlaskClient) -> None:
    """Neither the secret, the signature, nor commit messages or emails appear in any log line."""
    body = payload_bytes("octokit__push__with-new-branch.json")
    with capture_logs() as logs:
        deliver(client, body)
        deliver(client, body, secret="wrong-secret")
    text = json.dumps(logs, default=str)
    for forbidden in (
        SECRET,
        "wrong-secret",
        "sha256=",
        "Initial commit",
        "@users.noreply.github.com",
    ):
        assert forbidden not in text
