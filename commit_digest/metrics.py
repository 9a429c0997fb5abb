"""Prometheus metrics for the whole installation, whatever its process layout.

Web processes, workers and their pool processes count into one Redis hash; ``/metrics`` on
any web process reads it back, adds gauges read at scrape time (queue depths, pending
commits), and renders the Prometheus text format. One place to scrape, no per-process
registries to aggregate, and it works the same with ``--scale worker=N``.

Counting never fails the work it counts: when Redis is unreachable the increment is dropped
and the next attempt waits a few seconds. Web processes add their counts up in memory and send
the sums at most once a second (``flush_interval``): a webhook request makes no Redis round
trip for its metrics, and a process that dies loses at most its last second of counts.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis
import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

log = structlog.get_logger(__name__)

KEY = "commit-digest:metrics"
GAUGES_KEY = "commit-digest:gauges"
PREFIX = "commit_digest_"
RETRY_AFTER_FAILURE = 5.0
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

# name -> (kind, help); the one list of what we export
METRICS: dict[str, tuple[str, str]] = {
    "deliveries": ("counter", "Webhook deliveries by event and outcome."),
    "commits_recorded": ("counter", "Commits recorded, by where they were found."),
    "commits_queued": ("counter", "Analysis tasks published."),
    "analyses": ("counter", "Analyses stored, by analyzer and whether it was a fallback."),
    "analysis_failures": (
        "counter",
        "Analysis attempts that ended in a retry or an error, by reason.",
    ),
    "analysis_duration_seconds": (
        "histogram",
        "Time from claiming a commit to storing its analysis.",
    ),
    "push_to_analysis_seconds": (
        "histogram",
        "Time from a commit being recorded to its analysis being stored.",
    ),
    "llm_tokens": ("counter", "LLM tokens used, by direction (input, output) and model."),
    "llm_requests": (
        "counter",
        "LLM requests by outcome (ok, timeout, unavailable, too_long, invalid, refused).",
    ),
    "llm_request_seconds": (
        "histogram",
        "Time from sending an LLM request to its last token (answered requests only).",
    ),
    "llm_cost_usd": ("counter", "Estimated LLM cost in US dollars, by model."),
    "comments": ("counter", "Commit comments, by result (created, edited, unchanged)."),
    "reports_sent": ("counter", "Report emails, by result."),
    "chat_messages": (
        "counter",
        "Chat messages (reports and alerts), by platform and result (sent, retrying, failed).",
    ),
    "commands": ("counter", "/digest commands from comments on commits, by command and outcome."),
    "github_rate_limit_remaining": (
        "gauge",
        "Requests left in GitHub's primary rate limit (last seen).",
    ),
}


def _field(name: str, labels: Mapping[str, str]) -> str:
    if name not in METRICS:
        raise KeyError(f"unknown metric {name}")
    return name + "|" + ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _parse(field_name: str) -> tuple[str, dict[str, str]]:
    name, _, raw = field_name.partition("|")
    labels = dict(pair.split("=", 1) for pair in raw.split(",") if "=" in pair)
    return name, labels


Command = tuple[str, tuple[Any, ...]]


@dataclass
class Metrics:
    """Write side: counters, histograms and gauges kept in Redis.

    Inside ``with metrics.batch():`` the increments of a request or a task are buffered and
    sent in one pipeline at the end instead of one round trip each.
    """

    redis_url: str | None
    key_prefix: str = ""
    flush_interval: float = 0.0  # > 0: add up in memory, send at most this often
    _client: redis.Redis | None = None
    _paused_until: float = 0.0
    _local: threading.local = field(default_factory=threading.local)
    _sums: dict[tuple[str, str, str], float] = field(default_factory=dict)
    _sums_lock: threading.Lock = field(default_factory=threading.Lock)
    _next_flush: float = 0.0

    def __post_init__(self) -> None:
        if self.flush_interval > 0:
            atexit.register(self.flush)

    @contextmanager
    def batch(self) -> Iterator[None]:
        if getattr(self._local, "buffer", None) is not None:
            yield  # already batching: the outermost batch sends
            return
        self._local.buffer = []
        try:
            yield
        finally:
            buffered: list[Command] = self._local.buffer
            self._local.buffer = None
            self._send(buffered)

    def _redis(self) -> redis.Redis | None:
        if self.redis_url is None or time.monotonic() < self._paused_until:
            return None
        if self._client is None:
            self._client = redis.Redis.from_url(
                self.redis_url, socket_connect_timeout=0.5, socket_timeout=1
            )
        return self._client

    def _run(self, commands: Sequence[Command]) -> None:
        if self.flush_interval > 0:
            self._add_up(commands)
            return
        buffer = getattr(self._local, "buffer", None)
        if buffer is not None:
            buffer.extend(commands)
            return
        self._send(commands)

    def _send(self, commands: Sequence[Command]) -> None:
        if not commands:
            return
        client = self._redis()
        if client is None:
            return
        try:
            pipe = client.pipeline(transaction=False)
            for command, args in commands:
                getattr(pipe, command)(*args)
            pipe.execute()
        except redis.RedisError as error:
            self._paused_until = time.monotonic() + RETRY_AFTER_FAILURE
            log.debug("metrics.dropped", error=type(error).__name__)

    def _add_up(self, commands: Sequence[Command]) -> None:
        now = time.monotonic()
        with self._sums_lock:
            for command, (key, field_name, value) in commands:
                slot = (command, key, field_name)
                if command == "hincrbyfloat":
                    self._sums[slot] = self._sums.get(slot, 0.0) + value
                else:  # hset: the last value wins
                    self._sums[slot] = value
            due = now >= self._next_flush
        if due:
            self.flush()

    def flush(self) -> None:
        """Send what was added up in memory (one pipeline); no-op when nothing is pending."""
        with self._sums_lock:
            sums, self._sums = self._sums, {}
            self._next_flush = time.monotonic() + self.flush_interval
        self._send([(command, (key, name, value)) for (command, key, name), value in sums.items()])

    def count(self, name: str, amount: float = 1, **labels: str) -> None:
        self._run([("hincrbyfloat", (self.key_prefix + KEY, _field(name, labels), amount))])

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = self.key_prefix + KEY
        commands: list[Command] = [
            ("hincrbyfloat", (key, _field(name, {**labels, "stat": "sum"}), seconds)),
            ("hincrbyfloat", (key, _field(name, {**labels, "stat": "count"}), 1)),
        ]
        for bound in LATENCY_BUCKETS:
            if seconds <= bound:
                commands.append(
                    ("hincrbyfloat", (key, _field(name, {**labels, "le": str(bound)}), 1))
                )
        self._run(commands)

    def gauge(self, name: str, value: float, **labels: str) -> None:
        self._run([("hset", (self.key_prefix + GAUGES_KEY, _field(name, labels), value))])

    def read(self) -> tuple[dict[str, float], dict[str, float]]:
        """(counters and histograms, gauges) as stored; empty when Redis is unreachable."""
        if self.flush_interval > 0:
            self.flush()  # this process's own counts are never behind its own scrape
        client = self._redis()
        if client is None:
            return {}, {}
        try:
            counters = client.hgetall(self.key_prefix + KEY)
            gauges = client.hgetall(self.key_prefix + GAUGES_KEY)
        except redis.RedisError:
            return {}, {}
        return _decoded(counters), _decoded(gauges)


def _decoded(values: Mapping[Any, Any]) -> dict[str, float]:
    return {(k.decode() if isinstance(k, bytes) else str(k)): float(v) for k, v in values.items()}


def families(
    counters: Mapping[str, float],
    gauges: Mapping[str, float],
    extra: Mapping[str, Sequence[tuple[dict[str, str], float]]],
) -> Iterator[Any]:
    """Prometheus metric families from stored values and gauges read at scrape time."""
    grouped: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for field_name, value in [*counters.items(), *gauges.items()]:
        name, labels = _parse(field_name)
        grouped[name].append((labels, value))
    for name, (kind, help_text) in METRICS.items():
        samples = grouped.get(name, [])
        if kind == "histogram":
            yield _histogram(name, help_text, samples)
            continue
        family_type = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
        yield _simple(family_type, name, help_text, samples)
    for name, values in extra.items():
        yield _simple(GaugeMetricFamily, name, _EXTRA_HELP[name], values)


def _simple(
    family_type: Any, name: str, help_text: str, samples: Sequence[tuple[dict[str, str], float]]
) -> Any:
    names = sorted({n for labels, _ in samples for n in labels})
    family = family_type(PREFIX + name, help_text, labels=names)
    for labels, value in samples:
        family.add_metric([labels.get(n, "") for n in names], value)
    return family


_EXTRA_HELP = {
    "queue_depth": "Tasks waiting in each queue.",
    "commits_pending": "Commits recorded without an analysis yet.",
    "commits_awaiting_reanalysis": "Commits with a fallback analysis that will be tried again.",
    "llm_in_flight": "LLM requests in flight, installation-wide.",
    "llm_waiting": "Analyses waiting for a place at the LLM.",
    "llm_limit": "The limit on LLM requests in flight (adaptive, at most LLM_CONCURRENCY).",
    "llm_label_checks": "Analyses whose type the commit's evidence settled, per server and model.",
    "llm_label_agreed": "Of those, the ones where the model named the same type.",
}


def _histogram(name: str, help_text: str, samples: Sequence[tuple[dict[str, str], float]]) -> Any:
    series: dict[tuple[tuple[str, str], ...], dict[str, float]] = defaultdict(dict)
    for labels, value in samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k not in ("le", "stat")))
        marker = f"le={labels['le']}" if "le" in labels else labels.get("stat", "")
        series[key][marker] = value
    names = sorted({k for key in series for k, _ in key})
    family = HistogramMetricFamily(PREFIX + name, help_text, labels=names)
    for key, values in series.items():
        # each observation was added to every bucket it falls in: the counts are cumulative
        buckets = [(str(b), values.get(f"le={b}", 0.0)) for b in LATENCY_BUCKETS]
        buckets.append(("+Inf", values.get("count", 0.0)))
        label_values = dict(key)
        family.add_metric([label_values.get(n, "") for n in names], buckets, values.get("sum", 0.0))
    return family
