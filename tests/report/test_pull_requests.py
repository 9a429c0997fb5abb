"""Pull requests in the report: looked up by the worker, stored, grouped under in the report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from test_daily_report import a_day, local_noon

from commit_digest.analysis.claims import PULL_TITLE_LIMIT, store_pull
from commit_digest.analysis.github import PullRef, chosen_pull
from commit_digest.models import Commit, Repository
from commit_digest.reporting.build import build_report
from commit_digest.runtime import Runtime
from report.render import render_markdown

from conftest import deliver
from support import payloads
from support.sample_day import sample_day
from support.stack import LiveStack

SHA = "a" * 40


def pull(number: int, *, merged_at: str | None, merge_commit_sha: str | None = None) -> Any:
    return {
        "number": number,
        "title": f"PR {number}",
        "html_url": f"https://github.com/acme/app/pull/{number}",
        "merged_at": merged_at,
        "merge_commit_sha": merge_commit_sha,
    }


def test_the_pull_a_commit_came_in_through_is_chosen_as_github_lists_them() -> None:
    """Its own merge/squash commit first, then the earliest merged PR, then an open one."""
    assert chosen_pull([], SHA) is None
    assert chosen_pull([{"title": "no number"}], SHA) is None
    open_only = chosen_pull([pull(9, merged_at=None), pull(7, merged_at=None)], SHA)
    assert open_only == PullRef(7, "PR 7", "https://github.com/acme/app/pull/7", merged=False)
    merged = chosen_pull(
        [
            pull(3, merged_at=None),
            pull(8, merged_at="2026-02-03T10:00:00Z"),
            pull(5, merged_at="2026-02-03T09:00:00Z"),
        ],
        SHA,
    )
    assert merged is not None
    assert (merged.number, merged.merged) == (5, True)
    own = chosen_pull(
        [
            pull(5, merged_at="2026-02-03T09:00:00Z"),
            pull(12, merged_at="2026-02-04T09:00:00Z", merge_commit_sha=SHA),
        ],
        SHA,
    )
    assert own is not None
    assert own.number == 12


def test_commits_of_one_pull_request_are_grouped_under_it() -> None:
    """The rebase-merged PR lists both its commits; squash commits do not repeat their title."""
    text = render_markdown(sample_day(), "en")
    pulls = text.split('id="r-ai-dynamo-dynamo-pulls"></a>', 1)[1].split("\n### ", 1)[0]
    assert pulls.startswith("🔀 Pull requests (4)")
    rebased = next(line for line in pulls.splitlines() if "[#5880]" in line)
    assert "2 commits" in rebased
    # every SHA links to its commit on GitHub
    assert "[`6720dfb`](https://github.com/ai-dynamo/dynamo/commit/6720dfb65820" in rebased
    assert "[`df4cd19`](https://github.com/ai-dynamo/dynamo/commit/df4cd1914a42" in rebased
    # the title is escaped as text, its code span kept as code
    assert "`Option<&str>` in &lt;b&gt;examples&lt;/b&gt;" in rebased
    squash = next(line for line in text.splitlines() if line.startswith("**SHA**: `3b9b3f3`"))
    assert squash.endswith("| 🔀 [#5899](https://github.com/ai-dynamo/dynamo/pull/5899)")
    assert "- [🔀 Pull requests (4)](#r-ai-dynamo-dynamo-pulls)" in text


def test_a_day_without_pull_requests_has_no_such_section() -> None:
    """Commits pushed straight to the branch: no empty PR section, no PR links."""
    report = sample_day()
    plain = replace(
        report,
        repositories=tuple(
            replace(r, entries=tuple(replace(e, pull=None) for e in r.entries))
            for r in report.repositories
        ),
    )
    text = render_markdown(plain, "zh-CN")
    assert "-pulls" not in text
    assert "🔀" not in text


def test_the_worker_stores_each_commits_pull_request(live: LiveStack, unique_repo: str) -> None:
    """GitHub's commit → pulls answer is fetched once by the worker, stored, and the report
    groups a rebase-merged PR's two commits under it, without asking GitHub while rendering."""
    day = a_day()
    commits = [
        payloads.commit(unique_repo, f"pr-{n}", f"feat: step {n}", timestamp=local_noon(day))
        for n in range(3)
    ]
    for c in commits:
        live.github.add_commit(unique_repo, sha=c["id"], message=c["message"])
    live.github.add_pull(
        unique_repo, 41, "Add the steps `Vec<T>`", [commits[0]["id"], commits[1]["id"]]
    )
    deliver(
        live.app.test_client(),
        payloads.encode(payloads.push(unique_repo, commits, pushed_at=local_noon(day))),
    )
    live.wait_for_analyses(unique_repo, 3)
    asked = len(live.github.requests_to("GET", r"/commits/[0-9a-f]+/pulls"))
    built = build_report(live.runtime, day, [unique_repo], language="en")
    assert len(live.github.requests_to("GET", r"/commits/[0-9a-f]+/pulls")) == asked
    group = next(line for line in built.markdown.splitlines() if line.startswith("- [#41]"))
    assert f"(https://github.com/{unique_repo}/pull/41) Add the steps `Vec<T>` — 2 commits" in group
    for c in commits[:2]:
        assert c["id"][:7] in group
    assert commits[2]["id"][:7] not in group
    third = next(
        line
        for line in built.markdown.splitlines()
        if line.startswith(f"**SHA**: `{commits[2]['id'][:7]}`")
    )
    assert "🔀" not in third
    assert 'href="https://github.com/' + unique_repo + '/pull/41"' in built.html_body


def test_a_pull_title_with_a_nul_byte_is_stored_on_both_databases(runtime: Runtime) -> None:
    """PostgreSQL's text refuses NUL: the title is stored like commit text (NUL as ␀), and a
    title past the limit is cut, so the analysis is never lost over its PR."""
    now = datetime.now(UTC)
    with runtime.session() as session:
        repo = session.execute(
            insert(Repository)
            .values(full_name="octo/pulls", created_at=now)
            .returning(Repository.id)
        ).scalar_one()
        commit = session.execute(
            insert(Commit)
            .values(
                repository_id=repo,
                sha="f" * 40,
                message="m",
                landed_at=now,
                source="webhook",
                created_at=now,
                attempts=0,
            )
            .returning(Commit.id)
        ).scalar_one()
        store_pull(
            session,
            commit,
            PullRef(7, "fix\x00" + "x" * 1_000, "https://github.com/o/r/pull/7", merged=True),
        )
    with runtime.session() as session:
        title, number = session.execute(
            select(Commit.pull_title, Commit.pull_number).where(Commit.id == commit)
        ).one()
    assert number == 7
    assert title.startswith("fix\u2400x")
    assert len(title) == PULL_TITLE_LIMIT
