"""One push of 14 real commits, analysed by a real local model with the service's defaults.

    python -m benchmarks.real_llm_push [--cold] [BASE_URL]     (default: the local model of
    ../shared/tools/localllm on port 8766, started if it is not running; --cold restarts it
    first, so the first request pays for loading the model as after a server's start)

A real Celery worker with the default WORKER_CONCURRENCY (4), LLM_TIMEOUT, budget and prompt
analyses 14 commits of the labelled set (eval/commits.jsonl, served by the GitHub stand-in with
their real messages and diffs) delivered in one push. Prints the wall clock from the delivery
to the last stored analysis, the requests the server received (from the gate's lease count
and the analyses' token records), timeouts, fallbacks and per-commit seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from benchmarks.services import fresh_postgres, redis_prefix, redis_url
from commit_digest.config import load_settings
from commit_digest.db import upgrade
from commit_digest.models import Analysis, Commit, Repository
from commit_digest.runtime import Runtime
from commit_digest.signature import sign
from webhook import create_app

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import payloads  # noqa: E402
from support.github_api import GitHubApiStandIn  # noqa: E402
from support.processes import celery_worker  # noqa: E402

LOCALLLM = ROOT.parent / "shared" / "tools" / "localllm"
SERVER_LOG = LOCALLLM / "run" / "server-8766.log"


def served() -> int:
    """Completions the local server has answered so far (its access log)."""
    if not SERVER_LOG.exists():
        return -1
    return SERVER_LOG.read_text(errors="replace").count('"POST /v1/chat/completions HTTP/1.1"')


SECRET = "real-llm-push-secret"  # noqa: S105 - the stand-in's, for this run only
TOKEN = "ghp_" + "R" * 36
COMMITS = 14


def local_model() -> str:
    """The base URL of the local 1.5B model, started if needed."""
    result = subprocess.run(
        [str(LOCALLLM / "start.sh"), "8766", "qwen1.5b"],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def main() -> int:
    args = sys.argv[1:]
    cold = "--cold" in args
    args = [a for a in args if a != "--cold"]
    if cold and not args:
        subprocess.run([str(LOCALLLM / "stop.sh"), "8766"], check=False, timeout=120)
        # a server's first answer after a start reads the model from disk
        subprocess.run(["sync"], check=False)
    base_url = args[0] if args else local_model()
    examples = [json.loads(line) for line in (ROOT / "eval" / "commits.jsonl").open()]
    # two or three of each repository, in the set's order: a push of mixed real commits
    chosen = [e for n, e in enumerate(examples) if n % 16 < 3][:COMMITS]
    repo = f"bench/real-llm-{uuid.uuid4().hex[:6]}"
    with (
        GitHubApiStandIn(tokens={TOKEN: "commit-digest-bot"}) as github,
        fresh_postgres("realllm") as database_url,
        redis_prefix("realllm") as prefix,
    ):
        github.add_repo(repo, default_branch="main")
        shas = []
        for example in chosen:
            files = [
                {
                    "filename": f["path"],
                    "status": f["status"],
                    "additions": f["additions"],
                    "deletions": f["deletions"],
                    **({"patch": f["patch"]} if f["patch"] else {}),
                }
                for f in example["files"]
            ]
            shas.append(github.add_commit(repo, message=example["message"], files=files))
        env = {
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url(),
            "REDIS_KEY_PREFIX": prefix,
            "GITHUB_API_URL": github.url,
            "GITHUB_TOKEN": TOKEN,
            "OPENAI_BASE_URL": base_url,
            "OPENAI_API_KEY": "unused",
            "COMMIT_COMMENTS": "off",
            "REPORT_LANGUAGE": "en",
            "LOG_FORMAT": "json",
        }
        upgrade(database_url)
        workdir = Path(f"/tmp/real-llm-{uuid.uuid4().hex[:6]}")
        worker = celery_worker(
            {**os.environ, **env}, workdir, concurrency=4, queues="intake,analysis"
        )
        worker.start(ready="ready.")
        settings = load_settings(env)
        runtime = Runtime.build(settings)
        try:
            commits = []
            for sha, example in zip(shas, chosen, strict=True):
                commit = payloads.commit(repo, sha, example["message"], modified=["x"])
                commit["id"] = sha
                commits.append(commit)
            body = payloads.encode(payloads.push(repo, commits, after=shas[-1]))
            client = create_app(settings).test_client()
            served_before = served()
            started = time.monotonic()
            answer = client.post(
                "/webhooks/github",
                data=body,
                headers={
                    "X-GitHub-Event": "push",
                    "X-GitHub-Delivery": str(uuid.uuid4()),
                    "X-Hub-Signature-256": sign(body, SECRET),
                    "Content-Type": "application/json",
                },
            )
            assert answer.status_code == 202, answer.json
            done: list[Analysis] = []
            sha_of: dict[int, str] = {}
            while time.monotonic() - started < 3600:
                with runtime.session() as session:
                    rows = session.execute(
                        select(Analysis, Commit.sha)
                        .join(Commit, Commit.id == Analysis.commit_id)
                        .join(Repository, Repository.id == Commit.repository_id)
                        .where(Repository.full_name == repo)
                    ).all()
                done = [analysis for analysis, _ in rows]
                sha_of = {analysis.id: sha for analysis, sha in rows}
                if len(done) >= len(shas) and not any(a.needs_reanalysis for a in done):
                    break
                time.sleep(2)
            wall = time.monotonic() - started
            requests = served() - served_before if served_before >= 0 else -1
        finally:
            worker.stop(timeout=10)
            runtime.close()
        log = worker.log_path.read_text(errors="replace")
        timeouts = log.count("was silent for")
        busy = log.count("the LLM is busy")
        analyzers = Counter(a.analyzer for a in done)
        print(f"model server: {base_url}")
        print(f"commits: {len(shas)}, analysed: {len(done)}, analyzers: {dict(analyzers)}")
        print(
            f"wall clock, delivery to last analysis: {wall:.0f} s "
            f"({wall / len(shas):.1f} s per commit)"
        )
        print(f"target: <= {len(shas) * 30} s (14 x 30 s)")
        print(
            f"completions the server answered during the run: {requests} (for {len(shas)} commits)"
        )
        print(f"timeouts logged: {timeouts}; waits re-queued (LLMBusy): {busy}")
        count = max(len(done), 1)
        tokens_in = sum(a.tokens_in for a in done) / count
        tokens_out = sum(a.tokens_out for a in done) / count
        print(f"tokens in / out per commit: {tokens_in:.0f} / {tokens_out:.0f}")
        labels = dict(zip(shas, chosen, strict=True))
        rated = [(labels[sha_of[a.id]], a) for a in done]
        importance = sum(e["label_importance"] == a.importance for e, a in rated)
        change_type = sum(e["label_change_type"] == a.change_type for e, a in rated)
        print(
            f"agreement with the labels: importance {importance}/{len(rated)}, "
            f"change type {change_type}/{len(rated)} (server {'restarted' if cold else 'as found'})"
        )
        return 0


if __name__ == "__main__":
    sys.exit(main())
