"""Delivery bodies are kept DELIVERY_RETENTION_DAYS; commits and analyses are never purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from commit_digest.models import Commit, Delivery
from commit_digest.queueing import PURGE, beat_schedule
from commit_digest.retention import purge_old_deliveries
from commit_digest.runtime import Runtime

from conftest import deliver
from support import payloads


def test_old_bodies_go_and_everything_else_stays(client: FlaskClient, runtime: Runtime) -> None:
    """A 31-day-old delivery loses its body, keeps its row and commits; a new one keeps all."""
    for n in (1, 2):
        repo = f"acme/kept-{n}"
        body = payloads.push(repo, [payloads.commit(repo, str(n), "fix: x")])
        assert deliver(client, payloads.encode(body), delivery=f"d-{n}").status_code == 202
    now = datetime.now(UTC)
    with runtime.session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.guid == "d-1")
            .values(received_at=now - timedelta(days=31))
        )
    purged = purge_old_deliveries(runtime, now)
    assert (purged.bodies, purged.quarantined) == (1, 0)
    with runtime.session() as session:
        bodies = dict(session.execute(select(Delivery.guid, Delivery.body)).all())
        commits = session.execute(select(func.count()).select_from(Commit)).scalar_one()
    assert bodies["d-1"] is None
    assert bodies["d-2"] is not None
    assert commits == 2


def test_the_purge_runs_every_night() -> None:
    """Beat schedules the purge (beside the report and the sweep)."""
    from commit_digest.config import load_settings

    schedule = beat_schedule(load_settings({"GITHUB_WEBHOOK_SECRET": "s"}))
    assert any(entry["task"] == PURGE for entry in schedule.values())
