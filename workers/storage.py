"""Idempotent writes shared by intake, reconciliation and backfill."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Insert, Result, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from workers.models import Commit, Repository
from workers.push import PushCommit, RepositoryRef


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (the session types its result as a plain Result)."""
    return cast(CursorResult[Any], result).rowcount


def insert_ignoring_conflicts(session: Session, table: Any) -> Insert:
    """An INSERT … ON CONFLICT DO NOTHING for the session's dialect."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    insert: Insert = module.insert(table).on_conflict_do_nothing()
    return insert


def ensure_repository(
    session: Session, ref: RepositoryRef, installation_id: int | None, now: datetime
) -> int:
    """Return the id of the repository row, creating or refreshing it as the payload says."""
    row = session.execute(
        select(Repository.id, Repository.default_branch, Repository.installation_id).where(
            Repository.full_name == ref.full_name
        )
    ).first()
    if row is None:
        session.execute(
            insert_ignoring_conflicts(session, Repository).values(
                full_name=ref.full_name,
                github_id=ref.github_id,
                default_branch=ref.default_branch,
                html_url=ref.html_url,
                installation_id=installation_id,
                created_at=now,
            )
        )
        return session.execute(
            select(Repository.id).where(Repository.full_name == ref.full_name)
        ).scalar_one()
    repository_id, default_branch, known_installation = row
    changes: dict[str, Any] = {}
    if ref.default_branch and ref.default_branch != default_branch:
        changes["default_branch"] = ref.default_branch
    if installation_id and installation_id != known_installation:
        changes["installation_id"] = installation_id
    if changes:
        session.execute(update(Repository).where(Repository.id == repository_id).values(**changes))
    return int(repository_id)


def insert_new_commits(
    session: Session,
    *,
    repository_id: int,
    commits: Sequence[PushCommit],
    branch: str | None,
    landed_at: datetime | None,
    source: str,
    delivery_id: int | None,
    now: datetime,
    queued: bool,
) -> list[int]:
    """Insert the commits not stored yet (one row per repository+sha); return the new ids.

    ``landed_at`` None lands each commit at its own commit date (reconciliation, backfill).
    """
    if not commits:
        return []
    rows = [
        {
            "repository_id": repository_id,
            "sha": commit.sha,
            "delivery_id": delivery_id,
            "branch": branch,
            "message": commit.message,
            "author_name": commit.author_name,
            "author_email": commit.author_email,
            "author_login": commit.author_login,
            "committed_at": commit.committed_at,
            "landed_at": landed_at or commit.committed_at or now,
            "url": commit.url,
            "files": commit.files(),
            "source": source,
            "created_at": now,
            "queued_at": now if queued else None,
            "attempts": 0,
        }
        for commit in _unique(commits)
    ]
    statement = insert_ignoring_conflicts(session, Commit).returning(Commit.id)
    return [row[0] for row in session.execute(statement, rows)]


def _unique(commits: Sequence[PushCommit]) -> list[PushCommit]:
    seen: dict[str, PushCommit] = {}
    for commit in commits:
        seen.setdefault(commit.sha, commit)
    return list(seen.values())


def upsert(
    session: Session,
    table: Any,
    values: dict[str, Any],
    conflict_columns: list[str],
    update_values: dict[str, Any],
) -> None:
    """INSERT … ON CONFLICT (conflict_columns) DO UPDATE for the session's dialect."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(**values)
    session.execute(
        statement.on_conflict_do_update(index_elements=conflict_columns, set_=update_values)
    )
