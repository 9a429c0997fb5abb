"""The request path's shortcuts: one message per delivery, one statement, no metrics round trip."""

from __future__ import annotations

import base64
import dataclasses
import fcntl
import json
import os
import re
import sqlite3
import threading
import time
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import event, select

from commit_digest.config import Settings
from commit_digest.db import WEB_WAL_AUTOCHECKPOINT, checkpoint_wal
from commit_digest.intake import delivery_work
from commit_digest.metrics import Metrics
from commit_digest.models import Commit, Delivery
from commit_digest.queueing import ANALYZE, DISPATCH, DirectPublisher, make_celery, publish
from commit_digest.runtime import Runtime

from conftest import deliver
from support import payloads
from support.broker import queued_tasks


def _raw_messages(settings: Settings, queue: str) -> list[dict[str, object]]:
    assert settings.redis_url is not None
    client = redis.Redis.from_url(settings.redis_url)
    raw = client.lrange(f"{settings.redis_key_prefix}{queue}", 0, -1)
    return [json.loads(item) for item in raw]


def _without_ids(message: dict[str, object]) -> dict[str, object]:
    """A message with what differs between any two messages (ids, origin) blanked.

    The body is compared as the JSON it encodes: its spacing is the serializer's.
    """
    body = json.loads(base64.b64decode(str(message["body"])))
    headers = dict(message["headers"])  # type: ignore[call-overload]
    properties = dict(message["properties"])  # type: ignore[call-overload]
    for key in ("id", "root_id", "origin"):
        headers[key] = "*"
    for key in ("correlation_id", "delivery_tag", "reply_to"):
        properties[key] = "*"
    return {**message, "body": body, "headers": headers, "properties": properties}


def test_direct_message_is_what_celery_writes(settings: Settings) -> None:
    """The one-LPUSH publisher writes the message Celery's send_task writes, ids aside."""
    publish(make_celery(settings), ANALYZE, [42])
    assert DirectPublisher(settings).publish(ANALYZE, 42)
    ours, celery = _raw_messages(settings, "analysis")  # LPUSH: newest first
    assert _without_ids(ours) == _without_ids(celery)
    body = json.loads(base64.b64decode(str(ours["body"])))
    assert body[0] == [42]


def test_direct_publisher_says_so_when_redis_is_down(settings: Settings) -> None:
    """An unreachable broker is a False, at once, not an exception in the request."""
    down = dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")
    started = time.monotonic()
    assert DirectPublisher(down).publish(DISPATCH, 1) is False
    assert time.monotonic() - started < 5


