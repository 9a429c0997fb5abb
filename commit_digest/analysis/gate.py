"""One limit on LLM requests in flight for the whole installation, held in Redis.

Every worker process on every host takes a lease before it sends a request and gives it back
after. A lease is a member of a sorted set scored by its expiry: the holder refreshes it while
its request runs, so a worker killed mid-request leaks nothing — its lease lapses after
``LEASE_SECONDS``. A Lua script drops lapsed leases and takes a free place atomically. A lease
names its host and process, so a process waiting for a place gives back at once the places of
holders on its own host that are gone (a pool process killed by the OOM killer), instead of
waiting for them to lapse.

The limit adapts, so the defaults need no tuning: it starts at 1, grows by about one per
``limit`` successes while the time per token holds, eases off when it stretches (requests
queue inside the server), and halves on a timeout, a 429, a 5xx or a refused connection.
``LLM_CONCURRENCY`` caps it. A one-slot CPU server (llama.cpp) settles at 1–2; a hosted API
grows to the cap. A server that answers a second request by cutting the first one short
(llama-cpp-python's ``interrupt_requests``) teaches a ceiling: the limit that cut it, minus
one, remembered for ``CEILING_SECONDS`` so the gate stops probing for a place that is not there.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis
import structlog

log = structlog.get_logger(__name__)

LEASE_SECONDS = 60.0
CEILING_SECONDS = 3600
SLOTS_SECONDS = 86_400  # a ceiling the server itself named
POLL_SECONDS = 0.5
GROW_WHILE = 1.3  # seconds per token within this factor of the best seen: room for one more
EASE_ABOVE = 1.8  # beyond this factor the server queues requests: take one fewer

_ACQUIRE = """
local leases, limit_key = KEYS[1], KEYS[2]
local now, expiry, member, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
local limit = tonumber(redis.call('GET', limit_key) or '1')
if limit > cap then limit = cap end
if redis.call('ZCARD', leases) < math.max(1, math.floor(limit)) then
  redis.call('ZADD', leases, expiry, member)
  return 1
end
return 0
"""


_HOST = socket.gethostname()


def _new_member() -> str:
    """A lease's name: the holder's host and process, and a unique part."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex}"


def holder_gone(member: str) -> bool:
    """Whether the lease's holder was a process on this host that no longer runs.

    Holders on other hosts, and leases named in another way, are never judged here: theirs
    lapse. A process killed but not yet reaped by its parent counts as gone.
    """
    host, _, rest = member.partition(":")
    pid = rest.partition(":")[0]
    if host != _HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it runs, as another user
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[:1] == ["Z"]
    except OSError:
        return False


class LLMBusy(Exception):
    """Every place at the LLM is taken and stayed taken: try again later (not a failure)."""

    def __init__(self, countdown: float) -> None:
        super().__init__(f"the LLM is busy; trying again in {countdown:.0f} s")
        self.countdown = countdown


