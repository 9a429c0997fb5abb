"""What a process needs to do work: settings, the database and a Celery publisher.

A web process builds one in ``create_app``; a worker builds one from its Celery configuration
on first use (and again after a fork, since connections must not cross processes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from celery import Celery
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from workers.config import Settings
from workers.db import make_engine, make_session_factory


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    celery: Celery
    pid: int = field(default_factory=os.getpid)

    @classmethod
    def build(cls, settings: Settings, celery: Celery | None = None) -> Runtime:
        from workers.celery_app import make_celery

        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            celery=celery or make_celery(settings),
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


_current: Runtime | None = None


def worker_runtime(celery: Celery) -> Runtime:
    """The runtime of this worker process, built from the Celery app's settings."""
    global _current
    if _current is None or _current.pid != os.getpid():
        from workers.celery_app import settings_of

        if _current is not None:
            _current.engine.dispose(close=False)  # inherited over fork: drop, do not close
        _current = Runtime.build(settings_of(celery), celery=celery)
    return _current


def set_worker_runtime(runtime: Runtime | None) -> None:
    """Install the runtime tasks use in this process (commands that run work in-process)."""
    global _current
    _current = runtime
