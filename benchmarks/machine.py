"""Describe the machine a run measured: CPU, memory, kernel, Python and the packages that matter."""

from __future__ import annotations

import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

PACKAGES = ("flask", "gunicorn", "celery", "sqlalchemy", "psycopg", "redis", "kombu", "openai")


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or what platform knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float:
    """Total memory in GiB from /proc/meminfo."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _version_of(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        return "not installed"
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def describe() -> dict[str, str]:
    """Name → value lines for the machine section of RESULTS.md."""
    info = {
        "CPU": cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": f"{memory_gib():.1f} GiB",
        "kernel": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
    }
    for package in PACKAGES:
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    info["wrk"] = _version_of(["wrk", "--version"]).split(" Copyright")[0]
    info["redis-server"] = _version_of(["redis-server", "--version"])
    info["PostgreSQL"] = _version_of(["psql", "--version"])
    return info


def speed_probe() -> float:
    """Milliseconds a fixed CPython workload takes now (the median of three tries).

    The workload allocates and walks many small objects, as the services do. On a virtual
    machine the same code's CPU time can move by 2× with the host's other tenants, which
    no process list or steal counter here shows; timed before and after each benchmark, it
    tells a slow machine from slow code.
    """
    tries = []
    enabled = gc.isenabled()
    gc.disable()  # the collector would walk this process's own heap, whatever its size
    try:
        for _ in range(3):
            started = time.perf_counter()
            rows = [{"sha": f"{n:040x}", "n": n, "files": [str(n)] * 3} for n in range(20_000)]
            json.loads(json.dumps(rows))
            tries.append((time.perf_counter() - started) * 1000)
    finally:
        if enabled:
            gc.enable()
    return statistics.median(tries)


class ForeignLoad:
    """CPU used by processes that are not this benchmark's, sampled while a benchmark runs.

    Everything descended from this process is the benchmark's, and so are the PostgreSQL and
    Redis servers it uses; any other process (another session's tests, a package install) is
    foreign load that depresses the figures. Sampled twice a second, so processes living
    less than that are missed: the figure is a lower bound.
    """

    SERVERS = frozenset({"postgres", "redis-server"})

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._names: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="foreign-load", daemon=True)
        self._started = 0.0
        self._seconds = 0.0
        self._cpu_before: Any = None
        self._cpu_after: Any = None
        self.load_before = self.load_after = (0.0, 0.0, 0.0)
        self.speed_before = self.speed_after = 0.0

    def __enter__(self) -> ForeignLoad:
        self.speed_before = speed_probe()
        self.load_before = os.getloadavg()
        self._cpu_before = psutil.cpu_times()
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._seconds = time.monotonic() - self._started
        self._cpu_after = psutil.cpu_times()
        self.load_after = os.getloadavg()
        self.speed_after = speed_probe()

    def _ours(self, process: psutil.Process) -> bool:
        try:
            if process.pid == os.getpid() or process.name() in self.SERVERS:
                return True
            return any(parent.pid == os.getpid() for parent in process.parents())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for process in psutil.process_iter():
                pid = process.pid
                try:
                    if pid not in self._names:
                        if self._ours(process):
                            self._names[pid] = ""
                            continue
                        self._names[pid] = " ".join(process.cmdline()[:3])[:80]
                    if not self._names[pid]:
                        continue
                    times = process.cpu_times()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                used = times.user + times.system
                self._first.setdefault(pid, used)
                self._last[pid] = used

    def result(self) -> dict[str, Any]:
        """Cores used by foreign processes on average, the busiest of them, and the steal."""
        used = {pid: self._last[pid] - self._first.get(pid, 0.0) for pid in self._last}
        seconds = max(self._seconds, 1e-9)
        by_command: dict[str, float] = {}
        for pid, cpu in used.items():
            by_command[self._names[pid]] = by_command.get(self._names[pid], 0.0) + cpu
        busiest = sorted(by_command.items(), key=lambda item: item[1], reverse=True)[:3]
        steal = 0.0
        if self._cpu_before is not None and self._cpu_after is not None:
            steal = getattr(self._cpu_after, "steal", 0.0) - getattr(self._cpu_before, "steal", 0.0)
        return {
            "foreign_cores": sum(used.values()) / seconds,
            "steal_cores": steal / seconds,
            "busiest": [(name, round(cpu / seconds, 2)) for name, cpu in busiest if cpu > 0],
            "load_before": self.load_before,
            "load_after": self.load_after,
            "probe_before_ms": self.speed_before,
            "probe_after_ms": self.speed_after,
        }
