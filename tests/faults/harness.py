"""The whole service in real processes for one fault scenario, and the counts that judge it.

``FaultStack`` runs gunicorn, Celery worker(s) and beat(s) over a Redis server of its own and a
database of its own, talking to the stand-in GitHub, LLM and mail relay. A scenario builds a
stream of signed pushes, drives it over HTTP while it injects its fault, re-sends every
delivery that got no 2xx (a user clicking "Redeliver"), waits for the work to finish, asks for
the day's report, and counts what users would see: analyses, comments, emails.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import func, or_, select, update

from commit_digest.config import load_settings
from commit_digest.embedded_redis import EmbeddedRedis, free_port
from commit_digest.models import Analysis, Commit, CommitComment, ReportSend, Repository
from commit_digest.queueing import DAILY_REPORT
from commit_digest.runtime import Runtime
from commit_digest.signature import sign
from report.comment import is_ours, marker_for

from conftest import GITHUB_TOKEN, SECRET, base_env
from support import payloads
from support.processes import Service, celery_beat, celery_worker, gunicorn_web

SWEEP_INTERVAL = 2.0
# Past REQUEUE_AFTER (15 min) and CLAIM_LEASE (12 min) of commit_digest.sweep / commit_digest.analysis.pipeline,
# and SEND_LEASE (10 min) of commit_digest.reporting.job: how far `fast_forward` moves their clocks.
FAST_FORWARD = timedelta(minutes=16)
# After the report: long enough for two more sweeps to queue anything they would queue twice.
QUIET_SECONDS = 2 * SWEEP_INTERVAL + 2


def poll(predicate: Callable[[], object], timeout: float, interval: float = 0.25) -> bool:
    """Whether ``predicate`` turned true within ``timeout`` seconds (no exception on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


@dataclass
class Push:
    """One delivery of the stream and what the web process answered to each attempt."""

    guid: str
    repo: str
    body: bytes
    shas: tuple[str, ...]
    answers: list[int | None] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return any(a is not None and 200 <= a < 300 for a in self.answers)


@dataclass(frozen=True)
class Outcome:
    scenario: str
    sent: int
    accepted: int
    analysed: int
    comments: int
    emails: int
    lost: int
    duplicated: int
    missing_comments: tuple[str, ...]
    extra_comments: tuple[str, ...]

    def line(self) -> str:
        return (
            f"scenario={self.scenario} sent={self.sent} accepted={self.accepted} "
            f"analysed={self.analysed} comments={self.comments} emails={self.emails} "
            f"lost={self.lost} duplicated={self.duplicated}"
        )


class FaultStack:
    """gunicorn, Celery worker(s) and beat(s) over their own Redis and database."""

    def __init__(
        self,
        name: str,
        workdir: Path,
        *,
        github: Any,
        llm: Any,
        smtp: Any,
        database_url: str,
        day: date,
        observer_url: str | None = None,
        postgres: Any = None,
        web_workers: int = 2,
        concurrency: int = 2,
        beats: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.workdir = workdir
        self.github = github
        self.llm = llm
        self.smtp = smtp
        self.day = day
        self.postgres = postgres  # a RestartablePostgres, when the database is PostgreSQL
        self.redis = EmbeddedRedis(workdir / "redis", persistent=True)
        self.port = free_port()
        self.env = {
            **os.environ,
            **base_env(
                DATABASE_URL=database_url,
                REDIS_URL=self.redis.url,
                DATA_DIR=str(workdir / "data"),
                TRACKED_BRANCHES="main",
                SWEEP_INTERVAL=f"{SWEEP_INTERVAL:g}",
                RETRY_BACKOFF="0.5",
                LLM_RETRIES="3",
                LLM_TIMEOUT="3",
                REPORT_MAX_WAIT="30",
                # recovery timings short enough to happen within a scenario
                REQUEUE_AFTER="10",
                ANALYSIS_LEASE="20",
                REPORT_SEND_LEASE="10",
                COMMIT_COMMENTS="on",
                GITHUB_TOKEN=GITHUB_TOKEN,
                GITHUB_API_URL=github.url,
                OPENAI_BASE_URL=llm.url,
                OPENAI_API_KEY="sk-test-key",
                OPENAI_MODEL="gpt-4o-mini",
                SMTP_URL=smtp.url,
                MAIL_FROM="digest@example.com",
                REPORT_RECIPIENTS="team@example.com",
            ),
            **(env or {}),
        }
        self.web = gunicorn_web(self.env, workdir, self.port, workers=web_workers)
        self.concurrency = concurrency
        self.workers = [self._worker_service("worker-1")]
        self.beats = [celery_beat(self.env, workdir, name=f"beat-{n + 1}") for n in range(beats)]
        self.runtime = Runtime.build(
            load_settings({**self.env, "DATABASE_URL": observer_url or database_url})
        )
        self.pushes: list[Push] = []
        self.repos: list[str] = []
        self.notes: list[str] = []
        self._lock = threading.Lock()

    # -- processes ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/github"

    def _worker_service(self, name: str) -> Service:
        return celery_worker(self.env, self.workdir, name=name, concurrency=self.concurrency)

    def start(self) -> FaultStack:
        self.redis.start()
        for service in [self.web, *self.workers, *self.beats]:
            service.start()
        for worker in self.workers:
            wait_logged(worker, "ready.")
        for beat in self.beats:
            wait_logged(beat, "beat: Starting")
        assert poll(lambda: sum(logged(b, "beat.lock.acquired") for b in self.beats) == 1, 20)
        assert poll(self.web_answers, 30), f"gunicorn did not answer:\n{self.web.tail()}"
        return self

    def web_answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        for service in [self.web, *self.beats, *self.workers]:
            service.stop(timeout=10)
        self.redis.stop()
        self.runtime.close()

    def add_worker(self, name: str) -> Service:
        worker = self._worker_service(name)
        self.workers.append(worker)
        worker.start()
        wait_logged(worker, "ready.")
        return worker

    def pool_processes(self, worker: Service | None = None) -> list[psutil.Process]:
        """The prefork pool processes of ``worker`` (the first one by default)."""
        process = (worker or self.workers[0]).process
        assert process is not None
        return psutil.Process(process.pid).children()

    def process_waiting_on(self, ports: set[int]) -> psutil.Process | None:
        """The pool process whose request (from one of ``ports``) a stand-in is answering."""
        for process in self.pool_processes():
            try:
                mine = {c.laddr.port for c in process.net_connections(kind="tcp") if c.laddr}
            except psutil.NoSuchProcess:
                continue
            if mine & ports:
                return process
        return None

    def web_processes(self) -> list[psutil.Process]:
        """The gunicorn worker processes (the master forks them)."""
        assert self.web.process is not None
        return psutil.Process(self.web.process.pid).children()

    def log_events(self, event: str) -> list[dict[str, Any]]:
        """Every JSON log line of the workers with this ``event`` name."""
        found = []
        for worker in self.workers:
            for line in worker.log_path.read_text(errors="replace").splitlines():
                if f'"{event}"' in line and line.startswith("{"):
                    try:
                        found.append(json.loads(line))
                    except ValueError:
                        continue
        return found

    def count_logged(self, text: str) -> int:
        """How many lines of the workers' logs contain ``text``."""
        return sum(
            1
            for worker in self.workers
            for line in worker.log_path.read_text(errors="replace").splitlines()
            if text in line
        )

    # -- the stream of pushes --------------------------------------------------------------

    def build_stream(self, *, pushes: int, commits_per_push: int, repos: int = 3) -> list[Push]:
        """Pushes to ``repos`` new repositories, each commit known to the stand-in GitHub."""
        names = [f"faults/{self.name}-{n}-{uuid.uuid4().hex[:6]}" for n in range(repos)]
        for repo in names:
            self.github.add_repo(repo, default_branch="main")
        self.repos += names
        heads = {repo: payloads.fake_sha(f"{repo}:root") for repo in names}
        noon = datetime(self.day.year, self.day.month, self.day.day, 12, tzinfo=UTC)
        built = []
        for index in range(pushes):
            repo = names[index % repos]
            commits = []
            for n in range(commits_per_push):
                message = f"feat: {self.name} change {index}.{n}"
                path = f"src/{self.name.replace('-', '_')}/change_{index}_{n}.py"
                commit = payloads.commit(
                    repo,
                    f"{index}-{n}",
                    message,
                    timestamp=noon + timedelta(minutes=index),
                    added=[path],
                    modified=["src/app/core.py"],
                )
                self.github.add_commit(
                    repo,
                    commit["id"],
                    message=message,
                    files=[
                        {
                            "filename": path,
                            "status": "added",
                            "additions": 2,
                            "deletions": 0,
                            "patch": f"@@ -0,0 +1,2 @@\n+def change_{index}_{n}():\n+    return {n}",
                        },
                        {
                            "filename": "src/app/core.py",
                            "status": "modified",
                            "additions": 1,
                            "deletions": 1,
                            "patch": f"@@ -1 +1 @@\n-VERSION = {index}\n+VERSION = {index + 1}",
                        },
                    ],
                )
                commits.append(commit)
            body = payloads.encode(
                payloads.push(
                    repo, commits, before=heads[repo], pushed_at=noon + timedelta(minutes=index)
                )
            )
            heads[repo] = commits[-1]["id"]
            built.append(Push(str(uuid.uuid4()), repo, body, tuple(c["id"] for c in commits)))
        self.pushes += built
        return built

    def carry_again(self, *earlier: Push) -> Push:
        """A new delivery, with an id of its own, that carries the commits of ``earlier``."""
        repo = earlier[0].repo
        commits = [c for push in earlier for c in json.loads(push.body)["commits"]]
        body = payloads.encode(payloads.push(repo, commits))
        push = Push(str(uuid.uuid4()), repo, body, tuple(c["id"] for c in commits))
        self.pushes.append(push)
        return push

    def post(self, push: Push, timeout: float = 10.0, url: str | None = None) -> int | None:
        """Deliver ``push`` as GitHub does (to ``url``, default this stack's web process);
        the status, or None when no answer came."""
        request = urllib.request.Request(
            url or self.url,
            data=push.body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "GitHub-Hookshot/faults",
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": push.guid,
                "X-Hub-Signature-256": sign(push.body, SECRET),
            },
        )
        status: int | None
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (OSError, http.client.HTTPException):
            status = None  # reset, refused or timed out: GitHub records a failed delivery
        with self._lock:
            push.answers.append(status)
        return status

    def drive(
        self,
        pushes: list[Push] | None = None,
        *,
        interval: float = 0.25,
        before: Callable[[int], None] | None = None,
    ) -> None:
        """Send each push once, ``interval`` apart, calling ``before(index)`` ahead of each."""
        for index, push in enumerate(self.pushes if pushes is None else pushes):
            if before is not None:
                before(index)
            self.post(push)
            time.sleep(interval)

    def redeliver_failed(self, timeout: float = 60.0) -> int:
        """Re-send, with the same delivery id, every push that never got a 2xx."""
        sent = 0
        deadline = time.monotonic() + timeout
        while True:
            failed = [p for p in self.pushes if not p.accepted]
            if not failed or time.monotonic() > deadline:
                return sent
            for push in failed:
                self.post(push)
                sent += 1
            if any(not p.accepted for p in failed):
                time.sleep(1.0)

    # -- what happened ------------------------------------------------------------------------

    @property
    def accepted_shas(self) -> list[str]:
        return sorted({sha for p in self.pushes if p.accepted for sha in p.shas})

    @property
    def sent_shas(self) -> list[str]:
        return sorted({sha for p in self.pushes for sha in p.shas})

    def repo_of(self, sha: str) -> str:
        return next(p.repo for p in self.pushes if sha in p.shas)

    def analyses(self) -> Counter[str]:
        """Analysis rows per sha of the scenario's repositories."""
        with self.runtime.session() as session:
            rows = session.execute(
                select(Commit.sha, func.count(Analysis.id))
                .join(Repository, Repository.id == Commit.repository_id)
                .outerjoin(Analysis, Analysis.commit_id == Commit.id)
                .where(Repository.full_name.in_(self.repos))
                .group_by(Commit.id, Commit.sha)
            ).all()
        counts: Counter[str] = Counter()
        for sha, count in rows:
            counts[sha] += count
        return counts

    def claims(self) -> int:
        """Analysis claims taken on the scenario's commits (one per attempt that started)."""
        with self.runtime.session() as session:
            return int(
                session.execute(
                    select(func.coalesce(func.sum(Commit.attempts), 0))
                    .join(Repository, Repository.id == Commit.repository_id)
                    .where(Repository.full_name.in_(self.repos))
                ).scalar_one()
            )

    def claimed(self) -> int:
        """Commits of the scenario being analysed right now (claimed, not yet stored)."""
        with self.runtime.session() as session:
            return int(
                session.execute(
                    select(func.count())
                    .select_from(Commit)
                    .join(Repository, Repository.id == Commit.repository_id)
                    .where(
                        Repository.full_name.in_(self.repos),
                        Commit.started_at.is_not(None),
                        Commit.analysed_at.is_(None),
                    )
                ).scalar_one()
            )

    def stored_without_comment(self) -> list[str]:
        """Shas whose analysis is stored but whose comment is not posted yet (no row, or queued)."""
        with self.runtime.session() as session:
            return list(
                session.execute(
                    select(Commit.sha)
                    .join(Repository, Repository.id == Commit.repository_id)
                    .join(Analysis, Analysis.commit_id == Commit.id)
                    .outerjoin(CommitComment, CommitComment.commit_id == Commit.id)
                    .where(
                        Repository.full_name.in_(self.repos),
                        or_(CommitComment.commit_id.is_(None), CommitComment.state == "queued"),
                    )
                ).scalars()
            )

    def analyzers(self) -> Counter[str]:
        """Stored analyses by analyzer and fallback reason."""
        with self.runtime.session() as session:
            rows = session.execute(
                select(Analysis.analyzer, Analysis.fallback_reason)
                .join(Commit, Commit.id == Analysis.commit_id)
                .join(Repository, Repository.id == Commit.repository_id)
                .where(Repository.full_name.in_(self.repos))
            ).all()
        return Counter(f"{analyzer}({reason})" if reason else analyzer for analyzer, reason in rows)

    def comment_states(self) -> Counter[str]:
        """The recorded state of each comment (created, edited, unchanged, queued)."""
        with self.runtime.session() as session:
            rows = session.execute(
                select(CommitComment.state)
                .join(Commit, Commit.id == CommitComment.commit_id)
                .join(Repository, Repository.id == Commit.repository_id)
                .where(Repository.full_name.in_(self.repos))
            ).scalars()
            return Counter(rows)

    def comments(self) -> Counter[str]:
        """Our comments (those carrying the marker) per accepted sha on the stand-in GitHub."""
        counts: Counter[str] = Counter()
        for sha in self.accepted_shas:
            counts[sha] = sum(
                1 for c in self.github.comments(self.repo_of(sha), sha) if is_ours(c["body"], sha)
            )
        return counts

    def emails(self, day: date | None = None) -> list[Any]:
        wanted = (day or self.day).isoformat()
        return [m for m in list(self.smtp.received) if wanted in str(m.message["Subject"])]

    def complete(self) -> bool:
        analyses, comments = self.analyses(), self.comments()
        return all(analyses[s] >= 1 and comments[s] >= 1 for s in self.accepted_shas)

    def wait_complete(self, timeout: float) -> bool:
        return poll(self.complete, timeout, interval=0.5)

    def pending(self) -> str:
        """Where the unfinished work of accepted commits is stuck, for the notes."""
        accepted = self.accepted_shas
        comments = self.comments()
        with self.runtime.session() as session:
            rows = session.execute(
                select(
                    Commit.sha,
                    Commit.queued_at,
                    Commit.started_at,
                    Commit.analysed_at,
                    CommitComment.state,
                )
                .join(Repository, Repository.id == Commit.repository_id)
                .outerjoin(CommitComment, CommitComment.commit_id == Commit.id)
                .where(Repository.full_name.in_(self.repos))
            ).all()
        found = {row.sha: row for row in rows}
        kinds: Counter[str] = Counter()
        for sha in accepted:
            row = found.get(sha)
            if row is None:
                kinds["not-recorded"] += 1
            elif row.analysed_at is None:
                if row.started_at is not None:
                    kinds["analysis-claimed"] += 1
                elif row.queued_at is not None:
                    kinds["analysis-queued"] += 1
                else:
                    kinds["analysis-unqueued"] += 1
            elif comments[sha] == 0:
                kinds[f"comment-{row.state or 'no-row'}"] += 1
        return ", ".join(f"{kind}={n}" for kind, n in sorted(kinds.items())) or "nothing"

    def fast_forward(self, by: timedelta = FAST_FORWARD) -> None:
        """Move back, by ``by``, the timestamps the sweep and the send claim compare with now.

        Equivalent to waiting ``by`` for REQUEUE_AFTER, ANALYSIS_LEASE and REPORT_SEND_LEASE
        to expire. This stack sets them to seconds, so they expire on their own; this only
        hurries a scenario that would otherwise wait for them.
        """
        with self.runtime.session() as session:
            for commit_id, queued_at, started_at in session.execute(
                select(Commit.id, Commit.queued_at, Commit.started_at).where(
                    Commit.analysed_at.is_(None)
                )
            ).all():
                session.execute(
                    update(Commit)
                    .where(Commit.id == commit_id)
                    .values(
                        queued_at=queued_at - by if queued_at else None,
                        started_at=started_at - by if started_at else None,
                    )
                )
            for commit_id, updated_at in session.execute(
                select(CommitComment.commit_id, CommitComment.updated_at).where(
                    CommitComment.state.in_(("queued", "posting"))
                )
            ).all():
                session.execute(
                    update(CommitComment)
                    .where(CommitComment.commit_id == commit_id)
                    .values(updated_at=updated_at - by)
                )
            for send_id, claimed_at in session.execute(
                select(ReportSend.id, ReportSend.claimed_at).where(ReportSend.state == "sending")
            ).all():
                session.execute(
                    update(ReportSend)
                    .where(ReportSend.id == send_id)
                    .values(claimed_at=claimed_at - by)
                )

    def seed_comment(self, sha: str, body: str = "An analysis of an earlier run.") -> None:
        """Leave one of our comments, with an outdated body, on ``sha`` (it must be edited)."""
        self.github.add_comment(
            self.repo_of(sha), sha, f"{body}\n\n{marker_for(sha)}\n", login="commit-digest-bot"
        )

    def send_report(self, day: date | None = None) -> None:
        """Ask for the day's report the way beat does, by queueing the task."""
        self.runtime.celery.send_task(DAILY_REPORT, kwargs={"day": (day or self.day).isoformat()})

    def note(self, text: str) -> None:
        self.notes.append(text)

    def finish(
        self,
        *,
        fast_timeout: float = 45.0,
        allow_fast_forward: bool = False,
        forwarded_timeout: float = 30.0,
        report_requests: int = 1,
    ) -> Outcome:
        """Redeliver failures, wait for the work (fast-forwarding if allowed), report, count."""
        redelivered = self.redeliver_failed()
        if redelivered:
            self.note(f"redelivered={redelivered}")
        started = time.monotonic()
        if self.wait_complete(fast_timeout):
            self.note(f"complete {time.monotonic() - started:.0f}s after the stream")
        else:
            self.note(f"after {fast_timeout:.0f}s still pending: {self.pending()}")
            if allow_fast_forward:
                self.fast_forward()
                if self.wait_complete(forwarded_timeout):
                    self.note("fast-forwarded 16 min: then complete")
                else:
                    self.note(f"fast-forwarded 16 min: still pending: {self.pending()}")
        for _ in range(report_requests):
            self.send_report()
        poll(lambda: self.emails(), 60, interval=0.5)
        time.sleep(QUIET_SECONDS)
        return self.outcome()

    def outcome(self) -> Outcome:
        accepted = self.accepted_shas
        analyses, comments = self.analyses(), self.comments()
        emails = len(self.emails())
        return Outcome(
            scenario=self.name,
            sent=len(self.sent_shas),
            accepted=len(accepted),
            analysed=sum(analyses[s] for s in accepted),
            comments=sum(comments[s] for s in accepted),
            emails=emails,
            lost=sum(1 for s in accepted if analyses[s] == 0),
            duplicated=sum(max(analyses[s] - 1, 0) + max(comments[s] - 1, 0) for s in accepted)
            + max(emails - 1, 0),
            missing_comments=tuple(s for s in accepted if comments[s] == 0),
            extra_comments=tuple(s for s in accepted if comments[s] > 1),
        )


def logged(service: Service, marker: str) -> bool:
    return service.log_path.exists() and marker in service.log_path.read_text(errors="replace")


def wait_logged(service: Service, marker: str, timeout: float = 40.0) -> None:
    def seen() -> bool:
        if not service.alive:
            raise AssertionError(f"{service.name} exited:\n{service.tail()}")
        return logged(service, marker)

    assert poll(seen, timeout, interval=0.1), f"{service.name} never logged {marker!r}"


def kill(process: psutil.Process) -> bool:
    """SIGKILL one process; False when it was already gone."""
    try:
        os.kill(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


class GuaranteeBroken(AssertionError):
    """Something accepted was lost, or something users see was done twice."""


def check(
    stack: FaultStack, outcome: Outcome, record: Callable[[Outcome, list[str]], None]
) -> None:
    """Record the scenario's line and notes, then hold it to the guarantees."""
    record(outcome, stack.notes)
    assert outcome.accepted > 0, "no delivery was accepted: the scenario proves nothing"
    problems = []
    if outcome.lost:
        problems.append(f"{outcome.lost} accepted commits without an analysis")
    if outcome.missing_comments:
        problems.append(f"no comment on {list(outcome.missing_comments)}")
    if outcome.extra_comments:
        problems.append(f"more than one comment on {list(outcome.extra_comments)}")
    if outcome.analysed != outcome.accepted:
        problems.append(f"{outcome.analysed} analyses for {outcome.accepted} commits")
    if outcome.emails != 1:
        problems.append(f"{outcome.emails} report emails for {stack.day}")
    if problems:
        raise GuaranteeBroken(f"{outcome.line()}: " + "; ".join(problems))
