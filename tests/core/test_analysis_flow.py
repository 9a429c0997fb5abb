"""Analysis on real processes: worker → stand-in GitHub (PyGithub) → stand-in LLM (openai SDK)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from commit_digest.models import Analysis, Commit, CommitComment, Repository

from conftest import deliver
from support import payloads
from support.processes import wait_for
from support.stack import LiveStack

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
GITHUB_PAT = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2  # 40 characters: ghp_ + 36
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq9\n-----END RSA PRIVATE KEY-----"


def patch(*lines: str) -> str:
    body = "\n".join(f"+{line}" for line in lines)
    return f"@@ -0,0 +1,{len(lines)} @@\n{body}"


def push_commit(
    live: LiveStack, repo: str, message: str, files: list[dict[str, Any]], **options: Any
) -> str:
    """Put a commit on the stand-in GitHub and deliver its push; return the sha."""
    sha = live.github.add_commit(repo, message=message, files=files, **options)
    commit = payloads.commit(repo, sha, message, added=[f["filename"] for f in files], modified=[])
    commit["id"] = sha
    response = deliver(
        live.app.test_client(), payloads.encode(payloads.push(repo, [commit], after=sha))
    )
    assert response.status_code == 202, response.json
    return sha


def stored(live: LiveStack, repo: str) -> list[Analysis]:
    with live.runtime.session() as session:
        return list(
            session.execute(
                select(Analysis)
                .join(Commit)
                .join(Repository)
                .where(Repository.full_name == repo)
                .order_by(Commit.id)
            ).scalars()
        )


def wait_analysed(
    live: LiveStack, repo: str, count: int = 1, timeout: float = 40
) -> list[Analysis]:
    wait_for(
        lambda: len(stored(live, repo)) >= count,
        timeout=timeout,
        what=f"{count} analyses of {repo}",
    )
    return stored(live, repo)


def comment_state(live: LiveStack, commit_id: int) -> str | None:
    with live.runtime.session() as session:
        row = session.get(CommitComment, commit_id)
        return row.state if row else None


def our_comments(live: LiveStack, repo: str, sha: str) -> list[Any]:
    return [c for c in live.github.comments(repo, sha) if "<!-- commit-digest:" in c["body"]]


def test_llm_analysis_is_stored_with_usage_and_commented_once(
    live: LiveStack, unique_repo: str
) -> None:
    """A commit is fetched, redacted, analysed by the LLM, stored with usage, and commented on once."""
    files = [
        {
            "filename": "src/app/config.py",
            "status": "modified",
            "additions": 3,
            "deletions": 0,
            "patch": patch(
                f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"', f'TOKEN = "{GITHUB_PAT}"', "DEBUG = False"
            ),
        },
        {
            "filename": "deploy/key.pem",
            "status": "added",
            "additions": 3,
            "deletions": 0,
            "patch": patch(*PRIVATE_KEY.splitlines()),
        },
        {"filename": "assets/logo.png", "status": "added", "additions": 0, "deletions": 0},
    ]
    sha = push_commit(
        live, unique_repo, f"fix(config): read keys from the vault\n\nold key was {AWS_KEY}", files
    )
    [analysis] = wait_analysed(live, unique_repo)
    assert (analysis.analyzer, analysis.source, analysis.model, analysis.prompt_version) == (
        "llm",
        "github",
        "gpt-4o-mini",
        "v3",
    )
    assert (analysis.change_type, analysis.importance) == ("bugfix", "high")
    assert analysis.tokens_in > 0
    assert analysis.tokens_out > 0
    assert analysis.cost_usd > 0
    assert analysis.redactions >= 4
    assert (analysis.files_total, analysis.fallback_reason, analysis.needs_reanalysis) == (
        3,
        None,
        False,
    )

    sent = json.dumps(live.llm.requests)
    for secret in (AWS_KEY, GITHUB_PAT, "MIIEpAIBAAKCAQEA7bq9"):
        assert secret not in sent
    assert "[REDACTED:" in sent

    wait_for(lambda: our_comments(live, unique_repo, sha), timeout=20, what="the comment")
    [comment] = our_comments(live, unique_repo, sha)
    assert f"<!-- commit-digest:{sha} -->" in comment["body"]
    [commit_id] = live.commit_ids(unique_repo)

    def recorded() -> tuple[str, int | None] | None:
        with live.runtime.session() as session:
            row = session.get(CommitComment, commit_id)
            settled = row and row.state not in ("queued", "posting")
            return (row.state, row.github_comment_id) if settled else None

    assert wait_for(recorded, timeout=10, what="the comment row") == ("created", comment["id"])


def test_files_are_paged_past_300(live: LiveStack, unique_repo: str) -> None:
    """A commit of 750 files is read in full through GitHub's 300-file pages."""
    files = [
        {
            "filename": f"src/module_{n}.py",
            "status": "modified",
            "additions": 1,
            "deletions": 1,
            "patch": f"@@ -1 +1 @@\n-old_{n} = 1\n+new_{n} = 2",
        }
        for n in range(750)
    ]
    push_commit(live, unique_repo, "refactor: rename every module constant", files)
    [analysis] = wait_analysed(live, unique_repo)
    assert analysis.files_total == 750
    assert analysis.lines_total == 1500
    assert analysis.files_analysed < 750  # the budget could not hold them all …
    assert analysis.omitted  # … and says which it left out


