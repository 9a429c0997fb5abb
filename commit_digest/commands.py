"""``/digest`` commands in comments on a commit: reanalyze, importance, ignore, help.

The web process records a command from a ``commit_comment`` delivery (``command_from_event``)
and queues it; the worker runs it once per GitHub comment (``run_command``). Only people
with write access to the repository (GitHub's own answer, asked each time) may change
anything; anyone else gets a ``confused`` reaction and, once per commit, a polite line in our
comment. The reply to a command is a reaction on it and an edit of our comment, never a new
comment. Our own comments (they carry our marker) and bots never run commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from commit_digest.errors import GitHubError
from commit_digest.models import Analysis, CommandRun, Commit, CommitOverride, Repository
from commit_digest.queueing import ANALYZE, publish
from commit_digest.runtime import Runtime
from commit_digest.storage import Executor, insert_ignoring_conflicts, upsert
from report.comment import MARKER_PREFIX

log = structlog.get_logger(__name__)

COMMANDS = ("reanalyze", "importance", "ignore", "help")
IMPORTANCE = ("high", "medium", "low")
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})
_LINE = re.compile(r"^\s*/digest\b(?P<rest>[^\n]*)$", re.MULTILINE | re.IGNORECASE)
_ALIASES = {"reanalyse": "reanalyze", "re-analyze": "reanalyze", "unignore": "ignore"}


@dataclass(frozen=True)
class Command:
    """One parsed command: its name, its argument, and the problem if it is not one we know."""

    name: str
    argument: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class CommandRequest:
    """A command as it arrived: who said it, where, in which comment."""

    command: Command
    repository: str
    sha: str
    login: str
    comment_id: int
    installation_id: int | None


def parse_command(body: str) -> Command | None:
    """The first ``/digest`` line of a comment, or None when the comment holds none."""
    found = _LINE.search(body)
    if found is None:
        return None
    words = found["rest"].split()
    if not words:
        return Command("help")
    name = _ALIASES.get(words[0].lower(), words[0].lower())
    argument = words[1].lower() if len(words) > 1 else None
    if name not in COMMANDS:
        return Command("help", problem=f"unknown command {words[0][:32]!r}")
    if name == "importance" and argument not in IMPORTANCE:
        return Command("help", problem="importance takes high, medium or low")
    return Command(name, argument if name == "importance" else None)


def command_from_event(payload: dict[str, Any]) -> CommandRequest | str:
    """The command a ``commit_comment`` delivery carries, or why it carries none."""
    if payload.get("action") != "created":
        return "not a new comment"
    comment = payload.get("comment")
    repository = payload.get("repository")
    if not isinstance(comment, dict) or not isinstance(repository, dict):
        return "no comment"
    body = comment.get("body")
    raw_user = comment.get("user")
    user: dict[str, Any] = raw_user if isinstance(raw_user, dict) else {}
    if not isinstance(body, str):
        return "no comment"
    if MARKER_PREFIX in body:
        return "our own comment"
    if user.get("type") == "Bot":
        return "a bot's comment"
    command = parse_command(body)
    if command is None:
        return "no command"
    sha, login, comment_id = comment.get("commit_id"), user.get("login"), comment.get("id")
    full_name = repository.get("full_name")
    if not (
        isinstance(sha, str)
        and re.fullmatch(r"[0-9a-f]{40}", sha)
        and isinstance(login, str)
        and isinstance(comment_id, int)
        and isinstance(full_name, str)
    ):
        return "no comment"
    installation = payload.get("installation")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    return CommandRequest(
        command=command,
        repository=full_name,
        sha=sha,
        login=login,
        comment_id=comment_id,
        installation_id=installation_id if isinstance(installation_id, int) else None,
    )


def record_command(session: Executor, request: CommandRequest, now: datetime) -> int | None:
    """Store the command once per GitHub comment; None when it was already recorded."""
    inserted = session.execute(
        insert_ignoring_conflicts(session, CommandRun)
        .values(
            github_comment_id=request.comment_id,
            repository=request.repository,
            sha=request.sha,
            login=request.login,
            command=request.command.name,
            argument=request.command.argument,
            installation_id=request.installation_id,
            outcome="queued",
            created_at=now,
        )
        .returning(CommandRun.id)
    ).first()
    return inserted[0] if inserted is not None else None


def run_command(rt: Runtime, run_id: int) -> str:
    """Run one recorded command (once); return its outcome."""
    with rt.session() as session:
        run = session.get(CommandRun, run_id)
        if run is None or run.outcome != "queued":
            return run.outcome if run is not None else "missing"
        commit_id = session.execute(
            select(Commit.id)
            .join(Repository, Repository.id == Commit.repository_id)
            .where(Repository.full_name == run.repository, Commit.sha == run.sha)
        ).scalar_one_or_none()
        repository, login, comment_id = run.repository, run.login, run.github_comment_id
        name, argument = run.command, run.argument
        github = rt.github(run.installation_id)
    try:
        permission = github.collaborator_permission(repository, login)
    except GitHubError:  # 404: not a collaborator at all
        permission = "none"
    if permission not in WRITE_PERMISSIONS:
        github.react_to_commit_comment(repository, comment_id, "confused")
        outcome = "refused"
    elif commit_id is None:
        github.react_to_commit_comment(repository, comment_id, "confused")
        outcome = "unknown-commit"
    else:
        outcome = _apply(rt, commit_id, name, argument, login)
        github.react_to_commit_comment(repository, comment_id, "eyes" if name == "help" else "+1")
    with rt.session() as session:
        session.execute(
            update(CommandRun)
            .where(CommandRun.id == run_id)
            .values(outcome=outcome, done_at=datetime.now(UTC))
        )
    rt.metrics.count("commands", command=name, outcome=outcome)
    log.info("command.ran", command=name, outcome=outcome, permission=permission)
    if commit_id is not None and outcome in ("done", "refused"):
        from commit_digest.analysis.comments import comments_enabled, send_comment_task

        if comments_enabled(rt):
            send_comment_task(rt, commit_id)  # our comment shows the override or the note
    return outcome


def comment_notes(session: Session, repository: str, sha: str) -> tuple[bool, tuple[str, ...]]:
    """For our comment: whether help was asked, and the logins refused (once each)."""
    runs = session.execute(
        select(CommandRun.command, CommandRun.login, CommandRun.outcome)
        .where(CommandRun.repository == repository, CommandRun.sha == sha)
        .order_by(CommandRun.id)
    ).all()
    helped = any(command == "help" and outcome == "done" for command, _, outcome in runs)
    refused = tuple(dict.fromkeys(login for _, login, outcome in runs if outcome == "refused"))
    return helped, refused


def override_of(session: Session, commit_id: int) -> CommitOverride | None:
    return session.get(CommitOverride, commit_id)


def _apply(rt: Runtime, commit_id: int, name: str, argument: str | None, login: str) -> str:
    now = datetime.now(UTC)
    with rt.session() as session:
        if name == "importance":
            values: dict[str, Any] = {"importance": argument, "set_by": login, "set_at": now}
            upsert(
                session,
                CommitOverride,
                {"commit_id": commit_id, "ignored": False, **values},
                ["commit_id"],
                values,
            )
        elif name == "ignore":
            values = {"ignored": True, "set_by": login, "set_at": now}
            upsert(
                session, CommitOverride, {"commit_id": commit_id, **values}, ["commit_id"], values
            )
        elif name == "reanalyze":
            has_analysis = session.execute(
                select(exists().where(Analysis.commit_id == commit_id))
            ).scalar_one()
            if has_analysis:
                session.execute(
                    update(Analysis)
                    .where(Analysis.commit_id == commit_id)
                    .values(needs_reanalysis=True)
                )
            session.execute(update(Commit).where(Commit.id == commit_id).values(queued_at=now))
    if name == "reanalyze":
        publish(rt.celery, ANALYZE, [commit_id])
    return "done"
