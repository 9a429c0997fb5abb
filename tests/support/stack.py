"""A running commit-digest for integration tests: real worker process, shared database, Redis."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from commit_digest.config import Settings, load_settings
from commit_digest.models import Analysis, Commit, Repository
from commit_digest.runtime import Runtime
from webhook import create_app

from support.processes import Service, celery_worker, wait_for


@dataclass
class LiveStack:
    env: dict[str, str]
    workdir: Path
    github: Any = None
    llm: Any = None
    smtp: Any = None
    workers: list[Service] = field(default_factory=list)
    _app: Flask | None = None
    _runtime: Runtime | None = None

    @property
    def settings(self) -> Settings:
        return load_settings(self.env)

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = Runtime.build(self.settings)
        return self._runtime

    @property
    def app(self) -> Flask:
        if self._app is None:
            self._app = create_app(self.settings)
        return self._app

    def start_worker(self, name: str = "worker", **options: object) -> Service:
        import os

        service = celery_worker(
            {**os.environ, **self.env}, self.workdir / name, name=name, **options
        )  # type: ignore[arg-type]
        service.start(ready="ready.")
        self.workers.append(service)
        return service

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self._app is not None:
            self._app.extensions["commit_digest"].close()
        if self._runtime is not None:
            self._runtime.close()

    # --- looking at what happened ---------------------------------------------------------

    def commit_ids(self, repository: str) -> list[int]:
        with self.runtime.session() as session:
            return list(
                session.execute(
                    select(Commit.id)
                    .join(Repository)
                    .where(Repository.full_name == repository)
                    .order_by(Commit.id)
                ).scalars()
            )

    def analysis_count(self, commit_ids: Iterable[int]) -> int:
        ids = list(commit_ids)
        with self.runtime.session() as session:
            return int(
                session.execute(
                    select(func.count()).select_from(Analysis).where(Analysis.commit_id.in_(ids))
                ).scalar_one()
            )

    def wait_for_analyses(self, repository: str, count: int, timeout: float = 30.0) -> list[int]:
        def done() -> list[int] | None:
            ids = self.commit_ids(repository)
            return ids if len(ids) >= count and self.analysis_count(ids) >= count else None

        result = wait_for(done, timeout=timeout, what=f"{count} analyses of {repository}")
        assert isinstance(result, list)
        return result
