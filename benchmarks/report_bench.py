"""The nightly report of a long day: 1,000, 10,000 and 50,000 stored analyses.

Rows go straight into a fresh database with SQLAlchemy (``commit_digest.models``), one day per
size, on SQLite and on PostgreSQL. Each size is then built by
``commit_digest.reporting.build.build_report`` (collect → Markdown → HTML → store) in a fresh
subprocess, so that its peak memory is its own: ``ru_maxrss`` after building minus
``ru_maxrss`` before (after a warm-up build of an empty day has loaded the templates). The
same subprocess then times each step on its own; collecting (the query and the rows turned into
report data) is the baseline the build is compared with.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import itertools
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks import ROOT
from benchmarks.outcome import Shown, Spec, Target
from benchmarks.services import fresh_postgres
from commit_digest.db import upgrade
from commit_digest.models import Analysis, Commit, Repository

SIZES = (1_000, 10_000, 50_000)
# build_report's steps, by the names it calls them; the styled document is made after the
# build, when the email needs it
_STEPS = ("collect_day", "markdown_and_html", "_archive", "html_document")
_STEP_NAMES = {
    "collect_day": "collect",
    "markdown_and_html": "render_convert",
    "_archive": "store",
    "html_document": "document",
}
FIRST_DAY = date(2026, 2, 3)
REPOSITORIES = 12
LANGUAGE = "en"
REPEATS = 5  # builds of each size up to 10,000, the median shown
POSTGRES_SIZES = (1_000, 10_000)  # 50,000 on PostgreSQL adds ~100 s and tells nothing new
GROWTH_LIMIT = 1.2  # log-log slope from 10,000 to 50,000 that still counts as linear

SPEC = Spec(
    name="report",
    title="Daily report of 1,000 / 10,000 / 50,000 analyses (build_report: collect, render, store)",
    baseline=(
        "collecting the same day (the query and the rows turned into report data), timed as a "
        "step of the same build in the same subprocess; also shown: the same collect repeated "
        "after the build with Python's cyclic garbage collector paused"
    ),
    method=(
        f"rows inserted with SQLAlchemy into a fresh SQLite file and a fresh PostgreSQL "
        f"schema, one day per size, {REPOSITORIES} repositories, importance mixed 20 % high, "
        f"30 % medium, 50 % low, analyses shaped like real ones; `build_report` (language "
        f"{LANGUAGE}) in a fresh subprocess per size and backend (PostgreSQL: "
        f"{', '.join(f'{n:,}' for n in POSTGRES_SIZES)}), {REPEATS} times for each size up to "
        "10,000 (the figures of the median build shown, its fastest and slowest beside it; "
        "50,000 once); peak memory = the process's "
        "high-water mark during the build (VmHWM, reset just before) − its RSS before the build "
        "(after a warm-up build of an empty day loaded the templates); the steps are timed "
        "inside that one build by wrapping the functions build_report calls; growth = log-log "
        "slope of time (and memory) between sizes"
    ),
    shown=(
        *(
            Shown(f"sqlite_{n}_build_s", f"SQLite {n:,}: build", f"sqlite_{n}_collect_s")
            for n in SIZES
        ),
        *(
            Shown(f"{backend}_10000_build_{end}_s", f"{name} 10,000: {end}est build")
            for backend, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL"))
            for end in ("fast", "slow")
        ),
        *(Shown(f"sqlite_{n}_peak_mb", f"SQLite {n:,}: peak memory") for n in SIZES),
        Shown("sqlite_1000_collect_s", "SQLite 1,000: collect (the baseline)"),
        *(
            Shown(f"postgres_{n}_build_s", f"PostgreSQL {n:,}: build", f"postgres_{n}_collect_s")
            for n in POSTGRES_SIZES
        ),
        *(Shown(f"postgres_{n}_peak_mb", f"PostgreSQL {n:,}: peak memory") for n in POSTGRES_SIZES),
        *(
            Shown(f"postgres_{n}_collect_s", f"PostgreSQL {n:,}: collect (the baseline)")
            for n in POSTGRES_SIZES
        ),
        *(
            shown
            for n in (10_000, 50_000)
            for shown in (
                Shown(f"sqlite_{n}_collect_s", f"SQLite {n:,}: collect (the baseline)"),
                Shown(
                    f"sqlite_{n}_render_convert_s",
                    f"SQLite {n:,}: render the Markdown and convert it, at once",
                ),
                Shown(f"sqlite_{n}_render_s", f"SQLite {n:,}: render alone (after the build)"),
                Shown(f"sqlite_{n}_convert_s", f"SQLite {n:,}: convert alone (after the build)"),
                Shown(f"sqlite_{n}_document_s", f"SQLite {n:,}: styled HTML document"),
                Shown(f"sqlite_{n}_store_s", f"SQLite {n:,}: store the report"),
                Shown(f"sqlite_{n}_collect_nogc_s", f"SQLite {n:,}: collect again, GC paused"),
            )
        ),
        *(
            Shown(f"sqlite_10000_{step}_peak_mb", f"SQLite 10,000: memory growth in {step}")
            for step in ("collect", "render_convert", "store", "document")
        ),
        Shown("sqlite_10000_markdown_mb", "SQLite 10,000: size of the Markdown"),
        Shown("sqlite_10000_html_mb", "SQLite 10,000: size of the HTML document"),
        Shown("sqlite_growth_1000_10000", "SQLite: time growth exponent 1k → 10k"),
        Shown("sqlite_growth_10000_50000", "SQLite: time growth exponent 10k → 50k"),
        Shown("sqlite_memory_growth_10000_50000", "SQLite: memory growth exponent 10k → 50k"),
        Shown("postgres_growth_1000_10000", "PostgreSQL: time growth exponent 1k → 10k"),
    ),
    targets=(
        Target("sqlite_10000_build_s", "<=", 2.0, "SQLite: 10,000 built in ≤ 2 s"),
        Target("sqlite_10000_peak_mb", "<=", 300, "SQLite: 10,000 in ≤ 300 MB"),
        Target("postgres_10000_build_s", "<=", 2.0, "PostgreSQL: 10,000 built in ≤ 2 s"),
        Target("postgres_10000_peak_mb", "<=", 300, "PostgreSQL: 10,000 in ≤ 300 MB"),
        Target(
            "sqlite_growth_10000_50000",
            "<=",
            GROWTH_LIMIT,
            f"SQLite: time grows close to linearly (exponent 10k → 50k ≤ {GROWTH_LIMIT})",
        ),
    ),
)

# Analyses shaped like the ones the LLM stand-in and the reference report have.
_SCOPE = [
    {"area": "src/app/api/orders.py", "note": "The order endpoint validates totals first."},
    {"area": "src/app/core/cache.py", "note": "Cache keys include the tenant."},
]
_INSIGHTS = {
    "architecture": "Moves validation to the edge of the service, before any write.",
    "performance": "One query fewer per request on the hot path.",
    "security": "",
    "compatibility": "Clients sending negative totals now get a 422 instead of a 500.",
}
_KINDS = (  # (importance, change type, risks, recommendations, scope, insights)
    ("high", "feature", 2, 2, _SCOPE, _INSIGHTS),
    ("high", "bugfix", 1, 1, _SCOPE[:1], _INSIGHTS),
    ("medium", "refactor", 1, 1, _SCOPE[:1], dict.fromkeys(_INSIGHTS, "")),
    ("medium", "performance", 0, 1, _SCOPE, dict.fromkeys(_INSIGHTS, "")),
    ("medium", "build", 0, 1, _SCOPE[:1], dict.fromkeys(_INSIGHTS, "")),
    ("low", "docs", 0, 0, [], dict.fromkeys(_INSIGHTS, "")),
    ("low", "test", 0, 0, [], dict.fromkeys(_INSIGHTS, "")),
    ("low", "chore", 0, 0, [], dict.fromkeys(_INSIGHTS, "")),
    ("low", "docs", 0, 0, [], dict.fromkeys(_INSIGHTS, "")),
    ("low", "style", 0, 0, [], dict.fromkeys(_INSIGHTS, "")),
)


def _rows(size: int, day: date, first_id: int) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(commit row, analysis row) for ``size`` commits landing during ``day`` (UTC)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    for index in range(size):
        commit_id = first_id + index
        sha = hashlib.sha1(f"{day}:{index}".encode(), usedforsecurity=False).hexdigest()
        landed = start + timedelta(seconds=index * 86_000 / size)
        importance, kind, risks, recommendations, scope, insights = _KINDS[index % len(_KINDS)]
        subject = (
            f"{kind}: change the {('order', 'cart', 'user', 'cache')[index % 4]} flow #{index}"
        )
        body = {
            "change_type": kind,
            "importance": importance,
            "summary": f"{subject}: the service now checks its input before it writes anything, "
            f"so a bad request fails early and leaves nothing behind (commit {index}).",
            "impact_scope": scope,
            "insights": insights,
            "risks": [
                f"Risk {n} of change {index}: callers relying on the old answer."
                for n in range(risks)
            ],
            "recommendations": [
                f"Recommendation {n}: add a test for the new path of change {index}."
                for n in range(recommendations)
            ],
            "breaking_change": index % 97 == 0,
        }
        commit = {
            "id": commit_id,
            "repository_id": 1 + index % REPOSITORIES,
            "sha": sha,
            "branch": "main",
            "message": f"{subject}\n\nLonger description of the change number {index}.",
            "author_name": f"Developer {index % 23}",
            "author_email": f"dev{index % 23}@example.com",
            "author_login": f"dev{index % 23}",
            "committed_at": landed - timedelta(minutes=7),
            "landed_at": landed,
            "url": None,
            "files": {"added": [], "removed": [], "modified": ["src/app/api/orders.py"]},
            "source": "webhook",
            "created_at": landed,
            "queued_at": landed,
            "attempts": 1,
            "analysed_at": landed + timedelta(seconds=5),
            # three in four came in through a pull request, two commits each (the report's
            # PR sections and links); the rest were pushed to the branch
            "pull_number": 100_000 + index // 2 if index % 4 != 3 else None,
            "pull_title": f"Change the flows of #{index // 2}" if index % 4 != 3 else None,
            "pull_url": None,
        }
        analysis = {
            "commit_id": commit_id,
            "analyzer": "heuristic" if index % 50 == 0 else "llm",
            "model": "gpt-4o-mini",
            "prompt_version": "analysis-v1",
            "language": LANGUAGE,
            "change_type": kind,
            "importance": importance,
            "breaking_change": body["breaking_change"],
            "body": body,
            "source": "github",
            "tokens_in": 2400 + index % 500,
            "tokens_out": 600,
            "cost_usd": 0.00072,
            "files_analysed": 3 if index % 40 else 30,
            "files_total": 3 if index % 40 else 52,
            "lines_analysed": 40,
            "lines_total": 40 if index % 40 else 2410,
            "omitted": [] if index % 40 else ["Cargo.lock", "docs/big.md"],
            "redactions": 0,
            "fallback_reason": "LLM unavailable" if index % 50 == 0 else None,
            "needs_reanalysis": False,
            "created_at": landed + timedelta(seconds=5),
            "updated_at": landed + timedelta(seconds=5),
        }
        yield commit, analysis


def populate(database_url: str, sizes: Sequence[int]) -> dict[int, date]:
    """Insert one day of ``size`` analysed commits per size; return each size's day."""
    engine = sa.create_engine(database_url)
    days: dict[int, date] = {}
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(Repository.__table__),
            [
                {"id": n, "full_name": f"acme/service-{n:02d}", "created_at": now}
                for n in range(1, REPOSITORIES + 1)
            ],
        )
        first_id = 1
        for offset, size in enumerate(sizes):
            day = FIRST_DAY + timedelta(days=offset)
            rows = list(_rows(size, day, first_id))
            for start in range(0, size, 5000):
                chunk = rows[start : start + 5000]
                connection.execute(sa.insert(Commit.__table__), [c for c, _ in chunk])
                connection.execute(sa.insert(Analysis.__table__), [a for _, a in chunk])
            days[size] = day
            first_id += size
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))
    engine.dispose()
    return days


