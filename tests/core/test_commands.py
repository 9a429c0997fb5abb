"""`/digest` commands in comments on a commit: parsed, permission-checked, answered in place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_analysis_flow import our_comments, patch, push_commit, wait_analysed

from commit_digest.commands import Command, parse_command
from commit_digest.models import Analysis, CommandRun, CommitOverride

from conftest import deliver
from support.processes import wait_for
from support.stack import LiveStack

FIXTURE = (
    Path(__file__).parents[1] / "fixtures/github/payloads/octokit__commit_comment__created.json"
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/digest importance high", Command("importance", "high")),
        ("Thanks!\n\n/DIGEST Importance LOW please", Command("importance", "low")),
        ("/digest reanalyze", Command("reanalyze")),
        ("/digest reanalyse", Command("reanalyze")),
        ("/digest ignore", Command("ignore")),
        ("/digest help", Command("help")),
        ("/digest", Command("help")),
        (
            "/digest importance huge",
            Command("help", problem="importance takes high, medium or low"),
        ),
        (
            "/digest delete-everything",
            Command("help", problem="unknown command 'delete-everything'"),
        ),
        ("This is a really good change! :+1:", None),
        ("see /digest/docs for more", None),
        ("`/digest` is a command", None),
    ],
)
def test_commands_are_parsed_from_the_first_digest_line(
    body: str, expected: Command | None
) -> None:
    """Only a line starting with /digest is a command; anything unknown asks for help."""
    assert parse_command(body) == expected


def comment_event(
    repo: str,
    sha: str,
    body: str,
    *,
    login: str = "Codertocat",
    kind: str = "User",
    comment_id: int,
) -> bytes:
    """The real captured commit_comment payload, pointed at our repository and commit."""
    payload: dict[str, Any] = json.loads(FIXTURE.read_text())
    payload["comment"].update(body=body, commit_id=sha, id=comment_id)
    payload["comment"]["user"].update(login=login, type=kind)
    payload["repository"]["full_name"] = repo
    payload["repository"]["name"] = repo.split("/")[1]
    payload["sender"]["login"] = login
    return json.dumps(payload).encode()


def comment_by(live: LiveStack, repo: str, sha: str, body: str, login: str) -> tuple[int, Any]:
    """Post a comment on the stand-in GitHub as ``login`` and deliver its event."""
    comment_id = live.github.add_comment(repo, sha, body, login=login)
    response = deliver(
        live.app.test_client(),
        comment_event(repo, sha, body, login=login, comment_id=comment_id),
        event="commit_comment",
    )
    return comment_id, response


def analysed_commit(live: LiveStack, repo: str) -> str:
    files = [
        {
            "filename": "src/cart.py",
            "status": "modified",
            "additions": 1,
            "deletions": 0,
            "patch": patch("total = round(total, 2)"),
        }
    ]
    sha = push_commit(live, repo, "refactor(cart): tidy the total", files)
    wait_analysed(live, repo)
    wait_for(lambda: our_comments(live, repo, sha), timeout=20, what="our comment")
    return sha


def run_outcome(live: LiveStack, comment_id: int) -> str | None:
    with live.runtime.session() as session:
        return session.execute(
            select(CommandRun.outcome).where(CommandRun.github_comment_id == comment_id)
        ).scalar_one_or_none()


def reactions_to(live: LiveStack, comment_id: int) -> list[str]:
    return [content for _, cid, content in live.github.reactions if cid == comment_id]


def test_a_writer_sets_the_importance_and_our_comment_says_so(
    live: LiveStack, unique_repo: str
) -> None:
    """`/digest importance high` from a writer: stored with who and when, a 👍, our comment edited."""
    sha = analysed_commit(live, unique_repo)
    live.github.set_permission(unique_repo, "lead-dev", "write")
    comment_id, response = comment_by(live, unique_repo, sha, "/digest importance high", "lead-dev")
    assert response.status_code == 202
    assert response.json == {"status": "accepted", "command": "importance"}
    wait_for(lambda: run_outcome(live, comment_id) == "done", timeout=20, what="the command run")
    [commit_id] = live.commit_ids(unique_repo)
    with live.runtime.session() as session:
        override = session.get(CommitOverride, commit_id)
        assert override is not None
        assert (override.importance, override.ignored, override.set_by) == (
            "high",
            False,
            "lead-dev",
        )
    assert reactions_to(live, comment_id) == ["+1"]
    wait_for(
        lambda: (
            "Importance set to **high** by `lead-dev`"
            in our_comments(live, unique_repo, sha)[0]["body"]
        ),
        timeout=20,
        what="our comment edited",
    )
    assert len(our_comments(live, unique_repo, sha)) == 1  # edited, never a second comment
    counters, _ = live.runtime.metrics.read()
    assert counters["commands|command=importance,outcome=done"] >= 1


def test_someone_without_write_access_is_refused_politely_once(
    live: LiveStack, unique_repo: str
) -> None:
    """A reader's commands change nothing; one note in our comment however often they try."""
    sha = analysed_commit(live, unique_repo)
    live.github.set_permission(unique_repo, "drive-by", "read")
    first, _ = comment_by(live, unique_repo, sha, "/digest ignore", "drive-by")
    wait_for(lambda: run_outcome(live, first) == "refused", timeout=20, what="refused")
    second, _ = comment_by(live, unique_repo, sha, "/digest importance low", "drive-by")
    stranger, _ = comment_by(live, unique_repo, sha, "/digest ignore", "not-a-collaborator")
    wait_for(lambda: run_outcome(live, second) == "refused", timeout=20, what="refused again")
    wait_for(lambda: run_outcome(live, stranger) == "refused", timeout=20, what="stranger refused")
    [commit_id] = live.commit_ids(unique_repo)
    with live.runtime.session() as session:
        assert session.get(CommitOverride, commit_id) is None
    assert reactions_to(live, first) == ["confused"]
    assert reactions_to(live, second) == ["confused"]

    def body() -> str:
        return str(our_comments(live, unique_repo, sha)[0]["body"])

    wait_for(lambda: "`not-a-collaborator`" in body(), timeout=20, what="the notes")
    assert body().count("Sorry `drive-by`") == 1
    assert "@drive-by" not in body()  # named as code: nobody is pinged


