"""Read-side queries shared by the web pages, the JSON API and the commands."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from commit_digest.models import Analysis, Commit, Repository
from commit_digest.runtime import Runtime


def stored_analysis(rt: Runtime, commit_id: int) -> tuple[Commit, Analysis] | None:
    """The commit and its analysis, if it has one."""
    with rt.session() as session:
        row = session.execute(
            select(Commit, Analysis)
            .join(Analysis, Analysis.commit_id == Commit.id)
            .where(Commit.id == commit_id)
        ).first()
        return (row[0], row[1]) if row else None


def find_commit(rt: Runtime, repository: str, sha: str) -> tuple[Commit, Analysis | None] | None:
    """The commit of ``repository`` whose sha is (or starts with, 7+ characters) ``sha``."""
    with rt.session() as session:
        statement = (
            select(Commit, Analysis)
            .join(Repository, Repository.id == Commit.repository_id)
            .outerjoin(Analysis, Analysis.commit_id == Commit.id)
            .where(Repository.full_name == repository)
        )
        statement = (
            statement.where(Commit.sha == sha)
            if len(sha) == 40
            else statement.where(Commit.sha.startswith(sha))
        )
        rows = session.execute(statement.limit(2)).all()
        if len(rows) != 1:
            return None
        return rows[0][0], rows[0][1]


def analysis_json(commit: Commit, row: Analysis | None) -> dict[str, Any]:
    """A commit and its stored analysis as the JSON API and ``analyze --json`` show them."""
    data: dict[str, Any] = {
        "repository": commit.repository.full_name,
        "sha": commit.sha,
        "message": commit.message,
        "author": commit.author_name or commit.author_login,
        "committed_at": commit.committed_at.isoformat() if commit.committed_at else None,
        "landed_at": commit.landed_at.isoformat(),
        "status": "pending" if row is None else "analysed",
        "analysis": None,
    }
    if row is None:
        return data
    data.update(
        {
            "analysis": row.body,
            "analyzer": row.analyzer,
            "model": row.model,
            "prompt_version": row.prompt_version,
            "language": row.language,
            "source": row.source,
            "fallback_reason": row.fallback_reason,
            "needs_reanalysis": row.needs_reanalysis,
            "usage": {
                "tokens_in": row.tokens_in,
                "tokens_out": row.tokens_out,
                "cost_usd": row.cost_usd,
            },
            "coverage": {
                "files_analysed": row.files_analysed,
                "files_total": row.files_total,
                "lines_analysed": row.lines_analysed,
                "lines_total": row.lines_total,
                "omitted": row.omitted or [],
            },
            "redactions": row.redactions,
            "analysed_at": row.updated_at.isoformat(),
        }
    )
    return data
