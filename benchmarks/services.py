"""What the benchmarks run against: a fresh PostgreSQL schema, a Redis key prefix, gunicorn.

Everything here is made for one run and removed afterwards (also on Ctrl-C: callers use these
as context managers), so nothing collides with the tests or with another run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psutil
import sqlalchemy as sa

from commit_digest.db import upgrade

from support.isolation import drop_postgres_schema, forget_redis_prefix, postgres_schema_url
from support.processes import Service

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "It's a Secret to Everybody"  # noqa: S105 - the tests' webhook secret, for stand-ins
# Gunicorn sync workers for both apps of the ingest benchmark (and the pipeline's web process):
# two per core, so one worker's database or broker round trip overlaps another's CPU work.
WEB_WORKERS = 2 * (os.cpu_count() or 1)


def postgres_admin_url() -> str:
    return os.environ.get("COMMIT_DIGEST_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def redis_url() -> str:
    return os.environ.get("COMMIT_DIGEST_BENCH_REDIS_URL", DEFAULT_REDIS_URL)


@contextmanager
def fresh_postgres(label: str) -> Iterator[str]:
    """A migrated, empty schema of its own for the duration of the block, then dropped."""
    admin = postgres_admin_url()
    schema = f"cdbench_{label}_{uuid.uuid4().hex[:8]}"
    url = postgres_schema_url(admin, schema)
    try:
        upgrade(url)
        yield url
    finally:
        drop_postgres_schema(admin, schema)


def postgres_server_version() -> str:
    try:
        engine = sa.create_engine(postgres_admin_url())
        with engine.connect() as connection:
            version = str(connection.execute(sa.text("SHOW server_version")).scalar_one())
        engine.dispose()
    except sa.exc.SQLAlchemyError as error:
        return f"unreachable ({type(error).__name__})"
    return version


@contextmanager
def redis_prefix(label: str) -> Iterator[str]:
    """A unique REDIS_KEY_PREFIX; every key under it is deleted afterwards."""
    prefix = f"cdbench-{label}-{uuid.uuid4().hex[:10]}:"
    try:
        yield prefix
    finally:
        forget_redis_prefix(redis_url(), prefix)


@contextmanager
def running(service: Service, ready: str, timeout: float = 60.0) -> Iterator[Service]:
    """Start ``service`` and stop (or kill) its whole process group when the block ends."""
    try:
        service.start(ready=ready, timeout=timeout)
        yield service
    finally:
        service.stop()


def wait_for_web_workers(service: Service, count: int = WEB_WORKERS, timeout: float = 30) -> None:
    """Wait until gunicorn has booted ``count`` workers (the master answers before they do)."""
    from support.processes import wait_for

    wait_for(
        lambda: service.log_path.read_text(errors="replace").count("Booting worker") >= count,
        timeout=timeout,
        what=f"{service.name} to boot {count} workers",
    )


# --- where the CPU went ----------------------------------------------------------------------


@dataclass
class CpuMeter:
    """CPU seconds used by named groups of processes between ``start()`` and ``stop()``."""

    groups: dict[str, list[psutil.Process]] = field(default_factory=dict)
    _before: dict[str, dict[int, float]] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, processes: Iterable[psutil.Process]) -> None:
        self.groups.setdefault(name, []).extend(processes)

    def add_tree(self, name: str, pid: int) -> None:
        try:
            parent = psutil.Process(pid)
            self.add(name, [parent, *parent.children(recursive=True)])
        except psutil.NoSuchProcess:
            pass

    def add_postgres(self, name: str, client_pids: Iterable[int]) -> None:
        """PostgreSQL's background processes and the backends serving ``client_pids``' trees.

        Other clients' backends (another session's tests) are left out: a backend is ours
        when its client's port is the local port of one of our processes' connections.
        """
        ports: set[int] = set()
        for pid in client_pids:
            try:
                root = psutil.Process(pid)
                for process in [root, *root.children(recursive=True)]:
                    for connection in process.net_connections(kind="tcp"):
                        if connection.raddr and connection.raddr.port == 5432:
                            ports.add(connection.laddr.port)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        chosen = []
        for process in psutil.process_iter(["name", "cmdline"]):
            if process.info["name"] != "postgres":
                continue
            command = " ".join(process.info["cmdline"] or [])
            match = re.search(r"\((\d+)\)", command)  # "postgres: … 127.0.0.1(53124) idle"
            if match is None and "[local]" not in command:
                chosen.append(process)  # the server's own background processes
            elif match is not None and int(match[1]) in ports:
                chosen.append(process)
        self.add(name, chosen)

    def add_named(self, name: str, process_name: str) -> None:
        """Every process called ``process_name`` (the machine's PostgreSQL or Redis server)."""
        self.add(name, [p for p in psutil.process_iter(["name"]) if p.info["name"] == process_name])

    def start(self) -> None:
        self._before = {name: self._sample(ps) for name, ps in self.groups.items()}

    def stop(self) -> dict[str, float]:
        for name, processes in self.groups.items():
            after = self._sample(processes)
            before = self._before.get(name, {})
            self.used[name] = sum(t - before.get(pid, 0.0) for pid, t in after.items())
        return self.used

    @staticmethod
    def _sample(processes: Iterable[psutil.Process]) -> dict[int, float]:
        sample = {}
        for process in processes:
            try:
                times = process.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            sample[process.pid] = times.user + times.system
        return sample


def ensure_wrk() -> str:
    """The path of ``wrk``, installing the Debian package when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
    found = shutil.which("wrk")
    if not found:
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
        found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found