def test_commit_gone_is_analysed_from_the_delivery(live: LiveStack, unique_repo: str) -> None:
    """A commit GitHub answers 404 for (force-pushed away) is analysed from what the push carried."""
    commit = payloads.commit(
        unique_repo, "gone", "feat: lost in a force push", added=["src/new.py"], modified=[]
    )
    deliver(live.app.test_client(), payloads.encode(payloads.push(unique_repo, [commit])))
    [analysis] = wait_analysed(live, unique_repo)
    assert (analysis.source, analysis.analyzer, analysis.fallback_reason) == (
        "delivery",
        "llm",
        "commit no longer on GitHub",
    )


def test_llm_rate_limit_is_retried_after_retry_after(live: LiveStack, unique_repo: str) -> None:
    """A 429 with Retry-After: 1 is waited out by a Celery retry, then the LLM answers."""
    live.llm.respond_status(429, headers={"Retry-After": "1"})
    push_commit(
        live,
        unique_repo,
        "feat: throttled",
        [
            {
                "filename": "src/a.py",
                "status": "added",
                "additions": 1,
                "deletions": 0,
                "patch": patch("x = 1"),
            }
        ],
    )
    [analysis] = wait_analysed(live, unique_repo)
    assert analysis.analyzer == "llm"
    assert len(live.llm.requests) == 2


def test_cut_off_answer_is_retried_with_a_smaller_budget(live: LiveStack, unique_repo: str) -> None:
    """finish_reason=length makes the next request carry a smaller prompt."""
    live.llm.respond_length()
    big = [
        {
            "filename": f"src/m{n}.py",
            "status": "modified",
            "additions": 8,
            "deletions": 0,
            "patch": patch(
                *(f"value_{n}_{i} = compute({i}, 'some argument text')" for i in range(8))
            ),
        }
        for n in range(40)
    ]
    push_commit(live, unique_repo, "feat: big change", big)
    [analysis] = wait_analysed(live, unique_repo)
    assert analysis.analyzer == "llm"
    first, second = (len(json.dumps(r)) for r in live.llm.requests)
    assert second < first


def test_unusable_output_falls_back_to_heuristics(live: LiveStack, unique_repo: str) -> None:
    """Invalid JSON and schema violations on every budget end in a heuristic analysis, marked."""
    live.llm.respond_invalid_json()
    live.llm.respond_schema_violation()
    live.llm.respond_invalid_json()
    push_commit(
        live,
        unique_repo,
        "fix: confusing",
        [
            {
                "filename": "src/a.py",
                "status": "modified",
                "additions": 1,
                "deletions": 1,
                "patch": "@@ -1 +1 @@\n-a\n+b",
            }
        ],
    )
    [analysis] = wait_analysed(live, unique_repo)
    assert (analysis.analyzer, analysis.fallback_reason, analysis.needs_reanalysis) == (
        "heuristic",
        "LLM output unusable",
        False,
    )
    assert len(live.llm.requests) == 3


