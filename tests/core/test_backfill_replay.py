"""`commit-digest backfill` and `commit-digest replay` against the stand-in GitHub."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from commit_digest.cli import main
from commit_digest.models import Analysis, Commit, Repository

from conftest import deliver
from support import payloads
from support.stack import LiveStack


@pytest.fixture
def cli(live: LiveStack, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name, value in live.env.items():
        monkeypatch.setenv(name, value)
    return CliRunner()


def llm_calls_for(live: LiveStack, repo: str) -> int:
    return sum(1 for r in list(live.llm.requests) if repo in json.dumps(r))


def test_backfill_analyses_exactly_the_missing_commits(
    live: LiveStack, unique_repo: str, cli: CliRunner
) -> None:
    """Commits that never came are analysed; a known one is not; a second run does nothing."""
    day = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
    shas = [
        live.github.add_commit(
            unique_repo,
            message=f"feat: backfilled {n}",
            date=day.replace(hour=2 + n),
            files=[
                {
                    "filename": f"src/f{n}.py",
                    "status": "added",
                    "additions": 1,
                    "deletions": 0,
                    "patch": "@@ -0,0 +1 @@\n+x",
                }
            ],
        )
        for n in range(3)
    ]
    known = payloads.commit(unique_repo, "known", "feat: backfilled 0")
    known["id"] = shas[0]
    deliver(
        live.app.test_client(), payloads.encode(payloads.push(unique_repo, [known], after=shas[0]))
    )
    live.wait_for_analyses(unique_repo, 1)
    calls = llm_calls_for(live, unique_repo)

    dry = cli.invoke(
        main,
        [
            "backfill",
            "--repo",
            unique_repo,
            "--since",
            "2026-03-10",
            "--until",
            "2026-03-10",
            "--dry-run",
        ],
    )
    assert dry.exit_code == 0, dry.output
    assert "3 commits on main from 2026-03-10 to 2026-03-10; 2 without an analysis" in dry.stderr
    assert [line.split()[0] for line in dry.stdout.splitlines()] == [shas[2][:12], shas[1][:12]]
    assert llm_calls_for(live, unique_repo) == calls

    run = cli.invoke(
        main, ["backfill", "--repo", unique_repo, "--since", "2026-03-10", "--until", "2026-03-10"]
    )
    assert run.exit_code == 0, run.output
    assert "analysed 2 commits" in run.stderr
    assert llm_calls_for(live, unique_repo) == calls + 2
    with live.runtime.session() as session:
        rows = session.execute(
            select(Commit.sha, Commit.source, Commit.landed_at)
            .join(Repository)
            .where(Repository.full_name == unique_repo)
        ).all()
    landed = {sha: (source, at) for sha, source, at in rows}
    assert landed[shas[1]] == ("backfill", day.replace(hour=3))  # lands at its commit date
    assert live.analysis_count(live.commit_ids(unique_repo)) == 3

    again = cli.invoke(main, ["backfill", "--repo", unique_repo, "--since", "2026-03-10"])
    assert "0 without an analysis" in again.stderr
    assert llm_calls_for(live, unique_repo) == calls + 2


def test_backfill_rejects_an_inverted_period(cli: CliRunner) -> None:
    """--until before --since is a one-line error."""
    result = cli.invoke(
        main, ["backfill", "--repo", "acme/app", "--since", "2026-03-10", "--until", "2026-03-01"]
    )
    assert result.exit_code == 2
    assert "--until is before --since" in result.stderr


def test_replay_requeues_what_lost_its_analysis(
    live: LiveStack, unique_repo: str, cli: CliRunner
) -> None:
    """Replaying a stored delivery records nothing twice and queues what has no analysis."""
    commits = [payloads.commit(unique_repo, str(n), f"fix: replay {n}") for n in range(2)]
    guid = f"replay-{uuid.uuid4()}"
    body = payloads.encode(payloads.push(unique_repo, commits))
    assert deliver(live.app.test_client(), body, delivery=guid).status_code == 202
    ids = live.wait_for_analyses(unique_repo, 2)
    nothing = cli.invoke(main, ["replay", guid])
    assert nothing.exit_code == 0, nothing.output
    assert "0 new commits recorded, 0 unanalysed commits queued again" in nothing.stderr

    with live.runtime.session() as session:
        session.execute(delete(Analysis).where(Analysis.commit_id == ids[1]))
        session.execute(
            Commit.__table__.update().where(Commit.id == ids[1]).values(analysed_at=None)
        )
    requeued = cli.invoke(main, ["replay", guid])
    assert "0 new commits recorded, 1 unanalysed commits queued again" in requeued.stderr
    live.wait_for_analyses(unique_repo, 2)

    unknown = cli.invoke(main, ["replay", "no-such-delivery"])
    assert unknown.exit_code == 1
    assert (
        unknown.stderr.strip()
        == "Error: no delivery 'no-such-delivery' is stored (see the Recent Deliveries of the webhook)"
    )
