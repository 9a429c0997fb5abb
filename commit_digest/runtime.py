"""What a process needs to do work: settings, the database and a Celery publisher.

A web process builds one in ``create_app``; a worker builds one from its Celery configuration
on first use (and again after a fork, since connections must not cross processes).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from celery import Celery
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from commit_digest.config import Settings
from commit_digest.db import (
    WEB_WAL_AUTOCHECKPOINT,
    checkpoint_wal,
    make_engine,
    make_session_factory,
)
from commit_digest.storage import RepositoryCache

T = TypeVar("T")
# how often a web process checkpoints its SQLite WAL (checkpoint_in_background)
WAL_CHECKPOINT_SECONDS = 0.2

if TYPE_CHECKING:
    from commit_digest.analysis.github import GitHub
    from commit_digest.analysis.llm import Analyzer
    from commit_digest.metrics import Metrics
    from commit_digest.queueing import DirectPublisher
    from commit_digest.repo_settings import InstallationConfig


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    celery: Celery
    pid: int = field(default_factory=os.getpid)
    _github: dict[int | None, GitHub] = field(default_factory=dict)
    _analyzer: Analyzer | None = None
    _metrics: Metrics | None = None
    _installation: InstallationConfig | None = None
    _publisher: DirectPublisher | None = None
    _writer_lock: tuple[int, int] | None = None  # (pid, descriptor of the SQLite writers' lock)
    _autocommit: Engine | None = None
    checkpoint_in_background: bool = False
    _checkpointer: tuple[int, threading.Event] | None = None  # (pid, its stop event)
    repositories: RepositoryCache = field(default_factory=dict)
    # > 0 in web processes: metrics are added up in memory and sent at most this often
    metrics_flush_interval: float = 0.0

    @classmethod
    def build(
        cls,
        settings: Settings,
        celery: Celery | None = None,
        *,
        pre_ping: bool = True,
        checkpoint_in_background: bool = False,
    ) -> Runtime:
        """``checkpoint_in_background`` (the web process): on a SQLite file, commits leave the
        WAL to a thread that checkpoints it every WAL_CHECKPOINT_SECONDS, off the request path."""
        from commit_digest.queueing import make_celery

        engine = make_engine(
            settings.database_url,
            pre_ping=pre_ping,
            wal_autocheckpoint=WEB_WAL_AUTOCHECKPOINT if checkpoint_in_background else None,
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            celery=celery or make_celery(settings),
            checkpoint_in_background=checkpoint_in_background,
        )

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A plain connection in a transaction that commits on success (the request path)."""
        with self.engine.begin() as connection:
            yield connection

    def in_transaction(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a transaction, once more if the connection turned out to be dead.

        Without pre-ping a pooled connection may have died with a database restart; the
        failed transaction did nothing, the pool drops its stale connections, and the
        second attempt gets a fresh one. On a SQLite file the web processes take turns
        (``writer_turn``) instead of meeting in SQLite's sleeping busy handler.
        """
        for attempt in (1, 2):
            try:
                with self.writer_turn(), self.connection() as connection:
                    return work(connection)
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def in_single_statements(self, work: Callable[[Connection], T]) -> T:
        """Run ``work``, each of whose writes is one atomic statement, without a transaction.

        On PostgreSQL a statement outside a transaction is committed when it returns, so the
        BEGIN and COMMIT round trips are saved (the webhook's record of a push is one
        statement: this is one round trip). Elsewhere, and if ``work`` ever needs two writes
        to stand or fall together, it is ``in_transaction``. A connection lost after the
        server committed but before it answered makes the retry a duplicate, as a lost answer
        to COMMIT did: the recorded commits are then queued by the sweep (a stale queue).
        """
        if self.engine.dialect.name != "postgresql":
            return self.in_transaction(work)
        engine = self.autocommit_engine()
        for attempt in (1, 2):
            try:
                with engine.connect() as connection:
                    return work(connection)
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def autocommit_engine(self) -> Engine:
        """PostgreSQL connections in autocommit mode, in their own small pool (built once)."""
        if self._autocommit is None:
            # a web process records one push at a time
            self._autocommit = make_engine(
                self.settings.database_url, pool_size=1, pre_ping=False, autocommit=True
            )
        return self._autocommit

    @contextmanager
    def writer_turn(self) -> Iterator[None]:
        """On a SQLite file: hold an exclusive lock on ``<file>-writers`` for one transaction.

        SQLite lets one writer in at a time and makes the others sleep and retry (1, 2, 5, 10 …
        ms), which under a burst of webhooks turns into a p99 of 100 ms. A kernel file lock
        queues the web processes and wakes the next one the moment the lock is released.
        Other databases (and in-memory SQLite) need no turn.
        """
        path = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if not path or path == ":memory:":
            yield
            return
        if self._writer_lock is None or self._writer_lock[0] != os.getpid():
            # opened per process: a descriptor inherited over fork would share the lock
            fd = os.open(f"{path}-writers", os.O_RDWR | os.O_CREAT, 0o600)
            self._writer_lock = (os.getpid(), fd)
            if self.checkpoint_in_background:
                self._start_checkpointer(path)
        fd = self._writer_lock[1]
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _start_checkpointer(self, path: str) -> None:
        """One checkpointing thread per process, started where it runs (threads do not fork)."""
        stop = threading.Event()
        threading.Thread(
            target=checkpoint_wal,
            args=(path, WAL_CHECKPOINT_SECONDS, stop, f"{path}-writers"),
            name="sqlite-checkpoint",
            daemon=True,
        ).start()
        self._checkpointer = (os.getpid(), stop)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.sessions.begin() as session:
            yield session

    def github(self, installation_id: int | None) -> GitHub:
        """The GitHub client for an installation (or the token / anonymous one), built once."""
        if installation_id not in self._github:
            from commit_digest.analysis.github import make_github

            self._github[installation_id] = make_github(self.settings, installation_id)
        return self._github[installation_id]

    def analyzer(self) -> Analyzer:
        """The LLM analyzer of this process, built once (no I/O until the first call)."""
        if self._analyzer is None:
            from commit_digest.analysis.llm import OpenAIAnalyzer

            self._analyzer = OpenAIAnalyzer(self.settings, self.metrics)
        return self._analyzer

    @property
    def publisher(self) -> DirectPublisher:
        """The request path's publisher (one LPUSH per message, no Celery machinery)."""
        if self._publisher is None:
            from commit_digest.queueing import DirectPublisher

            self._publisher = DirectPublisher(self.settings)
        return self._publisher

    @property
    def metrics(self) -> Metrics:
        """Where this process counts (Redis-backed, shared by every process)."""
        if self._metrics is None:
            from commit_digest.metrics import Metrics

            self._metrics = Metrics(
                self.settings.redis_url,
                self.settings.redis_key_prefix or "",
                flush_interval=self.metrics_flush_interval,
            )
        return self._metrics

    @property
    def installation(self) -> InstallationConfig:
        """The operator's CONFIG_FILE (teams, channels, people, defaults), read once."""
        if self._installation is None:
            from commit_digest.repo_settings import load_installation_config

            self._installation = load_installation_config(self.settings.config_file)
        return self._installation

    def close(self) -> None:
        if self._checkpointer is not None and self._checkpointer[0] == os.getpid():
            self._checkpointer[1].set()
        self.engine.dispose()
        if self._autocommit is not None:
            self._autocommit.dispose()


_current: Runtime | None = None


def worker_runtime(celery: Celery) -> Runtime:
    """The runtime of this worker process, built from the Celery app's settings."""
    global _current
    if _current is None or _current.pid != os.getpid():
        from commit_digest.queueing import settings_of

        if _current is not None:
            _current.engine.dispose(close=False)  # inherited over fork: drop, do not close
        _current = Runtime.build(settings_of(celery), celery=celery)
    return _current
