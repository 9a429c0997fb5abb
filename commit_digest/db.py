"""Engines and sessions for SQLite and PostgreSQL, and the Alembic upgrade entry point."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
log = structlog.get_logger(__name__)

# A web process's SQLite connections leave the WAL to a background checkpointer (below) until
# it holds this many pages (~40 MB); past that, as without it, the committing writer copies
# the WAL back into the database itself.
WEB_WAL_AUTOCHECKPOINT = 10_000


def make_engine(
    database_url: str,
    *,
    pool_size: int = 5,
    pre_ping: bool = True,
    autocommit: bool = False,
    wal_autocheckpoint: int | None = None,
) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and foreign keys switched on.

    ``pre_ping`` tests each pooled connection before use (a round trip); the web process
    turns it off and retries a transaction once instead when its connection had gone stale.
    ``autocommit`` (PostgreSQL): every statement is its own transaction, committed when it
    returns, on connections that stay in that mode (nothing to switch at each checkout).
    ``wal_autocheckpoint`` (SQLite): the WAL size in pages at which a commit checkpoints.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            # commit text, analyses and delivery bodies: readable by this user alone (SQLite
            # gives its -wal and -shm files the database file's permissions)
            Path(url.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            Path(url.database).touch(mode=0o600, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", partial(_sqlite_pragmas, autocheckpoint=wal_autocheckpoint))
        # Let SQLAlchemy emit BEGIN itself so that writers take the lock up front
        # (BEGIN IMMEDIATE) instead of failing to upgrade a read lock under contention.
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )


def _sqlite_pragmas(
    dbapi_connection: Any, _record: Any, *, autocheckpoint: int | None = None
) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    if autocheckpoint is not None:
        cursor.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint)}")
    cursor.close()


# Unlocked checkpoint passes at most, and the frames left over that a pass under the writers'
# lock may copy (~1 MB: a few ms).
CHECKPOINT_PASSES = 6
CHECKPOINT_LOCKED_FRAMES = 256
# The WAL size in frames (~16 MB) past which the checkpointer makes SQLite start it over: a
# short pass under the writers' lock (~12 ms here), two or three times a second at 1,000
# deliveries/s.
CHECKPOINT_RESTART_FRAMES = 4096


def checkpoint_wal(
    path: str, every: float, stop: threading.Event, writers_lock: str | None = None
) -> None:
    """Copy the WAL of the SQLite file at ``path`` back into the database every ``every`` s.

    A PASSIVE checkpoint takes no writer's lock: commits go on while it copies and syncs, so
    the fsync that a commit crossing the auto-checkpoint size would pay, holding every other
    writer up, happens here instead. Under steady writes, though, new frames arrive while it
    copies, the WAL is never wholly copied, and SQLite can never start it over: it grows to the
    auto-checkpoint size and a commit pays for all of it at once. So once the WAL holds
    ``CHECKPOINT_RESTART_FRAMES``, a last, short pass runs holding ``writers_lock`` (the web
    processes' turn, see ``Runtime.writer_turn``): it copies the last frames, and the next
    writer finds the WAL wholly copied and starts it from the top.

    Every web process runs this, but one at a time checkpoints: the one holding an exclusive
    lock on ``<path>-checkpointer``; when that process ends, the next to try takes over.
    Runs until ``stop`` is set.
    """
    connection = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    # open file descriptions of its own: a lock this thread takes holds off this process too
    lock = os.open(writers_lock, os.O_RDWR | os.O_CREAT, 0o600) if writers_lock else None
    leader = os.open(f"{path}-checkpointer", os.O_RDWR | os.O_CREAT, 0o600)
    leading = False
    try:
        while not stop.wait(every):
            if not leading:
                try:
                    fcntl.flock(leader, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # another process checkpoints
                leading = True
            try:
                _checkpoint(connection, lock)
            except sqlite3.Error as error:  # busy: a checkpoint by another connection
                log.debug("sqlite.checkpoint.skipped", error=str(error))
    finally:
        connection.close()
        os.close(leader)  # and with it the leadership
        if lock is not None:
            os.close(lock)


def _checkpoint(connection: sqlite3.Connection, lock: int | None) -> None:
    # passes without the lock until what is left to copy is small
    for _ in range(CHECKPOINT_PASSES):
        _, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames - copied <= CHECKPOINT_LOCKED_FRAMES:
            break
    if lock is None or frames < CHECKPOINT_RESTART_FRAMES:
        return
    # even when everything was copied: writers have appended since, so none of them found the
    # WAL wholly copied when it began, which is when SQLite starts the WAL over
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(database_url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision`` (``head`` by default)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
