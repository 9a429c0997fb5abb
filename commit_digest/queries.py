"""Read-side queries shared by the web pages, the JSON API and the commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from commit_digest.models import Analysis, Commit, CommitComment, CommitOverride, Repository
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


@dataclass(frozen=True)
class CommitFilters:
    """What the archive's search narrows the stored commits to (every field optional)."""

    text: str = ""  # in the commit message
    repository: str = ""
    author: str = ""  # name or login, a part of it
    importance: str = ""  # high, medium, low, pending
    change_type: str = ""
    since: date | None = None  # landed on or after, UTC days
    until: date | None = None  # landed on or before


PAGE_SIZE = 50


def search_commits(
    rt: Runtime, filters: CommitFilters, page: int = 1
) -> tuple[list[dict[str, Any]], int]:
    """One page of the stored commits that match, newest first, and how many match in all."""
    importance = func.coalesce(CommitOverride.importance, Analysis.importance)
    statement = (
        select(
            Repository.full_name,
            Commit.sha,
            Commit.message,
            Commit.author_name,
            Commit.author_login,
            Commit.landed_at,
            importance.label("importance"),
            Analysis.change_type,
        )
        .select_from(Commit)
        .join(Repository, Repository.id == Commit.repository_id)
        .outerjoin(Analysis, Analysis.commit_id == Commit.id)
        .outerjoin(CommitOverride, CommitOverride.commit_id == Commit.id)
    )
    conditions: list[ColumnElement[bool]] = []
    if filters.text:
        conditions.append(Commit.message.ilike(f"%{_like(filters.text)}%", escape="\\"))
    if filters.repository:
        conditions.append(Repository.full_name == filters.repository)
    if filters.author:
        pattern = f"%{_like(filters.author)}%"
        conditions.append(
            or_(
                Commit.author_name.ilike(pattern, escape="\\"),
                Commit.author_login.ilike(pattern, escape="\\"),
            )
        )
    if filters.importance == "pending":
        conditions.append(Analysis.id.is_(None))
    elif filters.importance:
        conditions.append(importance == filters.importance)
    if filters.change_type:
        conditions.append(Analysis.change_type == filters.change_type)
    if filters.since:
        conditions.append(Commit.landed_at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        conditions.append(Commit.landed_at < end)
    statement = statement.where(*conditions)
    with rt.session() as session:
        total = session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
        rows = session.execute(
            statement.order_by(Commit.landed_at.desc(), Commit.id.desc())
            .limit(PAGE_SIZE)
            .offset((max(page, 1) - 1) * PAGE_SIZE)
        ).all()
    return [
        {
            "repository": row.full_name,
            "sha": row.sha,
            "subject": (row.message.strip().splitlines() or [""])[0][:300],
            "author": row.author_name or row.author_login or "—",
            "landed_at": row.landed_at.isoformat(),
            "importance": row.importance or "pending",
            "change_type": row.change_type,
        }
        for row in rows
    ], int(total)


def _like(text: str) -> str:
    """``text`` for a LIKE pattern: its own % and _ taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def comment_id_of(rt: Runtime, commit_id: int) -> int | None:
    """The id of the commit's comment on GitHub, once posted."""
    with rt.session() as session:
        return session.execute(
            select(CommitComment.github_comment_id).where(CommitComment.commit_id == commit_id)
        ).scalar_one_or_none()
