"""What each GitHub event does: a dispatch table with an explicit list of ignored events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog
from sqlalchemy import Connection

from commit_digest.commands import command_from_event, record_command
from commit_digest.intake import DeliveryInfo, mark_not_queued, record_other_event, record_push
from commit_digest.push import parse_push
from commit_digest.queueing import DISPATCH, RUN_COMMAND, publish
from commit_digest.runtime import Runtime

log = structlog.get_logger("webhook")

Answer = tuple[dict[str, Any], int]
Handler = Callable[[Runtime, DeliveryInfo, Mapping[str, Any]], Answer]

# Events a repository or organisation webhook commonly sends that commit-digest has no use for.
# Any other event is ignored the same way; this list only documents the expected ones.
IGNORED_EVENTS = frozenset(
    {
        "check_run",
        "check_suite",
        "create",
        "delete",
        "deployment",
        "deployment_status",
        "fork",
        "installation",
        "installation_repositories",
        "issue_comment",
        "issues",
        "label",
        "member",
        "meta",
        "pull_request",
        "pull_request_review",
        "pull_request_review_comment",
        "pull_request_review_thread",
        "release",
        "repository",
        "star",
        "status",
        "watch",
        "workflow_job",
        "workflow_run",
    }
)


def handle_ping(runtime: Runtime, info: DeliveryInfo, payload: Mapping[str, Any]) -> Answer:
    raw_hook = payload.get("hook")
    hook: Mapping[str, Any] = raw_hook if isinstance(raw_hook, Mapping) else {}
    raw_events = hook.get("events")
    events: list[Any] = raw_events if isinstance(raw_events, list) else []
    runtime.in_transaction(lambda connection: record_other_event(connection, info, "pong"))
    log.info(
        "webhook.ping",
        hook_id=payload.get("hook_id"),
        events=[e for e in events if isinstance(e, str)][:50],
        push_subscribed=bool({"push", "*"} & set(events)),
    )
    return {"status": "pong"}, 200


def handle_push(runtime: Runtime, info: DeliveryInfo, payload: Mapping[str, Any]) -> Answer:
    push = parse_push(payload)
    # one statement on PostgreSQL (the repository row aside, an idempotent upsert done once)
    outcome = runtime.in_single_statements(
        lambda connection: record_push(
            connection, runtime.settings, info, push, runtime.repositories
        )
    )
    fields = {"repository": push.repository.full_name, "ref": push.ref}
    if outcome.status == "duplicate":
        log.info("webhook.push.duplicate", **fields)
        return {"status": "duplicate"}, 200
    if outcome.status == "ignored":
        log.info("webhook.push.ignored", reason=outcome.reason, **fields)
        return {"status": "ignored", "reason": outcome.reason}, 202
    # Enqueue only after the commit: a worker must find the rows it is given. One message per
    # delivery whatever its size; the worker fans it out into one analysis per commit.
    queued = 0
    if outcome.commit_ids or outcome.fetch_missing:
        assert outcome.delivery_id is not None
        if runtime.publisher.publish(DISPATCH, outcome.delivery_id):
            queued = len(outcome.commit_ids)
        elif outcome.commit_ids:
            with runtime.connection() as connection:
                mark_not_queued(connection, list(outcome.commit_ids))
    runtime.metrics.count("commits_recorded", len(outcome.commit_ids), source="webhook")
    runtime.metrics.count("commits_queued", queued)
    log.info(
        "webhook.push.accepted",
        commits=len(push.commits),
        new=len(outcome.commit_ids),
        queued=queued,
        known=outcome.known,
        fetch_missing=outcome.fetch_missing,
        **fields,
    )
    return {
        "status": "accepted",
        "commits": len(push.commits),
        "new": len(outcome.commit_ids),
        "queued": queued,
        "known": outcome.known,
        "fetching_missing": outcome.fetch_missing,
    }, 202


def handle_ignored(runtime: Runtime, info: DeliveryInfo, payload: Mapping[str, Any]) -> Answer:
    log.info(
        "webhook.event.ignored", github_event=info.event, expected=info.event in IGNORED_EVENTS
    )
    return {"status": "ignored", "event": info.event}, 202


def handle_commit_comment(
    runtime: Runtime, info: DeliveryInfo, payload: Mapping[str, Any]
) -> Answer:
    """Record a ``/digest`` command and queue it; any other comment is acknowledged."""
    request = command_from_event(dict(payload))
    if isinstance(request, str):
        runtime.in_transaction(lambda connection: record_other_event(connection, info, "ignored"))
        log.info("webhook.comment.ignored", reason=request)
        return {"status": "ignored", "reason": request}, 202

    def record(connection: Connection) -> int | None:
        if not record_other_event(connection, info, "command"):
            return None
        return record_command(connection, request, info.received_at)

    run_id = runtime.in_transaction(record)
    if run_id is None:
        return {"status": "duplicate"}, 200
    queued = publish(runtime.celery, RUN_COMMAND, [run_id])
    log.info("webhook.comment.command", command=request.command.name, queued=bool(queued))
    return {"status": "accepted", "command": request.command.name}, 202


HANDLERS: dict[str, Handler] = {
    "ping": handle_ping,
    "push": handle_push,
    "commit_comment": handle_commit_comment,
}


def handler_for(event: str) -> Handler:
    return HANDLERS.get(event, handle_ignored)
