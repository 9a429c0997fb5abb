"""Two "hosts" sharing one Redis and one PostgreSQL: 2 web and 4 worker processes, 2 beats."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from commit_digest.embedded_redis import free_port

from .harness import FaultStack, check, poll, wait_logged
from support.processes import celery_beat, celery_worker, gunicorn_web

pytestmark = pytest.mark.faults


@pytest.mark.timeout(300)
def test_two_hosts_a_worker_and_a_beat_killed_mid_burst(
    make_stack: Callable[..., FaultStack], record: Callable[..., None]
) -> None:
    """A burst of pushes spread over two hosts' web processes; one host loses a worker and its
    beat mid-way. Every commit is analysed once, commented on once, and one report is emailed.

    Host A is the stack itself (gunicorn, two workers, a beat); host B has a data directory and
    process group of its own (its gunicorn, two workers, a beat), over the same Redis and
    PostgreSQL, as a second machine would.
    """
    stack = make_stack("two-hosts", database="postgresql", concurrency=2, beats=1)
    stack.llm.latency = 0.3
    stack.add_worker("worker-a2")
    host_b = stack.workdir / "host-b"
    env_b = {**stack.env, "DATA_DIR": str(host_b / "data")}
    port_b = free_port()
    web_b = gunicorn_web(env_b, host_b, port_b, workers=2)
    workers_b = [celery_worker(env_b, host_b, name=f"worker-b{n}", concurrency=2) for n in (1, 2)]
    beat_b = celery_beat(env_b, host_b, name="beat-b")
    extra = [web_b, *workers_b, beat_b]
    try:
        for service in extra:
            service.start()
        for worker in workers_b:
            wait_logged(worker, "ready.")
        wait_logged(beat_b, "beat: Starting")
        url_b = f"http://127.0.0.1:{port_b}/webhooks/github"
        assert poll(lambda: _answers(f"http://127.0.0.1:{port_b}/healthz"), 30)
        stack.workers.extend(workers_b)  # counted and stopped with the stack's own
        stack.beats.append(beat_b)
        pushes = stack.build_stream(pushes=24, commits_per_push=3, repos=4)
        killed: list[str] = []
        for index, push in enumerate(pushes):
            if index == 10:
                # a whole worker of host A (main and pool processes) dies while it works, and
                # the beat that holds the lock dies with its host's scheduler
                stack.workers[0].kill()
                holder = next(b for b in stack.beats if "beat.lock.acquired" in _log(b))
                holder.kill()
                killed += [stack.workers[0].name, holder.name]
            stack.post(push, url=url_b if index % 2 else None)
            time.sleep(0.1)
        stack.note(f"killed {killed} after 10 of {len(pushes)} pushes")
        outcome = stack.finish(fast_timeout=40, allow_fast_forward=True)
        survivors = [b for b in stack.beats if b.alive]
        stack.note(
            f"web A answered {sum(1 for p in pushes[::2] if p.accepted)}, "
            f"web B {sum(1 for p in pushes[1::2] if p.accepted)}; "
            f"beats alive={len(survivors)}, lock taken over="
            f"{any('beat.lock.acquired' in _log(b) for b in survivors)}"
        )
        check(stack, outcome, record)
    finally:
        web_b.stop(timeout=10)


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _log(service: object) -> str:
    path = service.log_path  # type: ignore[attr-defined]
    return str(path.read_text(errors="replace")) if path.exists() else ""