@dataclass
class Gate:
    """The installation-wide gate in front of one LLM server and model."""

    client: redis.Redis
    prefix: str
    cap: int
    max_wait: float = 300.0

    @property
    def _leases(self) -> str:
        return f"{self.prefix}commit-digest:llm:leases"

    @property
    def _limit(self) -> str:
        return f"{self.prefix}commit-digest:llm:limit"

    @property
    def _best(self) -> str:
        return f"{self.prefix}commit-digest:llm:best-seconds-per-token"

    @property
    def _ceiling(self) -> str:
        return f"{self.prefix}commit-digest:llm:ceiling"

    @property
    def _waiting(self) -> str:
        return f"{self.prefix}commit-digest:llm:waiting"

    @contextmanager
    def turn(self) -> Iterator[Lease]:
        """Wait for a place (up to ``max_wait``, else ``LLMBusy``); hold it while the body runs."""
        member = _new_member()
        deadline = time.monotonic() + self.max_wait
        script = self.client.register_script(_ACQUIRE)
        self.client.incr(self._waiting)
        try:
            while not script(
                keys=[self._leases, self._limit],
                args=[time.time(), time.time() + LEASE_SECONDS, member, self.cap],
            ):
                if time.monotonic() > deadline:
                    raise LLMBusy(countdown=30.0)
                if not self._reclaim():
                    time.sleep(POLL_SECONDS)
        finally:
            self.client.decr(self._waiting)
        lease = Lease(self, member)
        lease.start()
        try:
            yield lease
        finally:
            lease.stop()
            self.client.zrem(self._leases, member)

    def _reclaim(self) -> bool:
        """Give back the places of holders on this host that are gone; whether any was."""
        gone = [
            member
            for raw in self.client.zrange(self._leases, 0, -1)
            if holder_gone(member := raw.decode() if isinstance(raw, bytes) else str(raw))
        ]
        if gone:
            self.client.zrem(self._leases, *gone)
            log.info("llm.gate.reclaimed", holders=len(gone), reason="holder process gone")
        return bool(gone)

    def state(self) -> tuple[int, int, float]:
        """Requests in flight, requests waiting, and the current limit (for /metrics)."""
        now = time.time()
        in_flight = int(self.client.zcount(self._leases, now, "+inf"))
        waiting = int(self.client.get(self._waiting) or 0)
        limit = min(float(self.client.get(self._limit) or 1), float(self.cap))
        return in_flight, max(waiting, 0), limit

    def succeeded(self, seconds: float, tokens: int) -> None:
        """Widen the gate while the time per token holds; narrow it when it stretches."""
        per_token = seconds / max(tokens, 1)
        best = float(self.client.get(self._best) or per_token)
        # the best decays slowly, so a server that got slower for good is learnt again
        best = min(best * 1.02, per_token)
        self.client.set(self._best, best)
        limit = min(float(self.client.get(self._limit) or 1), float(self.cap))
        ceiling = min(float(self.client.get(self._ceiling) or self.cap), float(self.cap))
        if per_token <= best * GROW_WHILE and limit < ceiling:
            limit = min(ceiling, limit + 1 / max(limit, 1))
        elif per_token > best * EASE_ABOVE and limit > 1:
            limit = max(1.0, limit - 0.5)
        self.client.set(self._limit, limit)

    def interrupted(self) -> None:
        """A request was cut short by the next one: no more at once than one fewer, for a while."""
        limit = min(float(self.client.get(self._limit) or 1), float(self.cap))
        ceiling = max(1.0, float(int(limit)) - 1)
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self._ceiling, ceiling, ex=CEILING_SECONDS)
        pipe.set(self._limit, ceiling)
        pipe.execute()
        log.info("llm.gate.ceiling", limit=ceiling, reason="answer cut short by the next request")

    @property
    def _slots_asked(self) -> str:
        return f"{self.prefix}commit-digest:llm:slots-asked"

    def first_to_ask_slots(self) -> bool:
        """True for the one process that should ask the server its slots today."""
        return bool(self.client.set(self._slots_asked, 1, ex=SLOTS_SECONDS, nx=True))

    def server_slots(self, slots: int) -> None:
        """The server said how many requests it computes at once: never probe beyond them.

        Kept as the ceiling for a day (unless one is already learnt), so no request is sent
        only to find out that the server cuts the one before it short.
        """
        if self.client.set(self._ceiling, float(slots), ex=SLOTS_SECONDS, nx=True):
            log.info("llm.gate.slots", slots=slots)

    def overloaded(self, reason: str) -> None:
        """Halve the limit after a timeout, a 429, a 5xx or a refused connection."""
        limit = min(float(self.client.get(self._limit) or 1), float(self.cap))
        self.client.set(self._limit, max(1.0, limit / 2))
        log.info("llm.gate.narrowed", reason=reason, limit=max(1.0, limit / 2))


@dataclass
class Lease:
    """A place at the LLM, refreshed in the background while its request runs."""

    gate: Gate
    member: str
    _stop: threading.Event | None = None

    def start(self) -> None:
        self._stop = threading.Event()
        threading.Thread(target=self._refresh, daemon=True, name="llm-lease").start()

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def _refresh(self) -> None:
        assert self._stop is not None
        while not self._stop.wait(LEASE_SECONDS / 3):
            try:
                self.gate.client.zadd(
                    self.gate._leases, {self.member: time.time() + LEASE_SECONDS}, xx=True
                )
            except redis.RedisError:
                return  # the lease lapses: at worst one more request is let in