def test_our_own_comment_and_bots_never_run_commands(live: LiveStack, unique_repo: str) -> None:
    """A comment carrying our marker, or written by a bot, is acknowledged and ignored."""
    sha = analysed_commit(live, unique_repo)
    ours = our_comments(live, unique_repo, sha)[0]
    own = deliver(
        live.app.test_client(),
        comment_event(
            unique_repo,
            sha,
            ours["body"] + "\n/digest ignore",
            login="commit-digest-bot",
            comment_id=ours["id"],
        ),
        event="commit_comment",
    )
    bot = deliver(
        live.app.test_client(),
        comment_event(
            unique_repo, sha, "/digest ignore", login="renovate[bot]", kind="Bot", comment_id=99
        ),
        event="commit_comment",
    )
    plain = deliver(
        live.app.test_client(),
        comment_event(unique_repo, sha, "This is a really good change! :+1:", comment_id=98),
        event="commit_comment",
    )
    assert own.json == {"status": "ignored", "reason": "our own comment"}
    assert bot.json == {"status": "ignored", "reason": "a bot's comment"}
    assert plain.json == {"status": "ignored", "reason": "no command"}
    with live.runtime.session() as session:
        assert session.execute(select(CommandRun).where(CommandRun.sha == sha)).first() is None


def test_ignore_help_and_reanalyze(live: LiveStack, unique_repo: str) -> None:
    """`ignore` marks the commit, `help` lists the commands in our comment, `reanalyze` runs again."""
    sha = analysed_commit(live, unique_repo)
    live.github.set_permission(unique_repo, "maintainer", "admin")
    [commit_id] = live.commit_ids(unique_repo)
    requests_before = len(live.llm.requests)
    ignore, _ = comment_by(live, unique_repo, sha, "/digest ignore", "maintainer")
    helped, _ = comment_by(live, unique_repo, sha, "/digest help", "maintainer")
    again, _ = comment_by(live, unique_repo, sha, "/digest reanalyze", "maintainer")
    for comment_id in (ignore, helped, again):
        wait_for(lambda c=comment_id: run_outcome(live, c) == "done", timeout=20, what="done")
    with live.runtime.session() as session:
        assert session.get(CommitOverride, commit_id).ignored is True
    wait_for(lambda: len(live.llm.requests) > requests_before, timeout=30, what="a new analysis")

    def settled() -> bool:
        with live.runtime.session() as session:
            row = session.execute(
                select(Analysis).where(Analysis.commit_id == commit_id)
            ).scalar_one_or_none()
            return row is not None and not row.needs_reanalysis

    wait_for(settled, timeout=30, what="the analysis stored again")
    body = lambda: str(our_comments(live, unique_repo, sha)[0]["body"])  # noqa: E731
    wait_for(lambda: "`/digest importance high|medium|low`" in body(), timeout=20, what="help")
    assert "Left out of the daily report by `maintainer`" in body()
    assert reactions_to(live, helped) == ["eyes"]


