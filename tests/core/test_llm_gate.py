"""The installation-wide gate in front of the LLM, on the real Redis."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from commit_digest.analysis import gate as gate_module
from commit_digest.analysis.context import probe_slots
from commit_digest.analysis.gate import Gate, LLMBusy


@pytest.fixture
def gate(redis_url: str, redis_key_prefix: str) -> Iterator[Gate]:
    client = redis.Redis.from_url(redis_url)
    yield Gate(client, redis_key_prefix, cap=4, max_wait=2.0)
    client.close()


def test_the_limit_starts_at_one_and_a_second_request_waits(gate: Gate) -> None:
    """Two processes at once: the second gets its place only when the first gives it back."""
    order: list[str] = []
    with gate.turn():
        assert gate.state() == (1, 0, 1.0)

        def second() -> None:
            with gate.turn():
                order.append("second")

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.8)
        assert gate.state()[1] == 1  # waiting, counted for /metrics
        order.append("first done")
    thread.join(5)
    assert order == ["first done", "second"]


def test_no_place_in_time_is_busy_not_an_error(gate: Gate) -> None:
    """When the place stays taken past the wait, LLMBusy says when to come back."""
    with gate.turn(), pytest.raises(LLMBusy) as busy, gate.turn():
        pass
    assert busy.value.countdown > 0


def test_a_killed_holder_leaks_nothing(gate: Gate, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lease nobody refreshes (its worker was killed) lapses, and the place is free again."""
    monkeypatch.setattr(gate_module, "LEASE_SECONDS", 1.0)
    held = gate.turn()  # kept referenced: collecting it would run its cleanup
    lease = held.__enter__()  # taken, and never given back
    lease.stop()  # the holder is killed: nobody refreshes its lease any more
    assert len(gate.client.zrange(gate._leases, 0, -1)) == 1
    time.sleep(1.5)
    with gate.turn():
        assert gate.state()[0] == 1
    del held


def test_the_limit_grows_while_the_pace_holds_and_halves_on_overload(gate: Gate) -> None:
    """Steady time per token widens the gate up to the cap; a timeout halves it."""
    for _ in range(12):
        gate.succeeded(seconds=10.0, tokens=1000)
    assert gate.state()[2] == 4.0  # the cap (LLM_CONCURRENCY)
    gate.overloaded("timeout")
    assert gate.state()[2] == 2.0
    gate.succeeded(seconds=40.0, tokens=1000)  # four times slower per token: requests queue
    assert gate.state()[2] == 1.5


def test_a_server_that_names_its_slots_is_never_probed_beyond_them(gate: Gate) -> None:
    """One slot said by the server: the limit stays at one however steady the answers; a
    ceiling already learnt from a cut answer is not overwritten."""
    assert gate.first_to_ask_slots()
    assert not gate.first_to_ask_slots()  # one process asks, once a day
    gate.server_slots(1)
    for _ in range(12):
        gate.succeeded(seconds=10.0, tokens=1000)
    assert gate.state()[2] == 1.0
    gate.server_slots(3)  # a later process's probe does not raise what is known
    for _ in range(12):
        gate.succeeded(seconds=10.0, tokens=1000)
    assert gate.state()[2] == 1.0


def test_the_slots_are_read_as_each_server_says_them() -> None:
    """llama.cpp: /props total_slots; llama-cpp-python: its /v1/models entries; others: None."""

    def server(answers: dict[str, object]) -> Callable[[str, object], object]:
        def fetch(url: str, body: object) -> object:
            for suffix, answer in answers.items():
                if url.endswith(suffix):
                    return answer
            raise OSError("404")

        return fetch

    base = "http://127.0.0.1:8080/v1"
    assert probe_slots(base, server({"/props": {"total_slots": 4, "n_ctx": 8192}})) == 4
    llama_cpp_python = {
        "/v1/models": {
            "object": "list",
            "data": [{"id": "qwen", "object": "model", "owned_by": "me", "permissions": []}],
        }
    }
    assert probe_slots(base, server(llama_cpp_python)) == 1
    vllm = {"/v1/models": {"data": [{"id": "qwen", "owned_by": "vllm", "max_model_len": 8192}]}}
    assert probe_slots(base, server(vllm)) is None
    assert probe_slots(base, server({})) is None
    assert probe_slots(base, server({"/props": {"total_slots": 0}})) is None


def _hold_for(gate: Gate, member: str) -> None:
    """A lease taken by ``member`` that would not lapse for a minute."""
    gate.client.zadd(gate._leases, {member: time.time() + 60})


def test_the_place_of_a_killed_process_on_this_host_is_given_back_at_once(gate: Gate) -> None:
    """A holder on this host that is gone, exited or killed and not yet reaped, gives its place
    back to the next process at once: it does not wait a minute for the lease to lapse."""
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    _hold_for(gate, f"{socket.gethostname()}:{exited.pid}:a")
    started = time.monotonic()
    with gate.turn():
        assert gate.state()[0] == 1
    assert time.monotonic() - started < 1.5  # max_wait is 2 s; a lapse would take 60
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        killed.kill()
        time.sleep(0.2)  # not reaped yet: a zombie still has its pid
        _hold_for(gate, f"{socket.gethostname()}:{killed.pid}:b")
        with gate.turn():
            assert gate.state()[0] == 1
    finally:
        killed.wait()


@pytest.mark.parametrize("where", ["a live process here", "another host"])
def test_the_place_of_a_running_or_distant_holder_is_kept(gate: Gate, where: str) -> None:
    """A holder that still runs here, or any holder on another host, keeps its place."""
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        host = socket.gethostname() if where == "a live process here" else "elsewhere-7f3a"
        pid = alive.pid if where == "a live process here" else 999_999_999
        _hold_for(gate, f"{host}:{pid}:c")
        with pytest.raises(LLMBusy), gate.turn():
            pass
    finally:
        alive.kill()
        alive.wait()
