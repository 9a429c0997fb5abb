"""A one-slot LLM server (llama.cpp on a CPU) behind the default worker settings."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .harness import FaultStack, check

pytestmark = pytest.mark.faults


@pytest.mark.timeout(300)
def test_a_one_slot_server_with_four_worker_processes_analyses_every_commit_once(
    make_stack: Callable[..., FaultStack], record: Callable[..., None]
) -> None:
    """The server answers one request at a time (2 s each) and queues the rest; four worker
    processes (WORKER_CONCURRENCY's default). Every commit of a 14-commit push is analysed by
    the LLM: requests = commits, no timeout, no heuristic fallback, no answer thrown away.

    Without the installation-wide gate, four requests queued at the server and each waited
    for the ones before it past LLM_TIMEOUT: retried while the server still computed them.
    """
    stack = make_stack("llm-one-slot", concurrency=4, env={"LLM_TIMEOUT": "6"})
    stack.llm.one_slot = True
    stack.llm.latency = 2.0
    stack.build_stream(pushes=1, commits_per_push=14, repos=1)
    stack.drive(interval=0.0)
    outcome = stack.finish(fast_timeout=120)
    requests = len(stack.llm.requests)
    analyzers = dict(stack.analyzers())
    timeouts = stack.count_logged("was silent for")
    stack.note(
        f"LLM requests={requests} for {outcome.accepted} commits, analyzers={analyzers}, "
        f"timeouts logged={timeouts}, answers abandoned={stack.llm.abandoned}"
    )
    check(stack, outcome, record)
    assert outcome.accepted == 14
    assert analyzers == {"llm": 14}
    assert requests == 14
    assert timeouts == 0
    assert stack.llm.abandoned == 0


@pytest.mark.timeout(300)
def test_a_server_that_cuts_the_running_answer_short_teaches_the_gate_its_ceiling(
    make_stack: Callable[..., FaultStack], record: Callable[..., None]
) -> None:
    """llama-cpp-python's server ends the answer it is streaming when another request arrives.
    The gate grows to two after its first success, one answer is cut, and from then on the
    ceiling of one holds: every commit by the LLM, at most one request lost to the probing.
    """
    stack = make_stack("llm-interrupting", concurrency=4, env={"LLM_TIMEOUT": "6"})
    stack.llm.one_slot = True
    stack.llm.interrupts = True
    stack.llm.latency = 0.5
    stack.llm.token_gap = 0.3
    stack.build_stream(pushes=1, commits_per_push=14, repos=1)
    stack.drive(interval=0.0)
    outcome = stack.finish(fast_timeout=180)
    requests = len(stack.llm.requests)
    analyzers = dict(stack.analyzers())
    stack.note(
        f"LLM requests={requests} for {outcome.accepted} commits, analyzers={analyzers}, "
        f"answers cut short={stack.llm.interrupted}"
    )
    check(stack, outcome, record)
    assert outcome.accepted == 14
    assert analyzers == {"llm": 14}
    assert stack.llm.interrupted <= 1
    assert requests <= 15
