"""Record what a delivery brings, in one transaction, before the webhook answers."""

from __future__ import annotations

import functools
import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from commit_digest.config import Settings
from commit_digest.models import COMMITS, DELIVERIES, QuarantinedDelivery
from commit_digest.push import Push, PushCommit
from commit_digest.queueing import ANALYZE, FETCH_PUSH, publish
from commit_digest.storage import (
    Executor,
    RepositoryCache,
    ensure_repository,
    insert_ignoring_conflicts,
    is_postgres,
    unique_commits,
)

if TYPE_CHECKING:
    from commit_digest.runtime import Runtime


@dataclass(frozen=True)
class DeliveryInfo:
    """The headers and raw body of one webhook delivery."""

    guid: str
    event: str
    received_at: datetime
    body: bytes = field(repr=False)
    hook_id: str = ""

    @property
    def body_key(self) -> str:
        """What makes a delivery the same one again: the hook and the exact signed body."""
        return hashlib.sha256(self.hook_id.encode() + b"\n" + self.body).hexdigest()


@dataclass(frozen=True)
class PushOutcome:
    """What recording a push did; ``commit_ids`` are the new commits to analyse."""

    status: str  # accepted, ignored, duplicate
    reason: str | None = None
    delivery_id: int | None = None
    commit_ids: tuple[int, ...] = ()
    known: int = 0
    fetch_missing: bool = False


def claim_delivery(session: Executor, info: DeliveryInfo, **columns: object) -> int | None:
    """Insert the delivery row; None when this delivery, or its very body, was recorded before.

    A signed body replayed under fresh delivery ids is the same delivery: the unique body
    key turns it into a duplicate, so it records nothing and calls nothing again.
    """
    table = DELIVERIES
    statement = (
        insert_ignoring_conflicts(session, table)
        .values(
            guid=info.guid,
            event=info.event,
            received_at=info.received_at,
            body_key=info.body_key,
            **columns,
        )
        .returning(table.c.id)
    )
    return session.execute(statement).scalar_one_or_none()


def ignore_reason(push: Push, settings: Settings) -> str | None:
    """Why this push records no commits, or None when its commits are analysed."""
    if push.is_tag:
        return "tag"
    if push.branch is None:
        return "not-a-branch"
    if push.is_deletion:
        return "branch-deleted"
    if push.is_merge_queue:
        return "merge-queue"
    if not settings.branch_is_tracked(push.branch, push.repository.default_branch):
        return "untracked-branch"
    return None


def record_push(
    session: Executor,
    settings: Settings,
    info: DeliveryInfo,
    push: Push,
    repositories: RepositoryCache | None = None,
) -> PushOutcome:
    """Record the delivery and its new commits; the caller commits, then enqueues.

    On PostgreSQL the delivery and its commits go in one statement (one round trip); on
    SQLite, which has no round trips, in two prepared statements.
    """
    reason = ignore_reason(push, settings)
    fetch_missing = reason is None and push.may_be_incomplete
    repository_id = ensure_repository(
        session, push.repository, push.installation_id, info.received_at, repositories
    )
    delivery = {
        "guid": info.guid,
        "event": info.event,
        "received_at": info.received_at,
        "body_key": info.body_key,
        "repository_id": repository_id,
        "ref": push.ref,
        "before_sha": push.before,
        "after_sha": push.after,
        "outcome": "accepted" if reason is None else f"ignored:{reason}",
        "commits_in_payload": len(push.commits),
        "pushed_at": push.pushed_at,
        "body": zlib.compress(info.body, 1),
        "compare_state": "pending" if fetch_missing else None,
        "compare_queued_at": info.received_at if fetch_missing else None,
    }
    commits = unique_commits(push.commits) if reason is None else []
    # a redelivery days later still lands on the day GitHub says the push happened
    landed_at = push.pushed_at or info.received_at
    if is_postgres(session):
        delivery_id, new_ids = _record_postgres(session, delivery, commits, push, landed_at)
    else:
        delivery_id, new_ids = _record_sqlite(session, delivery, commits, push, landed_at)
    if delivery_id is None:
        return PushOutcome(status="duplicate")
    if reason is not None:
        return PushOutcome(status="ignored", reason=reason, delivery_id=delivery_id)
    return PushOutcome(
        status="accepted",
        delivery_id=delivery_id,
        commit_ids=tuple(new_ids),
        known=len(commits) - len(new_ids),
        fetch_missing=fetch_missing,
    )


