"""`commit-digest run` on its embedded defaults: up, the printed curl works, Ctrl-C stops all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from commit_digest.embedded_redis import free_port

from support.processes import ROOT, wait_for


@pytest.mark.timeout(180)
def test_run_prints_a_working_curl_and_stops_cleanly(tmp_path: Path) -> None:
    """The printed curl returns 202, its commits are analysed, and SIGINT stops every child."""
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PORT": str(port),
        "LOG_FORMAT": "json",
        "PYTHONPATH": str(ROOT),
    }
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "commit_digest.cli", "run", "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    output = lambda: (tmp_path / "run.log").read_text(errors="replace")  # noqa: E731
    try:
        wait_for(
            lambda: "celery@" in output() and "ready." in output() and "Listening at" in output(),
            timeout=60,
            what="web and worker to start",
        )
        curl = re.search(r"^\s*(curl -sS .*)$", output(), re.MULTILINE)
        assert curl, output()
        assert f"http://127.0.0.1:{port}/webhooks/github" in curl[1]
        answer = subprocess.run(
            ["bash", "-c", curl[1] + " -w ' %{http_code}'"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert answer.stdout.endswith(" 202"), answer
        assert '"queued":3' in answer.stdout

        day = datetime.now(UTC).date().isoformat()

        def report() -> str | None:
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "commit_digest.cli",
                    "report",
                    "--date",
                    day,
                    "--language",
                    "en",
                ],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            return (
                result.stdout
                if "3 commits today" in result.stdout and "Pending" not in result.stdout
                else None
            )

        text = wait_for(
            report, timeout=30, interval=0.5, what="the three sample commits to be analysed"
        )
        assert '## <a id="r-commit-digest-sample"></a>commit-digest/sample' in str(text)
        # the data directory and what is in it are this user's alone (it was world-readable)
        data = tmp_path / "var"
        assert data.stat().st_mode & 0o777 == 0o700
        for path in data.rglob("*"):
            assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
        assert "🔴 High 2 | 🟡 Medium 0 | 🟢 Low 1" in str(text)
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 4  # redis, gunicorn (+ its workers), celery worker (+ pool), beat
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
        c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children
    ):
        time.sleep(0.2)
    assert [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE] == []
    assert "stopping" in output()
