"""A repository's settings file steers its analyses: what the LLM sees, language, comments."""

from __future__ import annotations

import json

from sqlalchemy import select
from test_analysis_flow import our_comments, patch, push_commit, wait_analysed

from commit_digest.models import Analysis, Commit, CommitComment, Repository

from support.processes import wait_for
from support.stack import LiveStack

SETTINGS = b"""
language = "zh-CN"
rubric_notes = "Anything under billing/ moves money: treat it as high."
[comments]
min_importance = "high"
[ignore]
paths = ["customers/**"]
[[paths]]
glob = "docs/**"
importance_cap = "low"
[[paths]]
glob = "src/billing.py"
note = "Rounding here is a legal requirement."
"""


def analyses(live: LiveStack, repo: str) -> dict[str, Analysis]:
    with live.runtime.session() as session:
        rows = session.execute(
            select(Commit.sha, Analysis)
            .join(Analysis, Analysis.commit_id == Commit.id)
            .join(Repository, Repository.id == Commit.repository_id)
            .where(Repository.full_name == repo)
        ).all()
    return {str(sha): analysis for sha, analysis in rows}


def test_ignored_paths_never_reach_the_llm_and_rules_shape_the_result(
    live: LiveStack, unique_repo: str
) -> None:
    """Ignored files stay out of every prompt; the file's language, cap and threshold apply."""
    live.github.set_file(unique_repo, ".commit-digest.toml", SETTINGS)
    secret_row = "acme-corp,4111111111111111,TOPSECRET-CUSTOMER-ROW"
    fix = push_commit(
        live,
        unique_repo,
        "fix(billing): round the invoice total",
        [
            {
                "filename": "src/billing.py",
                "status": "modified",
                "additions": 1,
                "deletions": 0,
                "patch": patch("total = round(total, 2)"),
            },
            {
                "filename": "customers/acme.csv",
                "status": "modified",
                "additions": 1,
                "deletions": 0,
                "patch": patch(secret_row),
            },
        ],
    )
    docs = push_commit(
        live,
        unique_repo,
        "fix(docs): correct the install guide",
        [
            {
                "filename": "docs/install.md",
                "status": "modified",
                "additions": 1,
                "deletions": 0,
                "patch": patch("pip install acme"),
            }
        ],
    )
    wait_analysed(live, unique_repo, count=2)
    sent = json.dumps(live.llm.requests, ensure_ascii=False)
    assert "TOPSECRET-CUSTOMER-ROW" not in sent
    # the repository's notes reach the reviewer prompt of the commit they concern
    assert "Anything under billing/ moves money" in sent
    assert "Rounding here is a legal requirement." in sent
    assert "customers/acme.csv" not in sent
    found = analyses(live, unique_repo)
    assert found[fix].language == "zh-CN"
    assert "customers/acme.csv" in found[fix].omitted
    assert (found[fix].importance, found[docs].importance) == ("high", "low")  # docs capped
    wait_for(lambda: our_comments(live, unique_repo, fix), timeout=20, what="the fix's comment")
    [docs_id] = [c for c in live.commit_ids(unique_repo) if c != _id(live, unique_repo, fix)]

    def docs_comment_state() -> str | None:
        with live.runtime.session() as session:
            row = session.get(CommitComment, docs_id)
            return row.state if row else None

    wait_for(lambda: docs_comment_state() == "below-threshold", timeout=20, what="skipped")
    assert our_comments(live, unique_repo, docs) == []


def _id(live: LiveStack, repo: str, sha: str) -> int:
    with live.runtime.session() as session:
        return int(
            session.execute(
                select(Commit.id)
                .join(Repository, Repository.id == Commit.repository_id)
                .where(Repository.full_name == repo, Commit.sha == sha)
            ).scalar_one()
        )
