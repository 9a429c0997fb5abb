"""Log lines of the webhook: named events with fields, never payloads or secrets."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import structlog
from flask.testing import FlaskClient
from structlog.testing import capture_logs

from commit_digest.logs import configure_logging

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


def _lines_written(long_lived: bool, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Configure JSON logging one way, log through structlog and the standard library."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("info", "json", long_lived=long_lived)
    try:
        structlog.contextvars.bind_contextvars(delivery="d-1")
        logger = structlog.get_logger("webhook")
        logger.info("webhook.push.accepted", commits=3, api_token="t0ps3cret")
        logger.debug("webhook.hidden")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("webhook.failed")
        logging.getLogger("gunicorn.error").warning("from the standard library")
    finally:
        structlog.contextvars.unbind_contextvars("delivery")
        structlog.configure(**saved)
        root.handlers[:], root.level = handlers, level
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_web_process_lines_are_the_lines_of_every_other_process(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The web process writes structlog's lines directly; they read exactly as the others'.

    Same keys, the logger's name, the bound delivery, secrets redacted, the level filter, the
    traceback rendered, and the standard library's lines still out in the same format.
    """
    lines = {
        mode: _lines_written(mode, capsys) for mode in (False, True)
    }  # stdlib bridge, direct writer
    for records in lines.values():
        assert [r["event"] for r in records] == [
            "webhook.push.accepted",
            "webhook.failed",
            "from the standard library",
        ]
        accepted, failed, foreign = records
        assert accepted["logger"] == "webhook"
        assert accepted["level"] == "info"
        assert accepted["delivery"] == "d-1"
        assert accepted["api_token"] == "[redacted]"
        assert "ValueError: boom" in failed["exception"]
        assert foreign["logger"] == "gunicorn.error"
    plain = [{k: v for k, v in r.items() if k != "timestamp"} for r in lines[False]]
    direct = [{k: v for k, v in r.items() if k != "timestamp"} for r in lines[True]]
    assert plain == direct
