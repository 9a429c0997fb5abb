"""Idempotent writes shared by intake, reconciliation and backfill.

They take a Session or a plain Connection: the webhook's request path uses a Connection and
Core statements on table objects, which cost a fraction of the ORM's bulk-insert machinery.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Insert, Result, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from commit_digest.models import COMMITS, REPOSITORIES
from commit_digest.push import PushCommit, RepositoryRef

Executor = Session | Connection
# id, default branch and installation of repositories seen in committed rows, per process
RepositoryCache = dict[str, tuple[int, str | None, int | None]]


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (the session types its result as a plain Result)."""
    return cast(CursorResult[Any], result).rowcount


def is_postgres(executor: Executor) -> bool:
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    return bind.dialect.name == "postgresql"


def _dialect_module(executor: Executor) -> Any:
    return postgresql if is_postgres(executor) else sqlite


def insert_ignoring_conflicts(session: Executor, table: Any) -> Insert:
    """An INSERT … ON CONFLICT DO NOTHING for the executor's dialect."""
    insert: Insert = _dialect_module(session).insert(table).on_conflict_do_nothing()
    return insert


def ensure_repository(
    session: Executor,
    ref: RepositoryRef,
    installation_id: int | None,
    now: datetime,
    cache: RepositoryCache | None = None,
) -> int:
    """Return the id of the repository row, creating or refreshing it as the payload says.

    With a ``cache``, a repository already seen committed is not read again unless the
    payload changes its default branch or installation.
    """
    known = cache.get(ref.full_name) if cache is not None else None
    if known is not None:
        repository_id, default_branch, installation = known
        if (ref.default_branch or default_branch) == default_branch and (
            installation_id or installation
        ) == installation:
            return repository_id
    table = REPOSITORIES
    row = session.execute(
        select(table.c.id, table.c.default_branch, table.c.installation_id).where(
            table.c.full_name == ref.full_name
        )
    ).first()
    if row is None:
        session.execute(
            insert_ignoring_conflicts(session, table).values(
                full_name=ref.full_name,
                github_id=ref.github_id,
                default_branch=ref.default_branch,
                html_url=ref.html_url,
                installation_id=installation_id,
                created_at=now,
            )
        )
        return session.execute(
            select(table.c.id).where(table.c.full_name == ref.full_name)
        ).scalar_one()
    repository_id, default_branch, known_installation = row
    changes: dict[str, Any] = {}
    if ref.default_branch and ref.default_branch != default_branch:
        changes["default_branch"] = ref.default_branch
    if installation_id and installation_id != known_installation:
        changes["installation_id"] = installation_id
    if changes:
        session.execute(update(table).where(table.c.id == repository_id).values(**changes))
    elif cache is not None:
        # only rows read back committed are cached: a row inserted by a transaction that may
        # still roll back is not
        cache[ref.full_name] = (int(repository_id), default_branch, known_installation)
    return int(repository_id)


def insert_new_commits(
    session: Executor,
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
        for commit in unique_commits(commits)
    ]
    table = COMMITS
    statement = insert_ignoring_conflicts(session, table).returning(table.c.id)
    return [row[0] for row in session.execute(statement, rows)]


def unique_commits(commits: Sequence[PushCommit]) -> list[PushCommit]:
    seen: dict[str, PushCommit] = {}
    for commit in commits:
        seen.setdefault(commit.sha, commit)
    return list(seen.values())


def upsert(
    session: Executor,
    table: Any,
    values: dict[str, Any],
    conflict_columns: list[str],
    update_values: dict[str, Any],
) -> None:
    """INSERT … ON CONFLICT (conflict_columns) DO UPDATE for the session's dialect."""
    statement = _dialect_module(session).insert(table).values(**values)
    session.execute(
        statement.on_conflict_do_update(index_elements=conflict_columns, set_=update_values)
    )