# The delivery and its commits in one statement (psycopg's parameter style): the commits arrive
# as one JSON parameter.
# When the delivery is a duplicate, ``d`` is empty, no commit is inserted and no row returns.
_RECORD_PUSH_POSTGRES = """
    WITH d AS (
        INSERT INTO deliveries (guid, event, received_at, body_key, repository_id, ref,
            before_sha, after_sha, outcome, commits_in_payload, pushed_at, body,
            compare_state, compare_queued_at)
        VALUES (%(guid)s, %(event)s, %(received_at)s, %(body_key)s, %(repository_id)s,
            %(ref)s, %(before_sha)s, %(after_sha)s, %(outcome)s, %(commits_in_payload)s,
            %(pushed_at)s, %(body)s, %(compare_state)s, %(compare_queued_at)s)
        ON CONFLICT DO NOTHING
        RETURNING id
    ), c AS (
        INSERT INTO commits (repository_id, sha, delivery_id, branch, message, author_name,
            author_email, author_login, committed_at, landed_at, url, files, source,
            created_at, queued_at, attempts)
        SELECT %(repository_id)s, v.sha, d.id, %(branch)s, v.message, v.author_name,
            v.author_email, v.author_login, v.committed_at, %(landed_at)s, v.url, v.files,
            'webhook', %(received_at)s, %(received_at)s, 0
        FROM d CROSS JOIN json_to_recordset(CAST(%(commits)s AS json)) AS v(
            sha text, message text, author_name text, author_email text, author_login text,
            committed_at timestamptz, url text, files json)
        ON CONFLICT DO NOTHING
        RETURNING id
    )
    SELECT d.id, ARRAY(SELECT id FROM c) FROM d
    """


def _record_postgres(
    session: Executor,
    delivery: dict[str, object],
    commits: list[PushCommit],
    push: Push,
    landed_at: datetime,
) -> tuple[int | None, list[int]]:
    rows = [
        {
            "sha": c.sha,
            "message": c.message,
            "author_name": c.author_name,
            "author_email": c.author_email,
            "author_login": c.author_login,
            "committed_at": c.committed_at.isoformat() if c.committed_at else None,
            "url": c.url,
            "files": c.files(),
        }
        for c in commits
    ]
    params = {
        **delivery,
        "branch": push.branch,
        "landed_at": landed_at,
        "commits": orjson.dumps(rows).decode(),
    }
    # the driver's own SQL and parameters on the driver's own cursor, inside the transaction
    # SQLAlchemy holds: nothing compiled, typed or wrapped per request (the values are already
    # what psycopg sends: aware datetimes, bytes, a JSON string), and psycopg prepares the
    # statement on the server after a few uses of the connection
    found = _on_driver_cursor(session, _RECORD_PUSH_POSTGRES, params)
    if not found:
        return None, []
    row = found[0]
    return int(row[0]), [int(i) for i in row[1]]


def _on_driver_cursor(session: Executor, sql: str, params: Any) -> list[Any]:
    """Run ``sql`` on the driver's cursor in the open transaction; return the rows it returns.

    A driver error comes out as SQLAlchemy's class for it (a value the database refuses is a
    DataError or IntegrityError and gets quarantined; a database that is down is an
    OperationalError, a 503), and a connection the server dropped is not given back to the pool.
    """
    connection = session.connection() if isinstance(session, Session) else session
    driver = connection.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    except connection.dialect.loaded_dbapi.Error as error:
        if connection.dialect.is_disconnect(error, driver, cursor):
            connection.invalidate(error)
        raise DBAPIError.instance(
            sql,
            None,
            error,
            connection.dialect.loaded_dbapi.Error,
            hide_parameters=True,
            dialect=connection.dialect,
        ) from error
    finally:
        cursor.close()


_DELIVERY_COLUMNS = (
    "guid", "event", "received_at", "body_key", "repository_id", "ref", "before_sha",
    "after_sha", "outcome", "commits_in_payload", "pushed_at", "body", "compare_state",
    "compare_queued_at",
)  # fmt: skip
_COMMIT_COLUMNS = (
    "repository_id", "sha", "delivery_id", "branch", "message", "author_name", "author_email",
    "author_login", "committed_at", "landed_at", "url", "files", "source", "created_at",
    "queued_at", "attempts",
)  # fmt: skip
# SQLite takes at most 32,766 parameters in one statement; a push names at most 2,048 commits
_SQLITE_ROWS_PER_STATEMENT = 500


@functools.lru_cache(maxsize=8)
def _sqlite_binders(
    dialect: Dialect, table: str, columns: tuple[str, ...]
) -> tuple[Callable[[Any], Any] | None, ...]:
    """Each column's own bind processor: values go to the driver as SQLAlchemy would send them."""
    owner = DELIVERIES if table == "deliveries" else COMMITS
    # the type as this dialect stores it (SQLite's DATETIME text, its JSON), as compiled
    # statements do: a TypeDecorator's own impl would leave datetimes to the driver's adapter
    return tuple(
        owner.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    )


@functools.lru_cache(maxsize=64)
def _sqlite_insert(table: str, columns: tuple[str, ...], rows: int) -> str:
    values = ", ".join(["(" + ", ".join("?" * len(columns)) + ")"] * rows)
    # names from the constants above and placeholders only: no value is ever in the text
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} "  # noqa: S608
        "ON CONFLICT DO NOTHING RETURNING id"
    )


