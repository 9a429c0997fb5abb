"""Operating signals: /metrics moves when work is done; logs are JSON with context and no secret."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families

from conftest import GITHUB_TOKEN, SECRET, deliver
from support import payloads
from support.processes import wait_for
from support.stack import LiveStack

AUTH = {"Authorization": "Bearer test-access-token"}


def scrape(live: LiveStack) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = live.app.test_client().get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_the_token(live: LiveStack) -> None:
    """With ACCESS_TOKEN set, /metrics wants it."""
    assert live.app.test_client().get("/metrics").status_code == 401


def test_metrics_move_when_a_push_is_processed(live: LiveStack, unique_repo: str) -> None:
    """Deliveries, recorded commits, analyses, tokens and latency all count the push."""
    before = scrape(live)
    commits = [payloads.commit(unique_repo, str(n), f"feat: metric {n}") for n in range(2)]
    deliver(live.app.test_client(), payloads.encode(payloads.push(unique_repo, commits)))
    live.wait_for_analyses(unique_repo, 2)

    def moved() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        after = scrape(live)
        # the commits are not on the stand-in GitHub: analysed from the delivery (a fallback)
        done = value(after, "commit_digest_analyses_total", analyzer="llm", fallback="yes") - value(
            before, "commit_digest_analyses_total", analyzer="llm", fallback="yes"
        )
        return after if done >= 2 else None

    after = wait_for(moved, timeout=20, what="the analyses to be counted")
    assert isinstance(after, dict)
    delta = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)  # noqa: E731
    assert delta("commit_digest_deliveries_total", event="push", outcome="accepted") == 1
    assert delta("commit_digest_commits_recorded_total", source="webhook") == 2
    assert delta("commit_digest_commits_queued_total") == 2
    assert delta("commit_digest_llm_tokens_total", direction="input", model="gpt-4o-mini") > 0
    assert delta("commit_digest_llm_cost_usd_total", model="gpt-4o-mini") > 0
    assert delta("commit_digest_analysis_duration_seconds_count") == 2
    assert delta("commit_digest_push_to_analysis_seconds_bucket", le="+Inf") == 2
    assert ("commit_digest_queue_depth", (("queue", "analysis"),)) in after
    # both commits' prefix is backed by their paths: each checked the model's label
    checks = {
        labels: count - value(before, name, **dict(labels))
        for (name, labels), count in after.items()
        if name == "commit_digest_llm_label_checks" and dict(labels)["model"] == "gpt-4o-mini"
    }
    assert sum(checks.values()) == 2
    assert ("commit_digest_commits_pending", ()) in after
    assert value(after, "commit_digest_github_rate_limit_remaining") > 0


def test_worker_logs_are_json_with_context_and_no_secret(live: LiveStack, unique_repo: str) -> None:
    """Every worker log line is JSON; analysis lines carry task, repository and sha; no secret."""
    secret_in_diff = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8n7M6"
    sha = live.github.add_commit(
        unique_repo,
        message="fix: rotate the token",
        files=[
            {
                "filename": "src/settings.py",
                "status": "modified",
                "additions": 1,
                "deletions": 1,
                "patch": f'@@ -1 +1 @@\n-TOKEN = "old"\n+TOKEN = "{secret_in_diff}"',
            }
        ],
    )
    commit = payloads.commit(unique_repo, sha, "fix: rotate the token")
    commit["id"] = sha
    deliver(
        live.app.test_client(), payloads.encode(payloads.push(unique_repo, [commit], after=sha))
    )
    live.wait_for_analyses(unique_repo, 1)
    wait_for(
        lambda: sha in live.workers[0].log_path.read_text(),
        timeout=10,
        what="the worker's log line",
    )
    text = live.workers[0].log_path.read_text()
    # the worker may be writing its last line as we read: judge complete lines only
    lines = [line for line in text.splitlines() if line.startswith("{") and line.endswith("}")]
    records = [json.loads(line) for line in lines]
    stored = [r for r in records if r.get("event") == "analysis.stored" and r.get("sha") == sha]
    assert len(stored) == 1
    assert {"task_id", "task", "repository", "sha", "timestamp", "level"} <= set(stored[0])
    assert stored[0]["repository"] == unique_repo
    for secret in (secret_in_diff, GITHUB_TOKEN, SECRET, "sk-test-key", "test-access-token"):
        assert secret not in text
