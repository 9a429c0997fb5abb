"""Process-level intake guarantees: a Redis outage loses nothing; concurrent redeliveries record once."""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from commit_digest.config import load_settings
from commit_digest.db import upgrade
from commit_digest.embedded_redis import EmbeddedRedis, free_port
from commit_digest.models import Analysis, Commit, Delivery, Repository
from commit_digest.runtime import Runtime
from commit_digest.signature import sign

from conftest import SECRET, base_env
from support import payloads
from support.processes import Service, celery_beat, celery_worker, gunicorn_web, wait_for


def post(url: str, body: bytes, delivery: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign(body, SECRET),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


class Outage:
    """gunicorn, a worker and beat over a Redis server of the test's own."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.redis = EmbeddedRedis(workdir / "redis", persistent=True)
        database_url = f"sqlite:///{workdir / 'commit-digest.db'}"
        upgrade(database_url)
        self.port = free_port()
        self.env = {
            **os.environ,
            **base_env(
                DATABASE_URL=database_url,
                REDIS_URL=self.redis.url,
                DATA_DIR=str(workdir / "data"),
                TRACKED_BRANCHES="main",
                SWEEP_INTERVAL="2",
            ),
        }
        self.services: list[Service] = []
        self.runtime = Runtime.build(load_settings(self.env))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/github"

    def start(self) -> None:
        self.redis.start()
        self.services = [
            celery_worker(self.env, self.workdir, concurrency=2).start(ready="ready."),
            celery_beat(self.env, self.workdir).start(ready="beat.lock.acquired"),
            gunicorn_web(self.env, self.workdir, self.port).start(ready="Booting worker"),
        ]

    def stop(self) -> None:
        for service in self.services:
            service.stop()
        self.redis.stop()
        self.runtime.close()

    def analyses(self, repository: str) -> tuple[int, int, list[int]]:
        """(commits, analyses, attempts per commit) of ``repository``."""
        with self.runtime.session() as session:
            commits = session.execute(
                select(Commit.id, Commit.attempts)
                .join(Repository)
                .where(Repository.full_name == repository)
            ).all()
            analysed = session.execute(
                select(func.count())
                .select_from(Analysis)
                .where(Analysis.commit_id.in_([c.id for c in commits]))
            ).scalar_one()
        return len(commits), analysed, sorted(c.attempts for c in commits)

    def stored_log_lines(self) -> int:
        return self.services[0].log_path.read_text().count('"analysis.stored"')


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[Outage]:
    stack = Outage(tmp_path)
    stack.start()
    yield stack
    stack.stop()


@pytest.mark.timeout(180)
def test_redis_outage_during_intake_loses_nothing(outage: Outage) -> None:
    """Pushes answered while Redis is down are each analysed exactly once after it comes back."""
    repo = f"acme/outage-{uuid.uuid4().hex[:8]}"
    outage.redis.stop()
    answers = []
    for index in range(10):
        commits = [
            payloads.commit(repo, f"{index}-{n}", f"feat: change {index}.{n}") for n in range(3)
        ]
        answers.append(
            post(outage.url, payloads.encode(payloads.push(repo, commits)), str(uuid.uuid4()))
        )
    assert [status for status, _ in answers] == [202] * 10
    assert sum(body["new"] for _, body in answers) == 30
    assert sum(body["queued"] for _, body in answers) == 0

    outage.redis.start()
    wait_for(
        lambda: outage.analyses(repo)[1] == 30,
        timeout=90,
        interval=0.5,
        what="30 analyses after Redis is back",
    )
    wait_for(lambda: outage.stored_log_lines() >= 30, timeout=10, what="the worker's log")
    commits, analysed, attempts = outage.analyses(repo)
    assert (commits, analysed) == (30, 30)
    assert attempts == [1] * 30  # each commit was analysed once, not once per queued copy
    assert outage.stored_log_lines() == 30


@pytest.mark.timeout(120)
def test_concurrent_redeliveries_record_one_set_of_commits(outage: Outage) -> None:
    """The same delivery sent five times at once is recorded and analysed once."""
    repo = f"acme/redeliver-{uuid.uuid4().hex[:8]}"
    body = payloads.encode(payloads.push(repo, [payloads.commit(repo, str(n)) for n in range(3)]))
    delivery = str(uuid.uuid4())
    results: list[tuple[int, dict[str, Any]]] = []
    barrier = threading.Barrier(5)

    def send() -> None:
        barrier.wait()
        results.append(post(outage.url, body, delivery))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [200, 200, 200, 200, 202]
    assert sorted(body["status"] for _, body in results) == [
        "accepted",
        "duplicate",
        "duplicate",
        "duplicate",
        "duplicate",
    ]
    wait_for(lambda: outage.analyses(repo)[1] == 3, timeout=30, what="3 analyses")
    with outage.runtime.session() as session:
        deliveries = session.execute(
            select(func.count()).select_from(Delivery).where(Delivery.guid == delivery)
        ).scalar_one()
    assert deliveries == 1
    assert outage.analyses(repo) == (3, 3, [1, 1, 1])
