"""A fixed day of analyses, modelled on the reference report (ai-dynamo/dynamo, 2026-02-03)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from report.data import Coverage, DayCount, DayReport, Entry, PullRequest, RepositoryDay, Usage
from report.schema import Analysis, Insights, ScopeItem

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPO = "ai-dynamo/dynamo"


def analysis(change_type: str, importance: str, summary: str, **extra: object) -> Analysis:
    values: dict[str, object] = {
        "change_type": change_type,
        "importance": importance,
        "summary": summary,
        "impact_scope": [],
        "insights": Insights(architecture="", performance="", security="", compatibility=""),
        "risks": [],
        "recommendations": [],
        "breaking_change": False,
    }
    values.update(extra)
    return Analysis.model_validate(values)


def at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=SHANGHAI).astimezone(UTC)


def entry(
    sha: str, author: str, message: str, local_time: str, result: Analysis | None, **extra: object
) -> Entry:
    return Entry(
        repository=extra.pop("repository", REPO),  # type: ignore[arg-type]
        sha=sha,
        url=f"https://github.com/{extra.get('repo_url', REPO)}/commit/{sha}",
        author=author,
        message=message,
        committed_at=at(local_time),
        analysis=result,
        analyzer=extra.pop("analyzer", "llm"),  # type: ignore[arg-type]
        source=extra.pop("source", "github"),  # type: ignore[arg-type]
        fallback_reason=extra.pop("fallback_reason", None),  # type: ignore[arg-type]
        coverage=extra.pop("coverage", Coverage(3, 3, 40, 40)),  # type: ignore[arg-type]
        usage=extra.pop("usage", Usage(2400, 600, 0.00072)),  # type: ignore[arg-type]
        pull=extra.pop("pull", None),  # type: ignore[arg-type]
    )


HIGH = analysis(
    "bugfix",
    "high",
    "Adds `--is-decode-worker` to every vLLM disaggregated example so decode workers declare their role.",
    impact_scope=[
        ScopeItem(
            area="examples/backends/vllm/launch/",
            note="disagg.sh, disagg_router.sh and two more scripts",
        ),
        ScopeItem(area="dynamo.vllm", note="reads the flag to register as a decode worker"),
    ],
    insights=Insights(
        architecture="Role-aware registration pairs decode workers with prefill workers explicitly.",
        performance="Avoids needless KV copies when a decode worker was mistaken for prefill.",
        security="",
        compatibility="Older dynamo.vllm builds without the flag fail to start.",
    ),
    risks=[
        "Scripts outside the repository still lack the flag.",
        "Old images reject the unknown flag.",
    ],
    recommendations=[
        "Document the minimum dynamo.vllm version.",
        "Add a CI job that launches the disaggregated example.",
    ],
)
BREAKING = analysis(
    "feature",
    "high",
    "Event ids are generated per data-parallel rank inside the publisher; `publish_stored` loses its `event_id` argument.",
    impact_scope=[
        ScopeItem(area="lib/llm/src/kv_router/publisher.rs", note="per-rank monotonic counter")
    ],
    insights=Insights(
        architecture="Per-rank event streams.",
        performance="",
        security="",
        compatibility="Callers passing event_id break.",
    ),
    risks=["Third-party publishers calling the old signature fail at run time."],
    recommendations=["Keep a deprecated wrapper for one release."],
    breaking_change=True,
)
MEDIUM = analysis(
    "chore",
    "medium",
    "Removes the NIM mock backend example (README, server and poller).",
    impact_scope=[ScopeItem(area="examples/custom_backend/nim/", note="deleted")],
    recommendations=["Check docs and CI for references to the removed scripts."],
)
LOW = analysis("docs", "low", "Points SGLang documentation links at docs.sglang.io.")
HOSTILE = analysis(
    "refactor",
    "low",
    'Summary with <script>alert(1)</script> and [a link](javascript:alert(2)) and <img src=x onerror="alert(3)">.',
)


# a pull request merged by rebase: two commits of the day came in through it
REBASED = PullRequest(
    5880,
    "docs: links and `Option<&str>` in <b>examples</b>",
    f"https://github.com/{REPO}/pull/5880",
)


def sample_day() -> DayReport:
    entries = (
        entry(
            "3b9b3f31c0012eb4dd71bdf095d46847b0d7019f",
            "Sean SH Choi",
            "fix: Add --is-decode-worker flag to vllm examples (#5899)",
            "2026-02-03 15:25:14",
            HIGH,
            pull=PullRequest(
                5899,
                "fix: Add --is-decode-worker flag to vllm examples",
                f"https://github.com/{REPO}/pull/5899",
            ),
        ),
        entry(
            "6720dfb65820785bafe5ad9745f9a1a430fe36eb",
            "dagil-nvidia",
            "docs: fix SGLang docs links (docs.sglang.ai → docs.sglang.io) (#5894)",
            "2026-02-03 12:29:57",
            LOW,
            analyzer="heuristic",
            source="delivery",
            fallback_reason="LLM unavailable",
            usage=Usage(),
            pull=REBASED,
        ),
        entry(
            "902eabd9ec7abd7e12db4eb4b034983f7e998805",
            "Yan Ru Pei",
            "feat: per dp rank gap detection (#5873)\n\nLong body.",
            "2026-02-03 11:07:57",
            BREAKING,
            coverage=Coverage(
                41, 52, 1830, 2410, ("Cargo.lock", "lib/bindings/python/uv.lock", "docs/big.md")
            ),
            pull=PullRequest(
                5873, "feat: per dp rank gap detection", f"https://github.com/{REPO}/pull/5873"
            ),
        ),
        entry(
            "f597b75b3e8e53feb59afe956d89b00908852fdc",
            "Keiven C",
            "chore: remove NIM custom backend example (part 1, docs only) (#5891)",
            "2026-02-03 09:15:33",
            MEDIUM,
            pull=PullRequest(
                5891,
                "chore: remove NIM custom backend example (part 1, docs only)",
                f"https://github.com/{REPO}/pull/5891",
            ),
        ),
        entry(
            "df4cd1914a4279bcf13bf32e7807c80e333027d0",
            "Mallory | <b>",
            "refactor: <script>alert('x')</script> | [click](javascript:alert(1))",
            "2026-02-03 03:10:42",
            HOSTILE,
            pull=REBASED,
        ),
        entry(
            "8dd1fc07056f160cbb08f25169d6b0281fc87912",
            "Yan Ru Pei",
            "chore: in discovery, use dashmap in place of mutex hashmap (#5868)",
            "2026-02-03 02:39:36",
            None,
            analyzer=None,
            coverage=None,
            usage=Usage(),
        ),
    )
    return DayReport(
        date(2026, 2, 3),
        SHANGHAI,
        (RepositoryDay(REPO, entries),),
        quiet=("ai-dynamo/docs",),
        history=tuple(
            DayCount(date(2026, 1, 21) + timedelta(days=n), commits, high, churn)
            for n, (commits, high, churn) in enumerate(HISTORY)
        ),
    )


# 13 days before the sample day: (commits, high importance, lines changed)
HISTORY = (
    (4, 1, 310),
    (7, 0, 820),
    (0, 0, 0),
    (0, 0, 0),
    (5, 1, 400),
    (9, 2, 1_900),
    (3, 0, 120),
    (6, 1, 700),
    (8, 0, 950),
    (0, 0, 0),
    (2, 0, 60),
    (5, 1, 530),
    (4, 0, 210),
)


def many_commits(count: int) -> DayReport:
    """A long day: ``count`` commits over two repositories, mostly low importance."""
    kinds = [HIGH, MEDIUM, LOW, LOW, LOW]
    start = datetime(2026, 2, 3, 0, 0, tzinfo=SHANGHAI)
    entries: dict[str, list[Entry]] = {"acme/api": [], "acme/web": []}
    for index in range(count):
        repository = "acme/api" if index % 3 else "acme/web"
        sha = hashlib.sha1(f"{index}".encode(), usedforsecurity=False).hexdigest()
        local = (start + timedelta(seconds=index * 80000 // max(count, 1))).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        entries[repository].append(
            entry(
                sha,
                f"dev{index % 7}",
                f"change number {index}",
                local,
                kinds[index % 5],
                repository=repository,
                repo_url=repository,
            )
        )
    return DayReport(
        date(2026, 2, 3), SHANGHAI, tuple(RepositoryDay(n, tuple(e)) for n, e in entries.items())
    )