def test_llm_down_falls_back_then_is_reanalysed(live: LiveStack, unique_repo: str) -> None:
    """After LLM_RETRIES failures the commit gets a heuristic analysis marked for re-analysis."""
    for _ in range(3):  # the first try and LLM_RETRIES=2 retries
        live.llm.respond_status(500)
    push_commit(
        live,
        unique_repo,
        "feat: during an outage",
        [
            {
                "filename": "src/a.py",
                "status": "added",
                "additions": 1,
                "deletions": 0,
                "patch": patch("a = 1"),
            }
        ],
    )
    [analysis] = wait_analysed(live, unique_repo)
    assert (analysis.analyzer, analysis.fallback_reason, analysis.needs_reanalysis) == (
        "heuristic",
        "LLM unavailable",
        True,
    )


def test_github_rate_limit_is_waited_out(live: LiveStack, unique_repo: str) -> None:
    """A 403 with x-ratelimit-remaining: 0 is retried after the reset, not hammered."""
    live.github.fail_rate_limited("GET", rf"/repos/{unique_repo}/commits/[0-9a-f]+$", reset_in=2)
    push_commit(
        live,
        unique_repo,
        "feat: limited",
        [
            {
                "filename": "src/a.py",
                "status": "added",
                "additions": 1,
                "deletions": 0,
                "patch": patch("a = 1"),
            }
        ],
    )
    [analysis] = wait_analysed(live, unique_repo)
    assert analysis.source == "github"
    gets = live.github.requests_to("GET", rf"/repos/{unique_repo}/commits/[0-9a-f]+$")
    assert len(gets) == 2


def test_reanalysis_edits_the_existing_comment(live: LiveStack, unique_repo: str) -> None:
    """Posting the comment twice leaves one comment, edited in place."""
    from commit_digest.analysis.comments import publish_comment

    sha = push_commit(
        live,
        unique_repo,
        "fix: once",
        [
            {
                "filename": "src/a.py",
                "status": "modified",
                "additions": 1,
                "deletions": 1,
                "patch": "@@ -1 +1 @@\n-a\n+b",
            }
        ],
    )
    wait_for(lambda: our_comments(live, unique_repo, sha), timeout=30, what="the comment")
    [commit_id] = live.commit_ids(unique_repo)
    with live.runtime.session() as session:
        session.execute(
            Analysis.__table__.update()
            .where(Analysis.commit_id == commit_id)
            .values(body={**stored(live, unique_repo)[0].body, "summary": "A corrected summary."})
        )
    outcome = publish_comment(live.runtime, commit_id)
    assert outcome.status == "edited"
    [comment] = our_comments(live, unique_repo, sha)
    assert "A corrected summary." in comment["body"]


def test_duplicate_comments_from_a_retried_post_are_removed(
    live: LiveStack, unique_repo: str
) -> None:
    """If a comment of ours already appears twice (a POST retried behind our back), one is left."""
    from commit_digest.analysis.comments import publish_comment

    sha = push_commit(
        live,
        unique_repo,
        "fix: twice",
        [
            {
                "filename": "src/a.py",
                "status": "modified",
                "additions": 1,
                "deletions": 1,
                "patch": "@@ -1 +1 @@\n-a\n+b",
            }
        ],
    )
    [commit_id] = live.commit_ids(unique_repo)
    # the worker looks again right after its POST (and removes a duplicate it sees then):
    # the second comment is added once its run is over
    wait_for(lambda: comment_state(live, commit_id) == "created", timeout=30, what="the comment")
    [first] = our_comments(live, unique_repo, sha)
    # our own account posted it twice (the token's user of the live stack)
    live.github.add_comment(unique_repo, sha, first["body"], login="commit-digest-bot")
    assert len(our_comments(live, unique_repo, sha)) == 2
    outcome = publish_comment(live.runtime, commit_id)
    assert (outcome.status, outcome.duplicates_removed, outcome.comment_id) == (
        "unchanged",
        1,
        first["id"],
    )
    assert [c["id"] for c in our_comments(live, unique_repo, sha)] == [first["id"]]


