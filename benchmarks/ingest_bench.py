"""Webhook intake under load: the real app against a do-nothing Flask app and a floor app.

All three run under gunicorn with the production config (``webhook.gunicorn_conf``, sync workers)
and ``WEB_WORKERS`` workers. ``wrk`` sends signed 3-commit pushes, each with a unique
``X-GitHub-Delivery`` id and new commit shas (precomputed: see ``ingest.lua``). After the run
the database must hold every delivery and its commits, and Redis the queued analyses.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis
import sqlalchemy as sa

from benchmarks.outcome import Shown, Spec, Target
from benchmarks.services import (
    SECRET,
    WEB_WORKERS,
    CpuMeter,
    ensure_wrk,
    fresh_postgres,
    postgres_admin_url,
    redis_prefix,
    redis_url,
    running,
    wait_for_web_workers,
)
from commit_digest.db import upgrade
from commit_digest.embedded_redis import free_port
from commit_digest.signature import sign

from support import payloads
from support.processes import gunicorn_web

HERE = Path(__file__).resolve().parent
LUA = HERE / "ingest.lua"
DURATION = float(os.environ.get("BENCH_INGEST_SECONDS", "15"))
WARMUP = 4.0
# the bare app answers ~4,200/s here; the real app a quarter of that
WARMUP_BODIES = 12_000
# One wrk thread drives the load: the server side needs both cores; one thread is enough to
# keep CONNECTIONS requests in flight (its CPU share is reported).
THREADS = 1
CONNECTIONS = int(os.environ.get("BENCH_INGEST_CONNECTIONS", str(2 * WEB_WORKERS)))
COMMITS_PER_PUSH = 3
REPOSITORIES = 20
# Bodies for the measured run: the warm-up's rate times this margin, times the duration.
BODY_MARGIN = 1.6

COST_REQUESTS = 800
# What one delivery's handling is made of (nested stages are indented; "rest" is the rest).
COST_STAGES = {
    "verify signature": "commit_digest.signature:verify_signature",
    "decode JSON": "webhook.payloads:decode_body",
    "parse push": "commit_digest.push:parse_push",
    "record delivery + commits": "commit_digest.intake:record_push",
    "  repository row": "commit_digest.storage:ensure_repository",
    "  one statement (PostgreSQL)": "commit_digest.intake:_record_postgres",
    "  two statements (SQLite)": "commit_digest.intake:_record_sqlite",
    "check out a connection (pool, pre-ping)": "sqlalchemy.engine.base:Engine.connect",
    "commit the transaction": "sqlalchemy.engine.base:Connection._commit_impl",
    "enqueue (one LPUSH)": "commit_digest.queueing:DirectPublisher.publish",
    "metrics (Redis)": "commit_digest.metrics:Metrics.count",
    "log lines (structlog)": "structlog._base:BoundLoggerBase._proxy_to_logger",
}


def _cost_key(label: str) -> str:
    return "cost_" + re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_") + "_ms"


SPEC = Spec(
    name="ingest",
    title="Webhook intake (gunicorn, PostgreSQL or SQLite, Redis) under wrk",
    baseline=(
        "a bare Flask app that answers 202 without reading the body, under the same gunicorn "
        "config and worker count, measured in the same run; and the floor app, a bare WSGI "
        "callable that checks the signature, commits one INSERT of the body on PostgreSQL and "
        "sends one LPUSH (the least an intake that commits before its 202 does)"
    ),
    method=(
        f"wrk, {THREADS} thread, {CONNECTIONS} connections, {DURATION:.0f} s after a "
        f"{WARMUP:.0f} s warm-up, `--latency`; signed {COMMITS_PER_PUSH}-commit pushes to "
        f"{REPOSITORIES} repositories, a unique delivery id and new shas each; gunicorn "
        f"`--config python:webhook.gunicorn_conf` (sync) with {WEB_WORKERS} workers "
        "(2 per core) for every app; the real app once on a fresh PostgreSQL schema and once on "
        "a fresh SQLite file, each with its own Redis key prefix, no Celery worker consuming"
    ),
    shown=(
        Shown("real_deliveries_per_s", "real app: deliveries/s", "bare_deliveries_per_s"),
        Shown("real_p50_ms", "real app: p50 latency", "bare_p50_ms"),
        Shown("real_p99_ms", "real app: p99 latency", "bare_p99_ms"),
        Shown(
            "sqlite_deliveries_per_s", "real app on SQLite: deliveries/s", "bare_deliveries_per_s"
        ),
        Shown("sqlite_p50_ms", "real app on SQLite: p50 latency", "bare_p50_ms"),
        Shown("sqlite_p99_ms", "real app on SQLite: p99 latency", "bare_p99_ms"),
        Shown("sqlite_to_bare_ratio", "throughput ratio real (SQLite)/bare"),
        Shown("sqlite_web_cpu_per_delivery_ms", "real app on SQLite: gunicorn CPU per delivery"),
        Shown("bare_deliveries_per_s", "bare app: deliveries/s"),
        Shown("bare_p50_ms", "bare app: p50 latency"),
        Shown("bare_p99_ms", "bare app: p99 latency"),
        Shown("real_to_bare_ratio", "throughput ratio real/bare"),
        Shown(
            "floor_deliveries_per_s",
            "floor app (signature, one INSERT, one LPUSH, on PostgreSQL): deliveries/s",
            "bare_deliveries_per_s",
        ),
        Shown("floor_p99_ms", "floor app: p99 latency", "bare_p99_ms"),
        Shown("floor_to_bare_ratio", "throughput ratio floor/bare"),
        Shown("real_to_floor_ratio", "throughput ratio real/floor"),
        Shown("floor_web_cpu_per_delivery_ms", "floor app: gunicorn CPU per delivery"),
        Shown("floor_postgres_cpu_per_delivery_ms", "floor app: PostgreSQL CPU per delivery"),
        Shown("real_web_cpu_per_delivery_ms", "real app: gunicorn CPU per delivery"),
        Shown("bare_web_cpu_per_delivery_ms", "bare app: gunicorn CPU per delivery"),
        Shown("real_postgres_cpu_per_delivery_ms", "real app: PostgreSQL CPU per delivery"),
        Shown("real_redis_cpu_per_delivery_ms", "real app: Redis CPU per delivery"),
        Shown("cost_total_ms", "in-process: app CPU per delivery (no gunicorn, no HTTP)"),
        *(Shown(_cost_key(label), f"in-process: {label}") for label in COST_STAGES),
        Shown("cost_rest_ms", "in-process: rest (the WSGI layer, headers, the JSON answer)"),
        Shown("real_wrk_cpu_pct", "real run: wrk's CPU (% of one core)"),
        Shown("bare_wrk_cpu_pct", "bare run: wrk's CPU (% of one core)"),
        Shown("real_deliveries_recorded", "real app: deliveries in the database"),
        Shown("real_commits_recorded", "real app: commits in the database"),
        Shown("real_tasks_queued", "real app: delivery messages waiting in Redis (one each)"),
        Shown("sqlite_deliveries_recorded", "real app on SQLite: deliveries in the database"),
        Shown("sqlite_commits_recorded", "real app on SQLite: commits in the database"),
        Shown("sqlite_tasks_queued", "real app on SQLite: delivery messages waiting in Redis"),
        Shown("real_repeated_bodies", "real app: requests that reused a body"),
    ),
    targets=(
        Target("real_deliveries_per_s", ">=", 1000, "real app ≥ 1,000 deliveries/s"),
        Target("real_p99_ms", "<=", 50, "real app p99 ≤ 50 ms"),
        Target("real_to_bare_ratio", ">=", 0.5, "throughput real/bare ≥ 0.5"),
        Target("real_not_202", "<=", 0, "every response a 202"),
        Target("real_unrecorded", "<=", 0, "every 202 delivery recorded with its commits"),
        Target("sqlite_deliveries_per_s", ">=", 1000, "SQLite: real app ≥ 1,000 deliveries/s"),
        Target("sqlite_p99_ms", "<=", 50, "SQLite: real app p99 ≤ 50 ms"),
        Target("sqlite_to_bare_ratio", ">=", 0.5, "SQLite: throughput real/bare ≥ 0.5"),
        Target("sqlite_not_202", "<=", 0, "SQLite: every response a 202"),
        Target(
            "sqlite_unrecorded", "<=", 0, "SQLite: every 202 delivery recorded with its commits"
        ),
    ),
)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    not_202: int
    socket_errors: int
    wraps: int
    bodies: int
    cpu_seconds: float  # wrk's own user+system time
    output: str

    @property
    def per_s(self) -> float:
        return (self.requests - self.not_202) / self.seconds


def write_bodies(path: Path, count: int, tag: str) -> None:
    """Write ``count`` signed push bodies, each with COMMITS_PER_PUSH commits never seen before."""
    bases = {}
    with path.open("w") as out:
        for index in range(count):
            repo = f"bench/repo-{index % REPOSITORIES}"
            commits = [
                payloads.commit(repo, f"{tag}:{index}:{n}", f"feat: change {index}.{n} ({tag})")
                for n in range(COMMITS_PER_PUSH)
            ]
            if repo not in bases:
                bases[repo] = payloads.push(repo, commits)
            payload = dict(bases[repo])
            payload["commits"] = commits
            payload["head_commit"] = commits[-1]
            payload["before"] = payloads.fake_sha(f"{repo}:{tag}:{index}:before")
            payload["after"] = commits[-1]["id"]
            body = json.dumps(payload)  # no raw newlines: one delivery per line
            out.write(f"{sign(body.encode(), SECRET)}\t{body}\n")


_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(wrk: str, url: str, bodies: Path, tag: str, seconds: float) -> WrkResult:
    """Run wrk against ``url`` and parse its report (and its own CPU time, from wait4)."""
    command = [
        wrk,
        "--threads",
        str(THREADS),
        "--connections",
        str(CONNECTIONS),
        "--duration",
        f"{seconds:.0f}s",
        "--timeout",
        "10s",
        "--latency",
        "--script",
        str(LUA),
        url,
        "--",
        str(bodies),
        tag,
        str(THREADS),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    try:
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)  # wait4: wrk's own CPU time
    except BaseException:  # Ctrl-C: no load generator left behind
        process.kill()
        process.wait()
        raise
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output}")
    latencies = {m[1]: float(m[2]) * _UNITS[m[3]] for m in _LATENCY.finditer(output)}
    total = re.search(r"(\d+) requests in ([\d.]+)(m|s)", output)
    bench = re.search(r"bench not_202=(\d+) wraps=(\d+) bodies=(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if total is None or bench is None or "50" not in latencies or "99" not in latencies:
        raise RuntimeError(f"cannot read wrk's report:\n{output}")
    return WrkResult(
        requests=int(total[1]),
        seconds=float(total[2]) * (60 if total[3] == "m" else 1),
        p50_ms=latencies["50"],
        p99_ms=latencies["99"],
        not_202=int(bench[1]),
        socket_errors=sum(int(x) for x in errors.groups()) if errors else 0,
        wraps=int(bench[2]),
        bodies=int(bench[3]),
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        output=output,
    )


def _measure(
    label: str, app: str, env: dict[str, str], workdir: Path, wrk: str, figures: dict[str, float]
) -> WrkResult:
    """Warm ``app`` up, then measure it; put its figures under ``label``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/github"
    warm_bodies = workdir / f"{label}-warm.bodies"
    # enough for the warm-up never to send a body twice (a repeat is a 200 duplicate, which
    # would then be counted as an answered delivery the database does not have)
    write_bodies(warm_bodies, WARMUP_BODIES, f"{label}-warm")
    service = gunicorn_web(env, workdir, port, workers=WEB_WORKERS, name=f"{label}-web", app=app)
    with running(service, ready="Listening at"):
        wait_for_web_workers(service)
        warm = run_wrk(wrk, url, warm_bodies, f"{label}-warm", WARMUP)
        needed = max(math.ceil(warm.per_s * BODY_MARGIN * DURATION), 2000)
        if label == "bare":  # the bare app never reads them: reusing bodies costs it nothing
            needed = 2000
        bodies = workdir / f"{label}.bodies"
        started = time.perf_counter()
        write_bodies(bodies, needed, label)
        print(
            f"  {label}: warm-up {warm.per_s:,.0f}/s; {needed:,} bodies written in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        meter = CpuMeter()
        assert service.process is not None
        meter.add_tree("web", service.process.pid)
        meter.add_postgres("postgres", [service.process.pid])
        meter.add_named("redis", "redis-server")
        meter.start()
        result = run_wrk(wrk, url, bodies, label, DURATION)
        used = meter.stop()
    answered = max(result.requests, 1)
    figures[f"{label}_deliveries_per_s"] = result.per_s
    figures[f"{label}_p50_ms"] = result.p50_ms
    figures[f"{label}_p99_ms"] = result.p99_ms
    figures[f"{label}_not_202"] = result.not_202
    figures[f"{label}_socket_errors"] = result.socket_errors
    figures[f"{label}_wrk_cpu_pct"] = 100 * result.cpu_seconds / result.seconds
    figures[f"{label}_web_cpu_per_delivery_ms"] = 1000 * used["web"] / answered
    figures[f"{label}_postgres_cpu_per_delivery_ms"] = 1000 * used["postgres"] / answered
    figures[f"{label}_redis_cpu_per_delivery_ms"] = 1000 * used["redis"] / answered
    figures[f"{label}_repeated_bodies"] = max(result.requests - result.bodies, 0)
    figures[f"{label}_warmup_requests"] = warm.requests - warm.not_202
    print(
        f"  {label}: {result.per_s:,.0f} deliveries/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, non-202 {result.not_202}, socket errors "
        f"{result.socket_errors}, wrk CPU {figures[f'{label}_wrk_cpu_pct']:.0f} % of a core",
        flush=True,
    )
    return result


def _verify(
    label: str,
    database_url: str,
    prefix: str,
    figures: dict[str, float],
    answered_202: int,
    wraps: int,
) -> None:
    """Count what the real app recorded and queued."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        deliveries = connection.execute(sa.text("SELECT count(*) FROM deliveries")).scalar_one()
        commits = connection.execute(sa.text("SELECT count(*) FROM commits")).scalar_one()
        incomplete = connection.execute(
            sa.text(
                # grouped once, not counted per delivery (SQLite has no index on delivery_id)
                "SELECT count(*) FROM deliveries d LEFT JOIN (SELECT delivery_id, count(*) AS n "
                "FROM commits GROUP BY delivery_id) c ON c.delivery_id = d.id "
                "WHERE d.outcome = 'accepted' AND coalesce(c.n, 0) <> :n"
            ),
            {"n": COMMITS_PER_PUSH},
        ).scalar_one()
    engine.dispose()
    client = redis.Redis.from_url(redis_url())
    queued = client.llen(f"{prefix}intake")
    client.close()
    figures[f"{label}_deliveries_recorded"] = deliveries
    figures[f"{label}_commits_recorded"] = commits
    figures[f"{label}_tasks_queued"] = queued
    # requests still in flight when wrk stopped are recorded but not counted by wrk
    missing = max(answered_202 - deliveries, 0)
    if wraps == 0:
        missing += incomplete
    figures[f"{label}_unrecorded"] = missing
    print(
        f"  {label}: {deliveries:,} deliveries and {commits:,} commits recorded "
        f"({answered_202:,} answered 202), {queued:,} delivery messages queued",
        flush=True,
    )


def in_process_app(
    env: dict[str, str], workdir: Path, count: int, tag: str
) -> tuple[Callable[[int], None], Callable[[], None]]:
    """The real app built as gunicorn builds it, and a function that sends it delivery N.

    Logging is configured as in a long-lived web process, its lines thrown away; ``count``
    signed 3-commit pushes are written first. Returns ``deliver(n)`` (raises unless 202) and
    ``close()``.
    """
    from commit_digest.config import load_settings
    from commit_digest.logs import configure_logging
    from webhook import create_app

    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115
    try:
        configure_logging("info", "json", long_lived=True)
    finally:
        sys.stderr = stderr
    app = create_app(load_settings(env, dotenv_path=None))
    bodies = workdir / f"{tag}.bodies"
    write_bodies(bodies, count, tag)
    deliveries = [line.rstrip("\n").split("\t", 1) for line in bodies.open()]

    def deliver(index: int) -> None:
        signature, body = deliveries[index]
        environ = payloads.wsgi_environ(body.encode(), signature, f"{tag}-{index}")
        statuses: list[str] = []
        b"".join(app.wsgi_app(environ, lambda status, headers: statuses.append(status)))
        if not statuses[0].startswith("202"):
            raise RuntimeError(f"in-process delivery answered {statuses[0]}")

    return deliver, app.extensions["commit_digest"].close


def request_costs(env: dict[str, str], workdir: Path) -> dict[str, float]:
    """CPU per delivery of the real app called in this process, split into its stages.

    The app is built as gunicorn builds it (same settings, PostgreSQL, Redis) and called through
    WSGI directly, one request at a time, so each stage's thread CPU time is its own.
    """
    from benchmarks.stagetimer import StageTimer

    deliver, close = in_process_app(env, workdir, COST_REQUESTS + 200, "cost")
    timer = StageTimer()
    with timer.wrapped(COST_STAGES):
        for index in range(200):  # warm-up: connections, statement caches, prepared statements
            deliver(index)
        timer.reset()
        cpu = time.thread_time()
        for index in range(200, 200 + COST_REQUESTS):
            deliver(index)
        total = time.thread_time() - cpu
    close()
    figures = {"cost_total_ms": 1000 * total / COST_REQUESTS}
    top_level = 0.0
    for label, stage in timer.stages.items():
        figures[_cost_key(label)] = 1000 * stage.cpu / COST_REQUESTS
        if not label.startswith(" "):
            top_level += stage.cpu
    figures["cost_rest_ms"] = 1000 * (total - top_level) / COST_REQUESTS
    print(
        "  in-process CPU per delivery: "
        + ", ".join(
            f"{label.strip()} {figures[_cost_key(label)]:.2f} ms"
            for label in COST_STAGES
            if _cost_key(label) in figures
        )
        + f", rest {figures['cost_rest_ms']:.2f} ms; total {figures['cost_total_ms']:.2f} ms",
        flush=True,
    )
    if timer.missing:
        print(f"  (not found, not timed: {', '.join(timer.missing)})", flush=True)
    return figures


def settle_writes() -> None:
    """Let what was written before reach the disk before the next measured run starts.

    PostgreSQL writes changes back in checkpoints of its own timing, and the kernel its dirty
    pages; landing in a measured run, they show there: the SQLite run after the PostgreSQL one
    had a p99 of 90 ms that the same run alone did not have (33–37 ms), and a PostgreSQL run
    right after a whole `make bench` measured 880/s, p99 70 ms (1,033–1,056/s, p99 18–40 ms
    otherwise). Called before the floor run, before the bare run (which writes nothing, so the
    checkpoint's aftermath has passed when the real PostgreSQL run starts) and before the SQLite
    run.
    """
    engine = sa.create_engine(postgres_admin_url())
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("CHECKPOINT"))
    except sa.exc.SQLAlchemyError as error:  # not a superuser: the kernel's sync still runs
        print(f"  (no PostgreSQL CHECKPOINT before the run: {type(error).__name__})", flush=True)
    finally:
        engine.dispose()
    os.sync()


def run() -> dict[str, float]:
    """Measure the bare app and the real one on PostgreSQL and on SQLite; return the figures."""
    wrk = ensure_wrk()
    figures: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory(prefix="cdbench-ingest-") as tmp,
        fresh_postgres("ingest") as database_url,
        redis_prefix("ingest") as prefix,
        redis_prefix("ingest-sqlite") as sqlite_prefix,
    ):
        workdir = Path(tmp)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url(),
            "REDIS_KEY_PREFIX": prefix,
            "DATA_DIR": str(workdir / "data"),
            "LOG_FORMAT": "json",
        }
        settle_writes()  # what earlier benchmarks wrote
        # the signature check, one committed INSERT and one LPUSH: the least the guarantee costs
        _measure("floor", "benchmarks.floor_app:create_app()", env, workdir, wrk, figures)
        # the floor's writes settled before the bare run, which writes nothing, so that their
        # checkpoint lands in neither the bare run nor the real one (right after the floor, the
        # real app's p99 was 169-278 ms; alone, 20 ms)
        settle_writes()
        _measure("bare", "benchmarks.bare_app:create_app()", env, workdir, wrk, figures)
        real = _measure("real", "webhook:create_app()", env, workdir, wrk, figures)
        answered = real.requests - real.not_202 + int(figures["real_warmup_requests"])
        _verify("real", database_url, prefix, figures, answered, real.wraps)
        figures |= request_costs(env, workdir)

        sqlite_url = f"sqlite:///{workdir / 'ingest.db'}"
        upgrade(sqlite_url)
        sqlite_env = {**env, "DATABASE_URL": sqlite_url, "REDIS_KEY_PREFIX": sqlite_prefix}
        settle_writes()
        lite = _measure("sqlite", "webhook:create_app()", sqlite_env, workdir, wrk, figures)
        answered = lite.requests - lite.not_202 + int(figures["sqlite_warmup_requests"])
        _verify("sqlite", sqlite_url, sqlite_prefix, figures, answered, lite.wraps)
    figures["floor_to_bare_ratio"] = figures["floor_deliveries_per_s"] / max(
        figures["bare_deliveries_per_s"], 1e-9
    )
    figures["real_to_floor_ratio"] = figures["real_deliveries_per_s"] / max(
        figures["floor_deliveries_per_s"], 1e-9
    )
    for label in ("real", "sqlite"):
        figures[f"{label}_to_bare_ratio"] = figures[f"{label}_deliveries_per_s"] / max(
            figures["bare_deliveries_per_s"], 1e-9
        )
    return figures


if __name__ == "__main__":
    print(run())


def notes(f: dict[str, float]) -> list[str]:
    """Why targets were missed, from this run's figures (and the profile they point to)."""
    out: list[str] = []
    cores = os.cpu_count() or 1
    real, bare = f.get("real_deliveries_per_s", 0.0), f.get("bare_deliveries_per_s", 0.0)
    web = f.get("real_web_cpu_per_delivery_ms", 0.0)
    pg = f.get("real_postgres_cpu_per_delivery_ms", 0.0)
    rd = f.get("real_redis_cpu_per_delivery_ms", 0.0)
    wrk_ms = f.get("real_wrk_cpu_pct", 0.0) * 10 / max(real, 1e-9)
    total = web + pg + rd + wrk_ms
    out.append(
        f"Where the CPU goes under load, per delivery: gunicorn workers {web:.2f} ms, PostgreSQL "
        f"{pg:.2f} ms, Redis {rd:.2f} ms, wrk {wrk_ms:.2f} ms — {total:.2f} ms in all, so "
        f"{cores} cores cannot serve more than ≈{cores * 1000 / max(total, 1e-9):,.0f} "
        f"deliveries/s; measured {real:,.0f}/s. The real app is CPU-bound (the bare app needs "
        f"{f.get('bare_web_cpu_per_delivery_ms', 0.0):.2f} ms of gunicorn CPU per request)."
    )
    out.append(
        f"wrk is not the bottleneck: it used {f.get('real_wrk_cpu_pct', 0.0):.0f} % of one core "
        f"in the real run and {f.get('bare_wrk_cpu_pct', 0.0):.0f} % in the bare run (1 thread, "
        f"{CONNECTIONS} connections)."
    )
    cost = {label.strip(): f.get(_cost_key(label), 0.0) for label in COST_STAGES}
    if "cost_total_ms" in f:
        nested = [label.strip() for label in COST_STAGES if label.startswith(" ")]
        out.append(
            f"Inside the app (called in-process through WSGI, no gunicorn, no HTTP), one "
            f"delivery costs {f['cost_total_ms']:.2f} ms of CPU: "
            + ", ".join(
                f"{label.strip()} {cost[label.strip()]:.2f} ms"
                + (
                    f" ({', '.join(f'{n} {cost[n]:.2f}' for n in nested)})"
                    if label.strip() == "record delivery + commits"
                    else ""
                )
                for label in COST_STAGES
                if not label.startswith(" ")
            )
            + ", and the WSGI layer, headers and the JSON answer "
            + f"{f.get('cost_rest_ms', 0.0):.2f} ms."
        )
    if real < 1000:
        floor = f.get("bare_web_cpu_per_delivery_ms", 0.0) + pg + rd
        out.append(
            f"What 1,000/s needs: ≤ {cores * 1000 / 1000:.1f} ms of CPU per delivery for "
            f"everything on {cores} cores. gunicorn + Flask alone (the bare app) take "
            f"{f.get('bare_web_cpu_per_delivery_ms', 0.0):.2f} ms and PostgreSQL + Redis "
            f"{pg + rd:.2f} ms, {floor:.2f} ms together, leaving ≈"
            f"{max(cores - floor, 0):.2f} ms for commit-digest's own Python per delivery "
            f"(now {max(web - f.get('bare_web_cpu_per_delivery_ms', 0.0), 0):.2f} ms). "
            "With PostgreSQL and Redis on other machines the same code would top out at ≈"
            f"{cores * 1000 / max(web + wrk_ms, 1e-9):,.0f}/s here."
        )
    if f.get("real_p99_ms", 0.0) > 50:
        out.append(
            f"p99 {f.get('real_p99_ms', 0.0):.0f} ms is queueing, not slow requests: wrk keeps "
            f"{CONNECTIONS} requests in flight against {WEB_WORKERS} sync workers, so at "
            f"{real:,.0f}/s the mean wait is ≈{CONNECTIONS / max(real, 1e-9) * 1000:.0f} ms "
            f"(Little's law); at 1,000/s the same load would mean ≈"
            f"{CONNECTIONS / 1000 * 1000:.0f} ms. p99 follows throughput."
        )
    if f.get("real_to_bare_ratio", 1.0) < 0.5:
        half = bare / 2
        budget = cores * 1000 / max(half, 1e-9)
        left = budget - pg - rd
        bare_web = f.get("bare_web_cpu_per_delivery_ms", 0.0)
        own = left - bare_web
        verdict = (
            "so no change to the app alone can reach it with the database on the same machine"
            if own <= 0
            else f"so commit-digest's own work would have to fit in ≈{own:.2f} ms per delivery "
            f"(now ≈{max(web - bare_web, 0):.2f} ms)"
        )
        out.append(
            f"real/bare ≥ 0.5 means ≥ {half:,.0f} deliveries/s, i.e. at most ≈{budget:.2f} ms of "
            f"CPU per delivery for everything on {cores} cores. PostgreSQL and Redis use "
            f"{pg + rd:.2f} ms per delivery here and gunicorn + Flask alone (the bare app) "
            f"{bare_web:.2f} ms, {verdict}. The ratio sets a committed transaction per delivery "
            "against an app that does nothing; it moves with the bare app's rate, which is "
            "itself sensitive to other load on the machine."
        )
    if "floor_to_bare_ratio" in f:
        floor_ratio = f["floor_to_bare_ratio"]
        out.append(
            f"The floor app — a bare WSGI callable that only checks the signature, commits one "
            f"INSERT and sends one LPUSH — served {f.get('floor_deliveries_per_s', 0.0):,.0f}/s "
            f"in the same run, {floor_ratio:.2f}× the bare app"
            + (
                ": below 0.5 itself, so no intake that commits before it answers reaches 0.5 "
                f"with {WEB_WORKERS} sync workers on this machine. "
                if floor_ratio < 0.5
                else ". "
            )
            + f"The real app served {f.get('real_to_floor_ratio', 0.0):.2f}× the floor."
        )
    if f.get("real_repeated_bodies", 0):
        out.append(
            f"{f['real_repeated_bodies']:.0f} requests of the real run reused a body (new "
            "delivery id, commits already known): fewer bodies were generated than sent."
        )
    return out
