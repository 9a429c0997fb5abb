"""A worker process killed with SIGKILL in the middle of an analysis loses nothing, doubles nothing."""

from __future__ import annotations

import json
import os
import signal

import psutil
from sqlalchemy import select

from commit_digest.models import Analysis, Commit, Repository

from conftest import deliver
from support import payloads
from support.processes import wait_for
from support.stack import LiveStack


def test_sigkill_mid_analysis_is_analysed_again_once(live: LiveStack, unique_repo: str) -> None:
    """The killed task is delivered again; one analysis row and one comment result."""
    subject = f"feat: survive a kill {unique_repo}"
    sha = live.github.add_commit(
        unique_repo,
        message=subject,
        files=[
            {
                "filename": "src/a.py",
                "status": "added",
                "additions": 1,
                "deletions": 0,
                "patch": "@@ -0,0 +1 @@\n+a = 1",
            }
        ],
    )
    commit = payloads.commit(unique_repo, sha, subject)
    commit["id"] = sha
    live.llm.latency = 4.0  # the analysis is still waiting for the LLM when the kill comes
    deliver(
        live.app.test_client(), payloads.encode(payloads.push(unique_repo, [commit], after=sha))
    )

    def asked() -> int:
        return sum(1 for r in list(live.llm.requests) if subject in json.dumps(r))

    wait_for(lambda: asked() >= 1, timeout=20, what="the LLM request of the analysis")
    worker = live.workers[0].process
    assert worker is not None
    children = psutil.Process(worker.pid).children()
    assert children
    for child in children:  # the pool processes; one of them is running the analysis
        os.kill(child.pid, signal.SIGKILL)
    live.llm.latency = 0.0

    wait_for(
        lambda: live.analysis_count(live.commit_ids(unique_repo)) == 1,
        timeout=60,
        what="the analysis after the kill",
    )
    wait_for(
        lambda: [
            c for c in live.github.comments(unique_repo, sha) if "commit-digest:" in c["body"]
        ],
        timeout=30,
        what="the comment",
    )
    with live.runtime.session() as session:
        rows = session.execute(
            select(Commit.attempts, Analysis.analyzer)
            .join(Analysis)
            .join(Repository)
            .where(Repository.full_name == unique_repo)
        ).all()
    assert [tuple(r) for r in rows] == [(2, "llm")]  # claimed twice, stored once
    assert asked() >= 2
    assert (
        len([c for c in live.github.comments(unique_repo, sha) if "commit-digest:" in c["body"]])
        == 1
    )
    assert live.workers[0].alive  # the worker replaced its pool processes and carries on
