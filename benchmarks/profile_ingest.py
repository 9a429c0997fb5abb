"""cProfile of the webhook request path, in-process (`python -m benchmarks.profile_ingest`).

The app is built as gunicorn builds it (``create_app`` from the environment's settings, logging
configured for a long-lived process, lines thrown away) on PostgreSQL and on a SQLite file, with
Redis, and called through WSGI with signed 3-commit pushes, as ``ingest_bench.request_costs``
does. Writes ``benchmarks/profiles/ingest-request-<name>.txt``: the CPU per delivery without
the profiler, then the profile in cumulative and in own-time order.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.ingest_bench import SECRET, in_process_app
from benchmarks.services import fresh_postgres, redis_prefix, redis_url
from commit_digest.db import upgrade

PROFILES = Path(__file__).resolve().parent / "profiles"
WARM = 200
MEASURED = 2_000
PROFILED = 1_000
ROWS = 30


def profile(env: dict[str, str], workdir: Path) -> str:
    """The figures and profile of one database, as text."""
    deliver, close = in_process_app(env, workdir, WARM + MEASURED + PROFILED, "profile")
    for index in range(WARM):
        deliver(index)
    cpu, wall = time.thread_time(), time.perf_counter()
    for index in range(WARM, WARM + MEASURED):
        deliver(index)
    cpu_ms = 1000 * (time.thread_time() - cpu) / MEASURED
    wall_ms = 1000 * (time.perf_counter() - wall) / MEASURED
    profiler = cProfile.Profile()
    profiler.enable()
    for index in range(WARM + MEASURED, WARM + MEASURED + PROFILED):
        deliver(index)
    profiler.disable()
    close()
    out = io.StringIO()
    out.write(
        f"# without the profiler: {cpu_ms:.3f} ms of CPU and {wall_ms:.3f} ms of wall clock per "
        f"delivery ({MEASURED:,} deliveries after {WARM} warm-up)\n"
    )
    stats = pstats.Stats(profiler, stream=out)
    out.write(f"\n## cumulative, {PROFILED:,} deliveries under the profiler\n")
    stats.sort_stats("cumulative").print_stats(ROWS)
    out.write("\n## own time\n")
    stats.sort_stats("tottime").print_stats(ROWS)
    return out.getvalue().replace(str(Path(sys.prefix)), "<venv>")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_ingest")
    parser.add_argument("--name", default="after", help="written as ingest-request-NAME.txt")
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    parts = [
        f"# cProfile of the webhook request path, called in-process through WSGI "
        f"(python -m benchmarks.profile_ingest), on {commit or 'this tree'}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n"
        "# Wall times under cProfile are about twice the unprofiled CPU.\n"
    ]
    with (
        tempfile.TemporaryDirectory(prefix="cdprofile-") as tmp,
        fresh_postgres("profile") as database_url,
        redis_prefix("profile") as prefix,
    ):
        workdir = Path(tmp)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "REDIS_URL": redis_url(),
            "REDIS_KEY_PREFIX": prefix,
            "DATA_DIR": str(workdir / "data"),
            "LOG_FORMAT": "json",
        }
        sqlite_url = f"sqlite:///{workdir / 'profile.db'}"
        upgrade(sqlite_url)
        for label, url in (("PostgreSQL", database_url), ("SQLite", sqlite_url)):
            parts.append(f"\n# {label}\n")
            parts.append(profile({**env, "DATABASE_URL": url}, workdir))
    path = PROFILES / f"ingest-request-{args.name}.txt"
    path.write_text("".join(parts), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