def test_a_redelivered_comment_runs_once(live: LiveStack, unique_repo: str) -> None:
    """The same GitHub comment delivered twice (new delivery ids) is one command run."""
    sha = analysed_commit(live, unique_repo)
    live.github.set_permission(unique_repo, "lead-dev", "write")
    comment_id = live.github.add_comment(
        unique_repo, sha, "/digest importance low", login="lead-dev"
    )
    body = comment_event(
        unique_repo, sha, "/digest importance low", login="lead-dev", comment_id=comment_id
    )
    first = deliver(live.app.test_client(), body, event="commit_comment")
    second = deliver(live.app.test_client(), body, event="commit_comment")
    assert first.status_code == 202
    assert second.json == {"status": "duplicate"}
    wait_for(lambda: run_outcome(live, comment_id) == "done", timeout=20, what="done")
    assert reactions_to(live, comment_id) == ["+1"]


def test_corrections_export_as_labelled_examples(live: LiveStack, unique_repo: str) -> None:
    """An importance override comes out in the evaluation set's format, with the patches."""
    from commit_digest.labels import export_labels

    sha = analysed_commit(live, unique_repo)
    live.github.set_permission(unique_repo, "lead-dev", "write")
    comment_id, _ = comment_by(live, unique_repo, sha, "/digest importance medium", "lead-dev")
    wait_for(lambda: run_outcome(live, comment_id) == "done", timeout=20, what="done")
    [example] = [e for e in export_labels(live.runtime) if e["repo"] == unique_repo]
    assert example["sha"] == sha
    assert example["message"] == "refactor(cart): tidy the total"
    assert example["label_importance"] == "medium"
    assert example["files"] == [
        {
            "path": "src/cart.py",
            "status": "modified",
            "additions": 1,
            "deletions": 0,
            "patch": "@@ -0,0 +1,1 @@\n+total = round(total, 2)",
        }
    ]
    assert example["reason"].startswith("importance set by lead-dev on ")
    assert set(example) >= {"id", "url", "label_change_type", "label_breaking_change"}


def test_the_report_honours_importance_and_ignore(live: LiveStack, unique_repo: str) -> None:
    """An importance override shows in the report with who set it; an ignored commit is left out."""
    from commit_digest.reporting.build import build_report

    kept = analysed_commit(live, unique_repo)
    live.github.set_permission(unique_repo, "lead-dev", "write")
    first, _ = comment_by(live, unique_repo, kept, "/digest importance low", "lead-dev")
    wait_for(lambda: run_outcome(live, first) == "done", timeout=20, what="done")
    files = [
        {
            "filename": "docs/x.md",
            "status": "modified",
            "additions": 1,
            "deletions": 0,
            "patch": patch("words"),
        }
    ]
    dropped = push_commit(live, unique_repo, "docs: a commit people want left out", files)
    wait_analysed(live, unique_repo, count=2)
    second, _ = comment_by(live, unique_repo, dropped, "/digest ignore", "lead-dev")
    wait_for(lambda: run_outcome(live, second) == "done", timeout=20, what="done")
    from sqlalchemy import select as select_

    from commit_digest.models import Commit

    with live.runtime.session() as session:
        landed = session.execute(select_(Commit.landed_at).where(Commit.sha == kept)).scalar_one()
    day = landed.astimezone(live.settings.report_timezone).date()
    built = build_report(live.runtime, day, [unique_repo], "en")
    [repository] = built.data.repositories
    assert [e.sha for e in repository.entries] == [kept]
    assert repository.entries[0].analysis is not None
    assert repository.entries[0].analysis.importance.value == "low"
    assert "Importance set by `lead-dev` with /digest importance" in built.markdown
    assert "a commit people want left out" not in built.markdown
