"""The sweep: every kind of recorded work that lost its message is queued again, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select, update

from commit_digest.config import Settings
from commit_digest.models import Analysis, Commit, CommitComment, Delivery
from commit_digest.runtime import Runtime
from commit_digest.storage import upsert
from commit_digest.sweep import REANALYSE_AFTER, sweep

from conftest import deliver
from support import payloads
from support.broker import purge, queued_tasks


def analysed(runtime: Runtime, commit_id: int, *, needs_reanalysis: bool, at: datetime) -> None:
    values = {
        "analyzer": "heuristic",
        "model": None,
        "prompt_version": None,
        "language": "en",
        "change_type": "feature",
        "importance": "high",
        "breaking_change": False,
        "body": {},
        "source": "delivery",
        "needs_reanalysis": needs_reanalysis,
        "updated_at": at,
    }
    with runtime.session() as session:
        upsert(
            session,
            Analysis,
            {"commit_id": commit_id, "created_at": at, **values},
            ["commit_id"],
            values,
        )
        session.execute(
            update(Commit).where(Commit.id == commit_id).values(analysed_at=at, queued_at=at)
        )


def test_fallback_analyses_are_retried_after_a_while(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """A heuristic fallback marked for re-analysis is queued again after REANALYSE_AFTER, once."""
    repo = "acme/fallback"
    deliver(client, payloads.encode(payloads.push(repo, [payloads.commit(repo, "1")])))
    [commit_id] = [t.args[0] for t in queued_tasks(settings)]
    purge(settings)
    now = datetime.now(UTC)
    analysed(runtime, commit_id, needs_reanalysis=True, at=now)
    assert sweep(runtime, now).reanalysis_queued == 0
    later = now + REANALYSE_AFTER + timedelta(seconds=1)
    assert sweep(runtime, later).reanalysis_queued == 1
    assert [(t.task, t.args) for t in queued_tasks(settings)] == [
        ("commit_digest.analyze_commit", [commit_id])
    ]
    assert sweep(runtime, later + timedelta(seconds=30)).reanalysis_queued == 0


def test_good_analyses_are_left_alone(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """An analysis that did not fall back is never queued again."""
    repo = "acme/good"
    deliver(client, payloads.encode(payloads.push(repo, [payloads.commit(repo, "1")])))
    [commit_id] = [t.args[0] for t in queued_tasks(settings)]
    purge(settings)
    now = datetime.now(UTC)
    analysed(runtime, commit_id, needs_reanalysis=False, at=now)
    result = sweep(runtime, now + timedelta(days=2))
    assert (result.analysis_queued, result.reanalysis_queued) == (0, 0)


def test_lost_compare_walks_are_queued_again(
    client_with, runtime: Runtime, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """A push flagged for a compare walk whose task vanished gets a new one after REQUEUE_AFTER."""
    repo = "acme/forced"
    body = payloads.push(
        repo, [], before=payloads.fake_sha("old"), after=payloads.fake_sha("new"), forced=True
    )
    assert deliver(client_with(), payloads.encode(body)).json["fetching_missing"] is True
    purge(settings)
    with runtime.session() as session:
        delivery_id = session.execute(select(Delivery.id)).scalar_one()
    now = datetime.now(UTC)
    assert sweep(runtime, now).compares_queued == 0
    assert sweep(runtime, now + settings.requeue_after + timedelta(seconds=1)).compares_queued == 1
    assert [(t.task, t.args) for t in queued_tasks(settings)] == [
        ("commit_digest.fetch_push_commits", [delivery_id])
    ]


def test_lost_comments_are_queued_again(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """A comment queued but never posted is queued again after REQUEUE_AFTER."""
    repo = "acme/comment"
    deliver(client, payloads.encode(payloads.push(repo, [payloads.commit(repo, "1")])))
    [commit_id] = [t.args[0] for t in queued_tasks(settings)]
    purge(settings)
    now = datetime.now(UTC)
    analysed(runtime, commit_id, needs_reanalysis=False, at=now)
    with runtime.session() as session:
        session.add(CommitComment(commit_id=commit_id, state="queued", updated_at=now))
    assert sweep(runtime, now).comments_queued == 0
    assert sweep(runtime, now + settings.requeue_after + timedelta(seconds=1)).comments_queued == 1
    assert [(t.task, t.args) for t in queued_tasks(settings)] == [
        ("commit_digest.post_comment", [commit_id])
    ]
