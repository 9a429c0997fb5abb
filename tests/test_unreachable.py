"""Every command answers an unreachable service with one line: which, where (masked), what to do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "pw-Very-Secret-77"


def command(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "commit_digest.cli", *args],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **env},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (
            ["report"],
            {"DATABASE_URL": f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:1/digest"},
            "cannot reach the database at postgresql+psycopg://app:***@127.0.0.1:1/digest",
        ),
        (
            ["db", "upgrade"],
            {"DATABASE_URL": f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:1/digest"},
            "check that it is running and that DATABASE_URL is right",
        ),
    ],
)
def test_an_unreachable_database_is_one_line(
    args: list[str], env: dict[str, str], said: str
) -> None:
    """`report` against a closed port printed ~150 lines of SQLAlchemy traceback; now one line."""
    result = command(*args, **env)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert said in lines[0]
    assert PASSWORD not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_a_taken_port_names_the_variable_to_change(tmp_path: Path) -> None:
    """`run` with PORT taken says so and which variable to change, before starting anything."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = command("run", PORT=str(port), HOME=str(tmp_path), DATA_DIR=str(tmp_path / "var"))
    assert result.returncode == 1
    assert f"PORT: 127.0.0.1:{port} is not free" in result.stderr
    assert "set PORT (or HOST) to another" in result.stderr
    assert "Traceback" not in result.stderr