def test_mentions_html_and_links_are_neutralised_in_the_comment(
    live: LiveStack, unique_repo: str
) -> None:
    """Model output with @mentions, HTML and links reaches GitHub as inert text."""
    hostile = {
        "change_type": "bugfix",
        "importance": "high",
        "summary": "Ping @octocat and see #12 <img src=x onerror=alert(1)> [x](javascript:alert(1)) https://evil.example",
        "impact_scope": [{"area": "src/a.py", "note": "cc @admins"}],
        "insights": {
            "architecture": "",
            "performance": "",
            "security": "<script>x</script>",
            "compatibility": "",
        },
        "risks": [],
        "recommendations": [],
        "breaking_change": False,
    }
    live.llm.respond_valid(hostile)
    sha = push_commit(
        live,
        unique_repo,
        "fix: @everyone look",
        [
            {
                "filename": "src/a.py",
                "status": "modified",
                "additions": 1,
                "deletions": 1,
                "patch": "@@ -1 +1 @@\n-a\n+b",
            }
        ],
    )
    wait_for(lambda: our_comments(live, unique_repo, sha), timeout=30, what="the comment")
    body = our_comments(live, unique_repo, sha)[0]["body"]
    for live_text in (
        "@octocat",
        "@admins",
        "#12",
        "<img",
        "<script",
        "](javascript:",
        "https://evil",
    ):
        assert live_text not in body
    assert "@\u200boctocat" in body


def test_landing_time_is_the_push_time(live: LiveStack, unique_repo: str) -> None:
    """The commit lands at repository.pushed_at, whatever its own timestamp says."""
    pushed = datetime(2026, 2, 3, 16, 30, tzinfo=UTC)
    commit = payloads.commit(
        unique_repo, "old", "chore: old commit", timestamp=datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    )
    deliver(
        live.app.test_client(),
        payloads.encode(payloads.push(unique_repo, [commit], pushed_at=pushed)),
    )
    wait_analysed(live, unique_repo)
    with live.runtime.session() as session:
        landed = session.execute(
            select(Commit.landed_at).join(Repository).where(Repository.full_name == unique_repo)
        ).scalar_one()
    assert landed == pushed


def test_force_push_with_no_listed_commits_is_walked(live: LiveStack, unique_repo: str) -> None:
    """commits: [] while before..after moved: the compare walk records and analyses the new ones."""
    base = live.github.add_commit(unique_repo, message="chore: base", files=[])
    new = [
        live.github.add_commit(
            unique_repo,
            message=f"feat: pushed without a list {n}",
            files=[
                {
                    "filename": f"src/n{n}.py",
                    "status": "added",
                    "additions": 1,
                    "deletions": 0,
                    "patch": "@@ -0,0 +1 @@\n+n",
                }
            ],
        )
        for n in range(2)
    ]
    body = payloads.push(unique_repo, [], before=base, after=new[-1], forced=True)
    response = deliver(live.app.test_client(), payloads.encode(body))
    assert (response.json["new"], response.json["fetching_missing"]) == (0, True)
    analyses = wait_analysed(live, unique_repo, 2)
    with live.runtime.session() as session:
        rows = session.execute(
            select(Commit.sha, Commit.source)
            .join(Repository)
            .where(Repository.full_name == unique_repo)
            .order_by(Commit.id)
        ).all()
    assert [tuple(r) for r in rows] == [(new[0], "compare"), (new[1], "compare")]
    assert len(analyses) == 2


def test_someone_elses_comment_with_our_marker_is_never_touched(
    live: LiveStack, unique_repo: str
) -> None:
    """A comment by another account that carries our marker is neither edited nor deleted."""
    from report.comment import marker_for

    sha = live.github.add_commit(unique_repo, message="fix: x", files=[])
    planted = live.github.add_comment(
        unique_repo, sha, f"{marker_for(sha)}\nplanted by someone else", login="mallory"
    )
    commit = payloads.commit(unique_repo, sha, "fix: x", added=[], modified=["src/x.py"])
    commit["id"] = sha
    deliver(
        live.app.test_client(), payloads.encode(payloads.push(unique_repo, [commit], after=sha))
    )
    wait_for(
        lambda: any(
            c["login"] == "commit-digest-bot" for c in our_comments(live, unique_repo, sha)
        ),
        timeout=30,
        what="our own comment",
    )
    theirs = [c for c in live.github.comments(unique_repo, sha) if c["id"] == planted]
    assert [c["body"] for c in theirs] == [f"{marker_for(sha)}\nplanted by someone else"]
