"""Corrections people made on commits, written as labelled examples for the evaluation set.

Each ``/digest importance`` override is a human label: ``export_labels`` writes one JSON line
per overridden commit in the format of ``eval/commits.jsonl`` (message, files with their
patches, the labels and a one-line reason), so a team's corrections can grow the set that
``make eval`` measures judgement on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select

from commit_digest.errors import CommitGone
from commit_digest.models import Analysis, Commit, CommitOverride, Repository
from commit_digest.runtime import Runtime


def export_labels(
    rt: Runtime, *, since: datetime | None = None, with_diffs: bool = True
) -> Iterator[dict[str, Any]]:
    """One labelled example per commit whose importance a person set, oldest correction first."""
    statement = (
        select(CommitOverride, Commit, Repository.full_name, Repository.installation_id, Analysis)
        .join(Commit, Commit.id == CommitOverride.commit_id)
        .join(Repository, Repository.id == Commit.repository_id)
        .join(Analysis, Analysis.commit_id == Commit.id)
        .where(CommitOverride.importance.is_not(None))
        .order_by(CommitOverride.set_at)
    )
    if since is not None:
        statement = statement.where(CommitOverride.set_at >= since)
    with rt.session() as session:
        rows = session.execute(statement).all()
    for override, commit, repository, installation_id, analysis in rows:
        files = _files(rt, repository, installation_id, commit, with_diffs)
        yield {
            "id": f"{repository.replace('/', '-')}-{commit.sha[:7]}",
            "repo": repository,
            "sha": commit.sha,
            "url": commit.url or "",
            "licence": "",
            "author_name": commit.author_name or "",
            "committed_at": commit.committed_at.isoformat() if commit.committed_at else None,
            "message": commit.message,
            "files": files,
            "label_change_type": analysis.change_type,
            "label_importance": override.importance,
            "label_breaking_change": analysis.breaking_change,
            "reason": (
                f"importance set by {override.set_by} on {override.set_at.date().isoformat()} "
                f"with /digest importance (the {analysis.analyzer} analysis said "
                f"{analysis.importance}); change type as analysed"
            ),
        }


def as_jsonl(examples: Iterator[dict[str, Any]]) -> Iterator[str]:
    for example in examples:
        yield json.dumps(example, ensure_ascii=False) + "\n"


def _files(
    rt: Runtime, repository: str, installation_id: int | None, commit: Commit, with_diffs: bool
) -> list[dict[str, Any]]:
    if with_diffs:
        try:
            fetched = rt.github(installation_id).get_commit(repository, commit.sha)
        except CommitGone:
            fetched = None
        if fetched is not None:
            return [
                {
                    "path": f.path,
                    "status": f.status,
                    "additions": f.additions or 0,
                    "deletions": f.deletions or 0,
                    "patch": f.patch,
                }
                for f in fetched.files
            ]
    # the push listed the paths only (added, removed, modified), without counts or patches
    listed = commit.files or {}
    return [
        {"path": path, "status": status, "additions": 0, "deletions": 0, "patch": None}
        for status in ("added", "removed", "modified")
        for path in listed.get(status, [])
    ]