def _memory_kb(field: str) -> int:
    """``VmRSS`` or ``VmHWM`` (the high-water mark) of this process, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> None:
    """Start the high-water mark again from the current RSS (Linux: clear_refs 5).

    ``ru_maxrss`` cannot be reset, and after fork + exec it starts at the parent's RSS (the
    forked copy's high-water mark is carried over), so the peak of a small build would be
    hidden by the benchmark process's own size; ``VmHWM`` belongs to this process's memory
    map alone and can be reset.
    """
    with contextlib.suppress(OSError), Path("/proc/self/clear_refs").open("w") as handle:
        handle.write("5")


def measure_child(database_url: str, day: date) -> dict[str, float]:
    """In a fresh process: build the day's report, each step timed and its memory peak noted."""
    import commit_digest.reporting.build as reporting
    from commit_digest.config import load_settings
    from commit_digest.runtime import Runtime

    seconds: dict[str, float] = dict.fromkeys(_STEPS, 0.0)
    growth: dict[str, float] = dict.fromkeys(_STEPS, 0.0)  # kB above the step's starting RSS
    marks: list[int] = []  # high-water marks, read before each reset
    calls: dict[str, Any] = {}

    def timed(name: str) -> None:
        original = getattr(reporting, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            marks.append(_memory_kb("VmHWM"))
            _reset_peak()
            rss = _memory_kb("VmRSS")
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - started
                marks.append(_memory_kb("VmHWM"))
                growth[name] = max(growth[name], marks[-1] - rss)
                calls[name] = original

        setattr(reporting, name, wrapper)

    for name in _STEPS:  # the names build_report calls, wrapped here to time them
        timed(name)
    settings = load_settings(
        {"DATABASE_URL": database_url, "REPORT_LANGUAGE": LANGUAGE, "REPORT_TIMEZONE": "UTC"},
        dotenv_path=None,
    )
    runtime = Runtime.build(settings)
    reporting.build_report(runtime, FIRST_DAY - timedelta(days=30))  # templates loaded
    seconds.update(dict.fromkeys(_STEPS, 0.0))
    growth.update(dict.fromkeys(_STEPS, 0.0))
    gc.collect()
    _reset_peak()
    before = _memory_kb("VmRSS")
    marks.clear()
    started = time.perf_counter()
    built = reporting.build_report(runtime, day)
    build = time.perf_counter() - started
    peak = max([*marks, _memory_kb("VmHWM")])
    figures = {
        "build_s": build,
        "peak_mb": (peak - before) / 1024,
        "base_mb": before / 1024,
        "commits": built.data.commit_count,
        "markdown_mb": len(built.markdown.encode()) / 1e6,
        "html_mb": len(built.html.encode()) / 1e6,
        # the baseline: collecting, timed on its own inside the build
        "collect_s": seconds["collect_day"],
        "render_convert_s": seconds["markdown_and_html"],
        "document_s": seconds["html_document"],
        "store_s": seconds["_archive"],
        **{f"{_STEP_NAMES[name]}_peak_mb": kb / 1024 for name, kb in growth.items()},
        **_render_and_convert_alone(built.data, built.markdown),
    }
    del built
    figures |= _collect_without_gc(runtime, settings, day, calls.get("collect_day"))
    runtime.close()
    return figures


def _render_and_convert_alone(data: Any, markdown: str) -> dict[str, float]:
    """The two steps the build overlaps, each timed on its own (GC paused, as in the build)."""
    from commit_digest.reporting.convert import markdown_to_html
    from report.render import render_markdown

    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        render_markdown(data, LANGUAGE)
        rendered = time.perf_counter()
        markdown_to_html(markdown)
        converted = time.perf_counter()
    finally:
        gc.enable()
    return {"render_s": rendered - started, "convert_s": converted - rendered}


def _collect_without_gc(runtime: Any, settings: Any, day: date, collect: Any) -> dict[str, float]:
    """Collect the day again with the cyclic garbage collector on, then off (its share)."""
    if collect is None:
        return {}
    figures = {}
    for label, enabled in (("collect_again_s", True), ("collect_nogc_s", False)):
        gc.collect()
        if not enabled:
            gc.disable()
        try:
            started = time.perf_counter()
            with runtime.session() as session:
                collect(session, settings, day, settings.report_timezone)
            figures[label] = time.perf_counter() - started
        except (TypeError, AttributeError):  # collect_day's signature moved on: skip
            return {}
        finally:
            gc.enable()
    return figures


def _in_subprocess(database_url: str, day: date) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.report_bench", "--child", database_url, day.isoformat()],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the report subprocess failed:\n{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _median_build(database_url: str, day: date, runs: int) -> dict[str, float]:
    """The figures of the median of ``runs`` builds, each in a fresh process.

    The wall time of one build moves by up to 2× from run to run on this kind of virtual
    machine with the CPU otherwise idle (measured: the same build's user CPU time, not only
    its wall time, moves so); the median of five is what is shown. Peak memory is the
    highest seen.
    """
    measured = sorted(
        (_in_subprocess(database_url, day) for _ in range(runs)), key=lambda m: m["build_s"]
    )
    figures = dict(measured[len(measured) // 2])
    figures["peak_mb"] = max(m["peak_mb"] for m in measured)
    figures["build_fast_s"] = measured[0]["build_s"]
    figures["build_slow_s"] = measured[-1]["build_s"]
    figures["runs"] = float(runs)
    return figures


def _slope(small: tuple[int, float], large: tuple[int, float]) -> float:
    if small[1] <= 0 or large[1] <= 0:
        return math.nan
    return math.log(large[1] / small[1]) / math.log(large[0] / small[0])


def run(
    sizes: Sequence[int] = SIZES, postgres_sizes: Sequence[int] = POSTGRES_SIZES
) -> dict[str, float]:
    """Populate both backends, build each size in its own process, return the figures."""
    figures: dict[str, float] = {}
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cdbench-report-")))
        sqlite_url = f"sqlite:///{workdir / 'report.db'}"
        upgrade(sqlite_url)
        backends = {"sqlite": (sqlite_url, sizes)}
        if postgres_sizes:
            postgres_url = stack.enter_context(fresh_postgres("report"))
            backends["postgres"] = (postgres_url, postgres_sizes)
        for backend, (url, chosen) in backends.items():
            started = time.perf_counter()
            days = populate(url, chosen)
            print(
                f"  {backend}: {sum(chosen):,} analyses inserted in "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
            for size in chosen:
                measured = _median_build(url, days[size], REPEATS if size <= 10_000 else 1)
                if measured["commits"] != size:
                    raise RuntimeError(f"{backend} {size}: the report has {measured['commits']}")
                figures |= {f"{backend}_{size}_{k}": v for k, v in measured.items()}
                print(
                    f"  {backend} {size:>6,}: build (median of {measured['runs']:.0f}, from "
                    f"{measured['build_fast_s']:.2f} to {measured['build_slow_s']:.2f} s) "
                    f"{measured['build_s']:.2f} s (collect "
                    f"{measured['collect_s']:.2f}, render + convert "
                    f"{measured['render_convert_s']:.2f} (alone: {measured['render_s']:.2f} + "
                    f"{measured['convert_s']:.2f}), document {measured['document_s']:.2f}, store "
                    f"{measured['store_s']:.2f}); peak +{measured['peak_mb']:.0f} MB over "
                    f"{measured['base_mb']:.0f} MB; Markdown {measured['markdown_mb']:.1f} MB",
                    flush=True,
                )
            for small, large in itertools.pairwise(chosen):
                for what, key in (("growth", "build_s"), ("memory_growth", "peak_mb")):
                    figures[f"{backend}_{what}_{small}_{large}"] = _slope(
                        (small, figures[f"{backend}_{small}_{key}"]),
                        (large, figures[f"{backend}_{large}_{key}"]),
                    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("DATABASE_URL", "DAY"))
    args = parser.parse_args()
    if args.child:
        url, day = args.child
        print(json.dumps(measure_child(url, date.fromisoformat(day))))
    else:
        print(run())


if __name__ == "__main__":
    main()


def notes(f: dict[str, float]) -> list[str]:
    """Where a long day's build goes, and what would bring it within the targets."""
    from commit_digest.reporting import convert

    out: list[str] = []
    key = "sqlite_10000"
    if f"{key}_build_s" not in f:
        return out
    build = f[f"{key}_build_s"]
    steps = {
        "collect": f.get(f"{key}_collect_s", math.nan),
        "render_convert": f.get(f"{key}_render_convert_s", math.nan),
        "store": f.get(f"{key}_store_s", math.nan),
        "document": f.get(f"{key}_document_s", math.nan),
    }
    names = {
        "collect": "collecting (query → report data)",
        "render_convert": (
            "rendering the Markdown (Jinja2) while converting it to sanitised HTML "
            f"(alone, after the build: {f.get(f'{key}_render_s', math.nan):.2f} s + "
            f"{f.get(f'{key}_convert_s', math.nan):.2f} s)"
        ),
        "store": "storing the Markdown",
        "document": "the styled HTML document (made after the build, for the email)",
    }
    out.append(
        f"Where 10,000 analyses' {build:.2f} s go (SQLite, each step timed inside the build): "
        + ", ".join(f"{names[k]} {v:.2f} s ({100 * v / build:.0f} %)" for k, v in steps.items())
        + f"; the Markdown is {f.get(f'{key}_markdown_mb', math.nan):.1f} MB, the HTML "
        f"document {f.get(f'{key}_html_mb', math.nan):.1f} MB."
    )
    spread = [
        (name, f.get(f"{backend}_10000_build_fast_s"), f.get(f"{backend}_10000_build_slow_s"))
        for backend, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL"))
    ]
    out.append(
        "One build's wall time moves from run to run on this virtual machine with the CPU "
        "otherwise idle (10,000: "
        + "; ".join(f"{name} {fast:.2f}–{slow:.2f} s" for name, fast, slow in spread if fast)
        + "), most in the steps that allocate most (collect, render): the figures are the "
        "median of the runs."
    )
    if build > 2.0 or f.get("postgres_10000_build_s", 0.0) > 2.0:
        out.append(
            "What each step already does, and what is left in it: collect reads plain columns "
            "(no ORM objects) and validates each stored analysis from its JSON text with "
            "pydantic-core (≈0.22 s of 10,000 on its own), PostgreSQL adds the driver's row "
            "decoding; render is Jinja2 over one precomputed view per entry, escaping every "
            "field of every entry (≈73,000 calls of `report.markdown_text.inline`, one "
            "`str.split` fold and a `str.translate` only when something needs escaping); "
            "convert is cmark-gfm then nh3 on each 64 KB piece as soon as it is rendered, on "
            f"{min(convert.MAX_THREADS, os.cpu_count() or 1)} threads "
            "(both release the GIL), "
            "so it runs on the other core while the template renders; "
            "the cyclic garbage collector is paused for collect and render. What is left is "
            "the CPython work of ~30 objects and ~10 strings per commit: a faster core, or "
            "building the report per repository on several processes, is what would take "
            "more off."
        )
    peak = f.get(f"{key}_peak_mb", 0.0)
    if peak > 300 or f.get("sqlite_memory_growth_10000_50000", 0.0) > GROWTH_LIMIT:
        growth = {step: f.get(f"{key}_{step}_peak_mb", math.nan) for step in names}
        out.append(
            f"Memory: {peak:.0f} MB above the process's own size at 10,000 "
            f"({f.get('sqlite_50000_peak_mb', math.nan):.0f} MB at 50,000). Each step's own rise "
            "above the memory it started with: "
            + ", ".join(f"{names[k]} +{v:.0f} MB" for k, v in growth.items())
            + "."
        )
    slope = f.get("sqlite_growth_10000_50000", math.nan)
    if slope > GROWTH_LIMIT:
        ratios = ", ".join(
            f"{k} {f.get(f'sqlite_50000_{k}_s', math.nan) / f.get(f'{key}_{k}_s', math.nan):.1f}×"
            for k in ("collect", "render", "convert", "document")
        )
        out.append(
            f"Growth: time grows with exponent {slope:.2f} from 10,000 to 50,000; for 5× the "
            f"commits: {ratios} (linear would be 5×)."
        )
    return out
