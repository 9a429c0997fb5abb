"""Deliveries arriving twice, at once, late, and web processes killed while answering."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select

from commit_digest.models import Delivery

from .harness import FaultStack, Push, check, kill, poll

pytestmark = pytest.mark.faults


def send_together(stack: FaultStack, push: Push, copies: int) -> None:
    """Send ``copies`` of one delivery at the same instant."""
    barrier = threading.Barrier(copies)

    def send() -> None:
        barrier.wait()
        stack.post(push)

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_duplicate_and_concurrent_redeliveries(
    make_stack: Callable[..., FaultStack], record: Callable[..., None]
) -> None:
    """Deliveries sent again in a row, five at once, carried again by another delivery, and
    all sent once more after everything was done: each commit is analysed and commented once.
    """
    stack = make_stack("redeliveries", database="postgres", web_workers=3, concurrency=2)
    pushes = stack.build_stream(pushes=10, commits_per_push=3)
    pushes.append(stack.carry_again(pushes[0], pushes[3]))  # known commits, new delivery id
    for index, push in enumerate(pushes):
        if index % 3 == 1:
            send_together(stack, push, 5)
        else:
            stack.post(push)
            if index % 3 == 0:
                stack.post(push)
                stack.post(push)
        time.sleep(0.2)
    assert stack.wait_complete(60)
    late = [threading.Thread(target=stack.post, args=(push,)) for push in pushes]
    for thread in late:  # everything delivered once more, long after, all at once
        thread.start()
    for thread in late:
        thread.join()
    outcome = stack.finish()
    answers = Counter(a for p in pushes for a in p.answers)
    fresh = [p.guid for p in pushes if p.answers.count(202) != 1]
    stack.note(
        f"deliveries={len(pushes)} posts={sum(answers.values())} answers={dict(sorted(answers.items()))}"
    )
    check(stack, outcome, record)
    assert not fresh, f"deliveries not accepted exactly once: {fresh}"


@pytest.mark.timeout(240)
def test_web_worker_killed_while_answering(
    make_stack: Callable[..., FaultStack], record: Callable[..., None]
) -> None:
    """gunicorn workers SIGKILLed with deliveries in flight; those without a 2xx are sent again.

    The kills land at different points of a request, and once (pinned by freezing Redis)
    between the commit of the delivery and the publishing of its commits: those commits are
    recorded as queued but never were, the redelivery is answered "duplicate", and only the
    sweep recovers them, after REQUEUE_AFTER (15 min). The scenario notes that and
    fast-forwards the clock.
    """
    stack = make_stack("web-kill", web_workers=3, concurrency=2)
    stack.llm.latency = 0.2
    pushes = stack.build_stream(pushes=16, commits_per_push=2)
    cuts: list[str] = []

    def kill_web() -> None:
        for process in stack.web_processes():
            kill(process)

    def recorded(push: Push) -> bool:
        with stack.runtime.session() as session:
            return (
                session.execute(select(Delivery.id).where(Delivery.guid == push.guid)).first()
                is not None
            )

    # killed at once, 10 ms and 20 ms into a request: before, during and after its transaction
    offsets = {3: 0.0, 7: 0.01, 11: 0.02}
    for index, push in enumerate(pushes):
        if index in offsets:
            sender = threading.Thread(target=stack.post, args=(push,))
            sender.start()
            time.sleep(offsets[index])
            kill_web()
            sender.join()
        elif index == 14:  # killed after the commit, before its commits reach Redis
            kill_web()  # the workers gunicorn forks anew have no broker connection yet
            assert poll(stack.web_answers, 30)
            redis_server = stack.redis.process
            assert redis_server is not None
            # a frozen Redis still completes TCP handshakes (the kernel does), so the publish
            # connects and then hangs in its first command, before any LPUSH is written
            os.kill(redis_server.pid, signal.SIGSTOP)
            try:
                sender = threading.Thread(target=stack.post, args=(push,))
                sender.start()
                assert poll(lambda push=push: recorded(push), 5, interval=0.01)
                kill_web()
            finally:
                os.kill(redis_server.pid, signal.SIGCONT)
            sender.join()
        else:
            stack.post(push)
            time.sleep(0.15)
            continue
        answered = push.answers[-1]
        cuts.append(
            f"{'answered ' + str(answered) if answered else 'no answer'}"
            f"{', recorded' if recorded(push) else ', not recorded'}"
        )
    stack.note("cuts: " + "; ".join(cuts))
    outcome = stack.finish(fast_timeout=20, allow_fast_forward=True)
    check(stack, outcome, record)
