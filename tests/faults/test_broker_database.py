"""The broker and the database restarted under the running service."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from .harness import FaultStack, check, poll

pytestmark = pytest.mark.faults


@pytest.mark.timeout(240)
def test_redis_stopped_and_restarted_during_intake(
    make_stack: Callable[..., FaultStack], record: Callable[..., None]
) -> None:
    """Pushes keep coming while Redis is down for a few seconds; every one is analysed once."""
    stack = make_stack("redis-restart", concurrency=2)
    stack.llm.latency = 0.3
    stack.build_stream(pushes=12, commits_per_push=3)
    down: list[float] = []

    def before(index: int) -> None:
        if index == 4:
            stack.redis.stop()
            down.append(time.monotonic())
        if index == 9:
            stack.redis.start()
            down.append(time.monotonic())

    stack.drive(interval=0.5, before=before)
    answered_down = sum(1 for p in stack.pushes[4:9] if p.answers[:1] == [202])
    stack.note(
        f"Redis down {down[1] - down[0]:.1f}s; {answered_down}/5 pushes sent meanwhile got 202"
    )
    outcome = stack.finish(fast_timeout=20, allow_fast_forward=True)
    check(stack, outcome, record)


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_postgres_restarted_during_analysis(
    make_stack: Callable[..., FaultStack], record: Callable[..., None]
) -> None:
    """The database goes away for three seconds while commits are being analysed."""
    stack = make_stack("postgres-restart", database="postgres", concurrency=2)
    stack.llm.latency = 0.3
    stack.build_stream(pushes=10, commits_per_push=3)
    terminated: list[int] = []
    restart = threading.Thread(target=lambda: terminated.append(stack.postgres.restart(3.0)))

    def before(index: int) -> None:
        if index == 4:
            # going down while each pool process waits for the LLM: an outage that begins
            # between storing an analysis and queueing its comment loses the comment, the
            # bug test_workers pins down with a kill
            assert poll(
                lambda: len(stack.llm.in_flight.ports("POST")) == stack.concurrency,
                10,
                interval=0.01,
            )
            restart.start()

    stack.drive(interval=0.3, before=before)
    restart.join()
    refused = sum(1 for p in stack.pushes for a in p.answers if a == 503)
    stack.note(f"backends terminated={terminated[0]}, deliveries answered 503={refused}")
    outcome = stack.finish(fast_timeout=20, allow_fast_forward=True)
    check(stack, outcome, record)
