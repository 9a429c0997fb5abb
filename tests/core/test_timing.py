"""Timing settings are checked against each other and the tasks' limits; config show hides secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from commit_digest.config import load_settings
from commit_digest.timing import ANALYSIS_HARD_LIMIT, disagreements

ROOT = Path(__file__).resolve().parents[2]


def test_the_defaults_agree() -> None:
    """Out of the box nothing disagrees."""
    assert disagreements(load_settings({"GITHUB_WEBHOOK_SECRET": "s"})) == []


def test_each_disagreement_is_named() -> None:
    """A lease under the task limit, an LLM timeout too long for three tries, a tight requeue."""
    found = disagreements(
        load_settings(
            {
                "GITHUB_WEBHOOK_SECRET": "s",
                "ANALYSIS_LEASE": str(ANALYSIS_HARD_LIMIT - 60),
                "LLM_TIMEOUT": "300",
                "REQUEUE_AFTER": "40",
                "SWEEP_INTERVAL": "30",
            }
        )
    )
    assert [line.split(":")[0] for line in found] == [
        "ANALYSIS_LEASE",
        "LLM_TIMEOUT",
        "REQUEUE_AFTER",
    ]


def test_config_show_hides_passwords_and_tokens() -> None:
    """`commit-digest config show` lists the settings with no secret in it."""
    result = subprocess.run(
        [sys.executable, "-m", "commit_digest.cli", "config", "show"],
        capture_output=True,
        text=True,
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": "postgresql+psycopg://app:db-Pass-123@db/digest",
            "GITHUB_TOKEN": "ghp_" + "s3cr3t" * 6,
            "ACCESS_TOKEN": "a-long-enough-access-token",
            "OPENAI_API_KEY": "sk-proj-secret-value-000000",
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr
    shown = result.stdout
    for secret in ("db-Pass-123", "s3cr3t", "a-long-enough-access-token", "sk-proj-secret"):
        assert secret not in shown
    assert "postgresql+psycopg://app:***@db/digest" in shown
    assert "GITHUB_TOKEN               (set)" in shown
    assert "SMTP_URL                   (not set)" in shown
    assert "REPORT_TIME                00:10 (default)" in shown
