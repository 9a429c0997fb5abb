"""Real processes for tests: a Celery worker, beat, gunicorn — started, watched, stopped, killed."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wait_for(
    predicate: Callable[[], object],
    timeout: float = 20.0,
    interval: float = 0.05,
    what: str = "condition",
) -> object:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Service:
    """A child process with its output in a log file, in its own process group."""

    def __init__(
        self, name: str, command: list[str], env: Mapping[str, str], workdir: Path
    ) -> None:
        self.name = name
        self.command = command
        self.env = dict(env)
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready: str | None = None, timeout: float = 30.0) -> Service:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.workdir,  # never pick up a developer's .env from the checkout
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if ready is not None:
            wait_for(
                lambda: self._ready(ready), timeout=timeout, what=f"{self.name} to log {ready!r}"
            )
        return self

    def _ready(self, marker: str) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(
                f"{self.name} exited with {self.process.returncode}:\n{self.tail()}"
            )
        return marker in self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, signum: int) -> None:
        if self.alive and self.process is not None:
            os.killpg(self.process.pid, signum)

    def stop(self, timeout: float = 20.0) -> None:
        if not self.alive or self.process is None:
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def celery_worker(
    env: Mapping[str, str],
    workdir: Path,
    *,
    name: str = "worker",
    concurrency: int = 2,
    queues: str = "intake,analysis,comments,reports",
    pool: str = "prefork",
) -> Service:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers",
        "worker",
        "--queues",
        queues,
        "--concurrency",
        str(concurrency),
        "--pool",
        pool,
        "--hostname",
        f"{name}-{os.getpid()}@%h",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "info",
    ]
    return Service(name, command, {**env, "PYTHONPATH": str(ROOT)}, workdir)


def celery_beat(env: Mapping[str, str], workdir: Path, *, name: str = "beat") -> Service:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers",
        "beat",
        "--schedule",
        str(workdir / name / "celerybeat-schedule"),
        "--loglevel",
        "info",
    ]
    return Service(name, command, {**env, "PYTHONPATH": str(ROOT)}, workdir / name)


def gunicorn_web(
    env: Mapping[str, str],
    workdir: Path,
    port: int,
    *,
    workers: int = 2,
    name: str = "web",
    app: str = "webhook:create_app()",
) -> Service:
    """``app`` (``module:factory()``) under gunicorn with the production config."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--config",
        "python:webhook.gunicorn_conf",
        app,
    ]
    return Service(name, command, {**env, "PYTHONPATH": str(ROOT)}, workdir / name)
