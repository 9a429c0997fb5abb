"""Health endpoints, and intake that survives a broker that is down."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import select, update

from commit_digest.config import Settings, load_settings
from commit_digest.embedded_redis import free_port
from commit_digest.models import Commit
from commit_digest.runtime import Runtime
from commit_digest.sweep import sweep
from webhook import create_app

from conftest import base_env, deliver
from support import payloads
from support.broker import analysis_ids


def test_healthz(client: FlaskClient) -> None:
    """The process answers."""
    assert (client.get("/healthz").status_code, client.get("/healthz").json) == (
        200,
        {"status": "ok"},
    )


def test_readyz_when_everything_is_up(client: FlaskClient) -> None:
    """Database and broker reachable: ready."""
    response = client.get("/readyz")
    assert (response.status_code, response.json) == (
        200,
        {"status": "ready", "database": "ok", "broker": "ok"},
    )


def test_readyz_names_a_broker_that_is_down(env: dict[str, str]) -> None:
    """With Redis unreachable /readyz answers 503 and says which part is down."""
    client = create_app(
        load_settings({**env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    ).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["broker"].startswith("unreachable")
    assert "database" not in response.json


def test_readyz_names_a_database_that_is_down(env: dict[str, str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With the database unreachable /readyz answers 503 naming it."""
    url = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=1"
    client = create_app(load_settings({**env, "DATABASE_URL": url})).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["database"].startswith("unreachable")


def test_push_is_accepted_while_the_broker_is_down(
    env: dict[str, str], settings: Settings, runtime: Runtime
) -> None:
    """Redis down: the push is still recorded and answered 202, and the sweep queues it later."""
    down = load_settings({**env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    client = create_app(down).test_client()
    repo = "acme/outage"
    started = time.monotonic()
    response = deliver(
        client,
        payloads.encode(
            payloads.push(repo, [payloads.commit(repo, "1"), payloads.commit(repo, "2")])
        ),
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 202
    assert (response.json["new"], response.json["queued"]) == (2, 0)
    assert elapsed < 5  # answered well within GitHub's 10 s, not stuck retrying
    with runtime.session() as session:
        rows = session.execute(select(Commit.id, Commit.queued_at).order_by(Commit.id)).all()
    assert [queued for _, queued in rows] == [None, None]
    assert analysis_ids(settings) == []

    result = sweep(runtime, datetime.now(UTC))  # the beat's sweep, with Redis back
    assert result.analysis_queued == 2
    assert analysis_ids(settings) == [commit_id for commit_id, _ in rows]
    assert sweep(runtime, datetime.now(UTC)).analysis_queued == 0  # queued now: not again


def test_sweep_requeues_commits_queued_long_ago_and_never_started(
    client: FlaskClient, settings: Settings, runtime: Runtime
) -> None:
    """A queued message that vanished (Redis lost it) is queued again after REQUEUE_AFTER."""
    repo = "acme/lost"
    deliver(client, payloads.encode(payloads.push(repo, [payloads.commit(repo, "1")])))
    [commit_id] = analysis_ids(settings)
    now = datetime.now(UTC)
    assert sweep(runtime, now).analysis_queued == 0
    assert sweep(runtime, now + settings.requeue_after + timedelta(seconds=1)).analysis_queued == 1
    assert analysis_ids(settings) == [commit_id, commit_id]


def test_sweep_leaves_analysed_and_running_commits_alone(
    client: FlaskClient, settings: Settings, runtime: Runtime
) -> None:
    """Commits that are analysed, or claimed by a live worker, are not queued again."""
    repo = "acme/busy"
    deliver(
        client,
        payloads.encode(
            payloads.push(repo, [payloads.commit(repo, "1"), payloads.commit(repo, "2")])
        ),
    )
    first, second = analysis_ids(settings)
    later = datetime.now(UTC) + settings.requeue_after + timedelta(seconds=1)
    with runtime.session() as session:
        session.execute(update(Commit).where(Commit.id == first).values(analysed_at=later))
        session.execute(
            update(Commit).where(Commit.id == second).values(started_at=later, claimed_by="task-1")
        )
    assert sweep(runtime, later).analysis_queued == 0


@pytest.mark.postgres
def test_a_connection_killed_under_the_pool_is_retried(
    postgres_fresh_url: str,
    postgres_admin_url: str,
    redis_url: str,
    redis_key_prefix: str,
    tmp_path: Path,
) -> None:
    """The web process does not pre-ping; a stale pooled connection costs one retry, not a 503."""
    env = base_env(
        DATABASE_URL=postgres_fresh_url,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=redis_key_prefix,
        DATA_DIR=str(tmp_path),
    )
    app = create_app(load_settings(env))
    client = app.test_client()
    runtime: Runtime = app.extensions["commit_digest"]
    repo = f"acme/stale-{tmp_path.name}"
    assert (
        deliver(
            client, payloads.encode(payloads.push(repo, [payloads.commit(repo, "1")]))
        ).status_code
        == 202
    )
    with runtime.engine.connect() as connection:
        pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    admin = sa.create_engine(postgres_admin_url)
    with admin.begin() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    response = deliver(client, payloads.encode(payloads.push(repo, [payloads.commit(repo, "2")])))
    assert (response.status_code, response.json["new"]) == (202, 1)
    runtime.close()
