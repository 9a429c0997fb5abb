"""Two beat processes running side by side the whole time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from .harness import SWEEP_INTERVAL, FaultStack, check, poll

pytestmark = pytest.mark.faults


def sent_by(stack: FaultStack, task: str) -> list[int]:
    """How many times each beat sent ``task`` (Celery logs every send)."""
    return [
        beat.log_path.read_text(errors="replace").count(f"Sending due task {task} ")
        for beat in stack.beats
    ]


@pytest.mark.timeout(240)
def test_two_beats_all_along(
    make_stack: Callable[..., FaultStack], record: Callable[..., None]
) -> None:
    """Only the beat holding the lock sends: one sweep per interval, one nightly report."""
    now = datetime.now(UTC)
    fire = (now + timedelta(seconds=75)).replace(second=0, microsecond=0)
    stack = make_stack("two-beats", beats=2, env={"REPORT_TIME": f"{fire:%H:%M}"})
    started = time.monotonic()
    stack.build_stream(pushes=10, commits_per_push=3)
    stack.drive(interval=0.25)
    assert stack.wait_complete(45)
    # the nightly report both schedules hold fires at REPORT_TIME for the day before
    yesterday = fire.date() - timedelta(days=1)
    seconds = (fire - datetime.now(UTC)).total_seconds() + 30
    assert poll(lambda: stack.emails(yesterday), max(seconds, 5), interval=0.5)
    # and the scenario's own day, asked for twice (as by two schedulers that both fired)
    outcome = stack.finish(report_requests=2)
    elapsed = time.monotonic() - started
    sweeps = sent_by(stack, "sweep")
    reports = sent_by(stack, "daily-report")
    stack.note(
        f"sweeps sent per beat={sweeps} in {elapsed:.0f}s; nightly reports sent per beat={reports}; "
        f"emails for {yesterday}={len(stack.emails(yesterday))}"
    )
    check(stack, outcome, record)
    assert sorted(sweeps)[0] == 0, "both beats sent sweeps"
    assert max(sweeps) <= elapsed / SWEEP_INTERVAL + 2
    assert sorted(reports) == [0, 1]
    assert len(stack.emails(yesterday)) == 1
