"""Work started by a person rather than a webhook: analyse one commit, backfill, replay."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from workers.analysis.pipeline import AnalysisResult, analyze_stored_commit
from workers.models import Analysis, Commit, Repository
from workers.push import PushCommit, RepositoryRef
from workers.runtime import Runtime
from workers.storage import ensure_repository, insert_new_commits


def record_commit(rt: Runtime, repository: str, sha: str) -> int:
    """The id of the commit's row, fetching its metadata from GitHub to create it if needed."""
    with rt.session() as session:
        found = session.execute(
            select(Commit.id)
            .join(Repository)
            .where(Repository.full_name == repository, Commit.sha == sha)
        ).scalar_one_or_none()
    if found is not None:
        return int(found)
    fetched = rt.github(None).get_commit(repository, sha)
    now = datetime.now(UTC)
    commit = PushCommit(
        sha=fetched.sha,
        message=fetched.message,
        author_name=fetched.author,
        author_email=None,
        author_login=None,
        committed_at=fetched.committed_at,
        url=None,
        added=tuple(f.path for f in fetched.files if f.status == "added"),
        removed=tuple(f.path for f in fetched.files if f.status == "removed"),
        modified=tuple(f.path for f in fetched.files if f.status not in ("added", "removed")),
        distinct=True,
    )
    with rt.session() as session:
        repository_id = ensure_repository(
            session, RepositoryRef(repository, None, None, None), None, now
        )
        insert_new_commits(
            session,
            repository_id=repository_id,
            commits=[commit],
            branch=None,
            landed_at=None,
            source="manual",
            delivery_id=None,
            now=now,
            queued=False,
        )
        return int(
            session.execute(
                select(Commit.id).where(
                    Commit.repository_id == repository_id, Commit.sha == fetched.sha
                )
            ).scalar_one()
        )


def analyze_now(
    rt: Runtime, repository: str, sha: str, *, force: bool = False
) -> tuple[int, AnalysisResult | None]:
    """Analyse one commit in this process (``force``: again, even if it has an analysis)."""
    commit_id = record_commit(rt, repository, sha)
    if force:
        with rt.session() as session:
            session.execute(
                update(Analysis)
                .where(Analysis.commit_id == commit_id)
                .values(needs_reanalysis=True)
            )
    task_id = f"cli-{commit_id}-{datetime.now(UTC).timestamp():.0f}"
    result = analyze_stored_commit(rt, commit_id, task_id=task_id, retries=rt.settings.llm_retries)
    return commit_id, result