def test_a_push_is_one_message_whatever_its_size(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """A 20-commit push queues one dispatch message; the delivery's work lists its 20 commits."""
    repo = "octo/fast-path"
    commits = [payloads.commit(repo, f"c{n}", f"feat: change {n}") for n in range(20)]
    response = deliver(client, json.dumps(payloads.push(repo, commits)).encode())
    assert response.status_code == 202
    assert response.json["queued"] == 20
    tasks = queued_tasks(settings)
    assert [(t.queue, t.task) for t in tasks] == [("intake", DISPATCH)]
    with runtime.connection() as connection:
        commit_ids, fetch_missing = delivery_work(connection, int(tasks[0].args[0]))  # type: ignore[call-overload]
        shas = connection.execute(
            select(Commit.sha).where(Commit.id.in_(commit_ids)).order_by(Commit.id)
        ).scalars()
        assert list(shas) == [c["id"] for c in commits]
    assert fetch_missing is False


def test_dispatch_failure_leaves_the_commits_to_the_sweep(
    client_with: object, runtime: Runtime
) -> None:
    """With the broker down the push is still 202, recorded, and its commits marked unqueued."""
    client = client_with(REDIS_URL="redis://127.0.0.1:1/0")  # type: ignore[operator]
    repo = "octo/broker-down"
    commits = [payloads.commit(repo, f"c{n}", f"fix: thing {n}") for n in range(3)]
    response = deliver(client, json.dumps(payloads.push(repo, commits)).encode())
    assert response.status_code == 202
    assert response.json["queued"] == 0
    with runtime.session() as session:
        queued = session.execute(select(Commit.queued_at)).scalars().all()
    assert len(queued) == 3
    assert all(q is None for q in queued)


def test_a_repeated_delivery_records_nothing_in_its_one_statement(
    client: FlaskClient, runtime: Runtime, settings: Settings
) -> None:
    """The same delivery again is a duplicate: no commit row, no second message."""
    repo = "octo/again"
    body = json.dumps(payloads.push(repo, [payloads.commit(repo, "x", "docs: x")])).encode()
    assert deliver(client, body, delivery="same-1").status_code == 202
    again = deliver(client, body, delivery="same-1")
    assert (again.status_code, again.json) == (200, {"status": "duplicate"})
    assert len(queued_tasks(settings)) == 1
    with runtime.session() as session:
        assert len(session.execute(select(Commit.id)).all()) == 1


def test_odd_text_survives_the_one_statement(client: FlaskClient, runtime: Runtime) -> None:
    """Emoji, CJK, quotes and a NUL reach the commit row as sent (NUL as its visible mark)."""
    repo = "octo/odd-text"
    message = "feat: 表情 😀 \"quoted\" 'single' \\ back\x00slash"
    commit = payloads.commit(
        repo, "odd", message, author="Zoë 😀 " + "n" * 2_000, added=["新しい/ファイル.md"]
    )
    response = deliver(client, json.dumps(payloads.push(repo, [commit])).encode())
    assert response.status_code == 202
    with runtime.session() as session:
        row = session.execute(select(Commit)).scalar_one()
    assert row.message == message.replace("\x00", "\u2400")
    assert row.author_name == "Zoë 😀 " + "n" * 2_000
    assert row.files is not None
    assert row.files["added"] == ["新しい/ファイル.md"]


def test_recorded_rows_read_back_as_sqlalchemy_writes_them(
    client: FlaskClient, runtime: Runtime
) -> None:
    """The driver-level record stores values the ORM reads back as it would its own.

    Times come back as aware UTC datetimes equal to the payload's (a +02:00 timestamp too),
    the file lists as JSON, the body compressed, a delivery id on every commit.
    """
    repo = "octo/read-back"
    when = datetime(2026, 2, 3, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    commit = payloads.commit(
        repo, "rb", "fix: read back", timestamp=when, added=["a.py"], modified=["b/c.py"]
    )
    assert deliver(client, json.dumps(payloads.push(repo, [commit])).encode()).status_code == 202
    with runtime.session() as session:
        row = session.execute(select(Commit)).scalar_one()
        delivery = session.execute(select(Delivery)).scalar_one()
    assert row.committed_at == when
    assert row.committed_at is not None
    assert row.committed_at.utcoffset() == timedelta(0)
    assert row.files == {"added": ["a.py"], "removed": [], "modified": ["b/c.py"]}
    assert (row.source, row.attempts, row.delivery_id) == ("webhook", 0, delivery.id)
    assert row.queued_at == row.created_at == delivery.received_at
    assert delivery.received_at.tzinfo is not None
    assert delivery.body is not None
    assert json.loads(zlib.decompress(delivery.body))["ref"]
    if runtime.engine.dialect.name == "sqlite":  # stored as SQLAlchemy's own rows are: text
        with runtime.engine.connect() as connection:
            stored = connection.exec_driver_sql(
                "SELECT committed_at, landed_at, created_at FROM commits"
            ).one()
            ours = connection.exec_driver_sql("SELECT received_at FROM deliveries").scalar()
        assert stored[0] == "2026-02-03 08:30:15.123456"
        for text in (*stored, ours):
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", text), text


def test_a_push_larger_than_one_statement_records_every_commit(
    client: FlaskClient, runtime: Runtime
) -> None:
    """1,200 commits (more rows than SQLite takes in one statement) are all recorded and queued."""
    repo = "octo/huge-push"
    commits = [payloads.commit(repo, f"h{n}", f"feat: change {n}") for n in range(1_200)]
    response = deliver(client, json.dumps(payloads.push(repo, commits)).encode())
    assert response.status_code == 202
    assert (response.json["new"], response.json["queued"]) == (1_200, 1_200)
    with runtime.session() as session:
        assert len(session.execute(select(Commit.id)).all()) == 1_200


def test_postgres_records_a_push_in_one_round_trip(client: FlaskClient, tmp_path: Path) -> None:
    """On PostgreSQL the push is one autocommitted statement: no BEGIN, no COMMIT on the wire.

    libpq's own trace of the protocol messages the connection sent is what is counted.
    """
    runtime: Runtime = client.application.extensions["commit_digest"]
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("the one round trip is PostgreSQL's")
    repo = "octo/one-trip"
    for n in (1, 2):  # the repository row: inserted, then read back committed and kept
        body = json.dumps(payloads.push(repo, [payloads.commit(repo, f"w{n}", "feat: warm")]))
        assert deliver(client, body.encode()).status_code == 202
    trace = tmp_path / "libpq.trace"
    with trace.open("w") as sink:

        def traced(dbapi_connection: Any, *_: Any) -> None:
            dbapi_connection.pgconn.trace(sink.fileno())

        event.listen(runtime.autocommit_engine(), "checkout", traced)
        third = payloads.push(repo, [payloads.commit(repo, f"t{n}", "fix: x") for n in (1, 2, 3)])
        response = deliver(client, json.dumps(third).encode())
        event.remove(runtime.autocommit_engine(), "checkout", traced)
    assert (response.status_code, response.json["new"]) == (202, 3)
    # a line: time, F(rontend) or B(ackend), length, message type, its content
    sent = [line.split("\t")[3] for line in trace.read_text().splitlines() if "\tF\t" in line]
    assert "BEGIN" not in trace.read_text()
    assert "COMMIT" not in trace.read_text()
    assert sent.count("Sync") == 1, sent  # one round trip: one group of messages, one Sync
    with runtime.session() as session:
        assert len(session.execute(select(Commit.id)).all()) == 5


def test_web_metrics_are_added_up_and_sent_once(settings: Settings) -> None:
    """With a flush interval, many counts make one Redis write of their sum; a read flushes."""
    metrics = Metrics(settings.redis_url, settings.redis_key_prefix or "", flush_interval=3600)
    reader = Metrics(settings.redis_url, settings.redis_key_prefix or "")
    metrics.count("deliveries", event="push", outcome="accepted")  # the first count flushes
    for _ in range(99):
        metrics.count("deliveries", event="push", outcome="accepted")
    counters, _ = reader.read()
    assert counters["deliveries|event=push,outcome=accepted"] == 1
    counters, _ = metrics.read()
    assert counters["deliveries|event=push,outcome=accepted"] == 100


def test_sqlite_writers_take_turns(tmp_path: Path, runtime: Runtime) -> None:
    """On a SQLite file a transaction waits for the writers' lock and runs once it is free."""
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("the writers' lock is SQLite's")
    path = f"{runtime.engine.url.database}-writers"
    with runtime.writer_turn():  # creates the lock file, private to its owner
        pass
    assert Path(path).stat().st_mode & 0o777 == 0o600
    done = threading.Event()
    with open(path, "r+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        worker = threading.Thread(
            target=lambda: (
                runtime.in_transaction(lambda c: c.exec_driver_sql("SELECT 1")),
                done.set(),
            )
        )
        worker.start()
        assert not done.wait(0.5)  # waiting for its turn
        fcntl.flock(held, fcntl.LOCK_UN)
    assert done.wait(10)
    worker.join()


def test_checkpointer_copies_the_wal_back_without_a_writer(tmp_path: Path) -> None:
    """The background checkpoint moves committed pages into the database file by itself."""
    path = str(tmp_path / "wal.db")
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")  # no commit checkpoints: only the thread
    connection.execute("CREATE TABLE t (x BLOB)")
    for _ in range(50):
        connection.execute("INSERT INTO t VALUES (randomblob(4000))")
    before = Path(path).stat().st_size
    stop = threading.Event()
    thread = threading.Thread(target=checkpoint_wal, args=(path, 0.05, stop))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while Path(path).stat().st_size <= before and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)
    assert Path(path).stat().st_size > before + 50 * 4000
    assert not thread.is_alive()
    connection.close()


def test_web_commits_leave_the_checkpoint_to_a_thread(client: FlaskClient) -> None:
    """On a SQLite file the web process's commits do not checkpoint until ~40 MB of WAL; a
    thread of its own, started with its first write, does it every second."""
    runtime: Runtime = client.application.extensions["commit_digest"]
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("the WAL is SQLite's")
    repo = "octo/wal"
    body = json.dumps(payloads.push(repo, [payloads.commit(repo, "w", "fix: w")])).encode()
    assert deliver(client, body).status_code == 202
    with runtime.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert pages == WEB_WAL_AUTOCHECKPOINT
    assert "sqlite-checkpoint" in {thread.name for thread in threading.enumerate()}


def test_one_process_checkpoints_at_a_time(tmp_path: Path) -> None:
    """While another process holds the checkpointer's lock, this one copies nothing; when that
    process lets go (it ended), this one takes over."""
    path = str(tmp_path / "lead.db")
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE t (x BLOB)")
    for _ in range(50):
        connection.execute("INSERT INTO t VALUES (randomblob(4000))")
    before = Path(path).stat().st_size
    other = os.open(f"{path}-checkpointer", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other, fcntl.LOCK_EX)  # the other process leads
    stop = threading.Event()
    thread = threading.Thread(target=checkpoint_wal, args=(path, 0.02, stop))
    thread.start()
    try:
        time.sleep(0.5)
        assert Path(path).stat().st_size == before
        os.close(other)  # the leader's process ended
        deadline = time.monotonic() + 10
        while Path(path).stat().st_size <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert Path(path).stat().st_size > before + 50 * 4000
    finally:
        stop.set()
        thread.join(5)
        connection.close()


def test_the_wal_starts_over_under_steady_writes(tmp_path: Path) -> None:
    """Writers that never pause still find the WAL wholly copied now and then, so it is
    reused from the top instead of growing: the file stays smaller than what was written."""
    path = str(tmp_path / "steady.db")
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")  # only the checkpointer
    connection.execute("CREATE TABLE t (x BLOB)")
    writers = os.open(f"{path}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    stop = threading.Event()
    thread = threading.Thread(target=checkpoint_wal, args=(path, 0.05, stop, f"{path}-writers"))
    thread.start()
    written = 0
    try:
        while written < 160_000_000:  # 160 MB in 4 KB rows, as fast as they go
            fcntl.flock(writers, fcntl.LOCK_EX)
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO t VALUES (randomblob(4000))")
            connection.execute("COMMIT")
            fcntl.flock(writers, fcntl.LOCK_UN)
            written += 4000
    finally:
        stop.set()
        thread.join(5)
        os.close(writers)
    # never restarted, the WAL holds all 160 MB and more (504 MB measured); restarted, it is
    # reused from the top (86 MB at most seen on a busy CI machine, where the thread runs late)
    assert Path(f"{path}-wal").stat().st_size < written
    assert connection.execute("SELECT count(*) FROM t").fetchone()[0] == 40_000
    connection.close()


def _environ(body: bytes, **extra: str) -> dict[str, Any]:
    """A WSGI environ for a signed push, as gunicorn builds it (no Content-Length unless given)."""
    from commit_digest.signature import sign

    from conftest import SECRET

    environ = payloads.wsgi_environ(
        body,
        sign(body, SECRET),
        f"fast-{time.monotonic_ns()}",
        CONTENT_TYPE="application/json; charset=utf-8",
        **extra,
    )
    if "CONTENT_LENGTH" not in extra:
        del environ["CONTENT_LENGTH"]
    return environ


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    statuses: list[str] = []
    body = b"".join(app.wsgi_app(environ, lambda status, headers: statuses.append(status)))
    return statuses[0], json.loads(body)


def test_a_delivery_with_a_length_skips_flask_a_chunked_one_goes_through_it(app: Any) -> None:
    """Flask builds no request for a delivery with a Content-Length; a chunked one gets Flask's
    view, and both are recorded alike."""
    from flask import request_started

    repo = "acme/fast"
    started: list[object] = []

    def seen(sender: object, **extra: object) -> None:
        started.append(sender)

    body = json.dumps(payloads.push(repo, [payloads.commit(repo, "f1", "fix: a")])).encode()
    chunked = json.dumps(payloads.push(repo, [payloads.commit(repo, "f2", "fix: b")])).encode()
    with request_started.connected_to(seen, app):
        fast = _call(app, _environ(body, CONTENT_LENGTH=str(len(body))))
        assert started == []
        slow = _call(app, _environ(chunked, HTTP_TRANSFER_ENCODING="chunked"))
        assert len(started) == 1
    assert (fast[0], fast[1]["new"]) == ("202 Accepted", 1)
    assert (slow[0], slow[1]["new"]) == ("202 ACCEPTED", 1)


def test_a_body_shorter_than_its_length_is_a_clear_400(app: Any) -> None:
    """A client that hangs up mid-body gets one line, not a signature failure or a 500."""
    body = b'{"zen": "short"}'
    status, answer = _call(app, _environ(body, CONTENT_LENGTH=str(len(body) + 10)))
    assert status == "400 Bad Request"
    assert answer == {"error": "the body ended before its Content-Length"}


def test_an_unexpected_error_is_a_json_500_and_logged(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in a handler answers as Flask would (JSON 500) and is logged with its traceback."""
    import webhook.intake

    def broken(*_: object) -> Any:
        raise RuntimeError("handler bug")

    logged: list[tuple[str, BaseException | None]] = []

    class Recorder:
        def exception(self, event: str) -> None:
            import sys

            logged.append((event, sys.exc_info()[1]))

    monkeypatch.setattr(webhook.intake, "handler_for", lambda event: broken)
    monkeypatch.setattr(webhook.intake, "log", Recorder())
    body = b'{"zen": "x"}'
    status, answer = _call(app, _environ(body, CONTENT_LENGTH=str(len(body))))
    assert status == "500 Internal Server Error"
    assert "error" in answer
    assert [(event, str(error)) for event, error in logged] == [
        ("webhook.request.failed", "handler bug")
    ]