def _sqlite_values(
    dialect: Dialect, table: str, columns: tuple[str, ...], rows: list[dict[str, Any]]
) -> list[Any]:
    binders = _sqlite_binders(dialect, table, columns)
    values: list[Any] = []
    for row in rows:
        for name, bind in zip(columns, binders, strict=True):
            value = row[name]
            values.append(value if bind is None or value is None else bind(value))
    return values


def _record_sqlite(
    session: Executor,
    delivery: dict[str, Any],
    commits: list[PushCommit],
    push: Push,
    landed_at: datetime,
) -> tuple[int | None, list[int]]:
    """The delivery, then its commits, as two statements on the driver's cursor.

    SQLite runs in this process, so a statement costs no round trip, only SQLAlchemy's
    compiling and typing per call; each value is bound by its column's own processor, so the
    rows read back exactly as if SQLAlchemy had written them.
    """
    dialect = (session.connection() if isinstance(session, Session) else session).dialect
    found = _on_driver_cursor(
        session,
        _sqlite_insert("deliveries", _DELIVERY_COLUMNS, 1),
        _sqlite_values(dialect, "deliveries", _DELIVERY_COLUMNS, [delivery]),
    )
    if not found:
        return None, []
    delivery_id = int(found[0][0])
    if not commits:
        return delivery_id, []
    now = delivery["received_at"]
    rows = [
        {
            "repository_id": delivery["repository_id"],
            "sha": c.sha,
            "delivery_id": delivery_id,
            "branch": push.branch,
            "message": c.message,
            "author_name": c.author_name,
            "author_email": c.author_email,
            "author_login": c.author_login,
            "committed_at": c.committed_at,
            "landed_at": landed_at,
            "url": c.url,
            "files": c.files(),
            "source": "webhook",
            "created_at": now,
            "queued_at": now,
            "attempts": 0,
        }
        for c in commits
    ]
    new_ids: list[int] = []
    for start in range(0, len(rows), _SQLITE_ROWS_PER_STATEMENT):
        chunk = rows[start : start + _SQLITE_ROWS_PER_STATEMENT]
        found = _on_driver_cursor(
            session,
            _sqlite_insert("commits", _COMMIT_COLUMNS, len(chunk)),
            _sqlite_values(dialect, "commits", _COMMIT_COLUMNS, chunk),
        )
        new_ids.extend(int(row[0]) for row in found)
    return delivery_id, new_ids


def record_other_event(session: Executor, info: DeliveryInfo, outcome: str) -> bool:
    """Record a ping or an ignored event; False when it is a redelivery."""
    return claim_delivery(session, info, outcome=outcome) is not None


def mark_not_queued(session: Executor, commit_ids: list[int]) -> None:
    """Forget that these commits were queued (the publish failed), so the sweep picks them up."""
    if commit_ids:
        session.execute(update(COMMITS).where(COMMITS.c.id.in_(commit_ids)).values(queued_at=None))


def quarantine(session: Executor, info: DeliveryInfo, reason: str) -> None:
    """Keep a delivery that could not be stored (its raw body and why) for a person to look at."""
    session.execute(
        insert(QuarantinedDelivery).values(
            guid=info.guid,
            event=info.event,
            reason=reason[:2_000],
            body=info.body,
            received_at=info.received_at,
        )
    )


def fan_out(rt: Runtime, delivery_id: int) -> list[int]:
    """Queue what a recorded push delivery leaves to do: one analysis per new commit, and the
    fetch of the commits its payload left out. Returns the commit ids that reached the broker.

    The web process sends one message per delivery (``DISPATCH``); a worker runs this. What
    does not reach the broker here is marked unqueued in the database for the sweep.
    """
    with rt.connection() as connection:
        commit_ids, fetch_missing = delivery_work(connection, delivery_id)
    queued = publish(rt.celery, ANALYZE, commit_ids)
    if len(queued) < len(commit_ids):
        with rt.connection() as connection:
            mark_not_queued(connection, commit_ids)
    if fetch_missing:
        publish(rt.celery, FETCH_PUSH, [delivery_id])
    return queued


def delivery_work(session: Executor, delivery_id: int) -> tuple[list[int], bool]:
    """What a recorded push delivery leaves to do: its commits still to analyse (in payload
    order) and whether the commits the payload left out are still to be fetched."""
    ids = session.execute(
        select(COMMITS.c.id)
        .where(
            COMMITS.c.delivery_id == delivery_id,
            COMMITS.c.analysed_at.is_(None),
            COMMITS.c.queued_at.is_not(None),
        )
        .order_by(COMMITS.c.id)
    ).scalars()
    state = session.execute(
        select(DELIVERIES.c.compare_state).where(DELIVERIES.c.id == delivery_id)
    ).scalar_one_or_none()
    return list(ids), state == "pending"
