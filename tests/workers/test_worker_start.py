"""What a worker's main process loads before its pool forks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from celery.signals import worker_init
import workers.tasks
from commit_digest.analysis.tokens import token_counter
before = "openai" in sys.modules
worker_init.send(sender=None)
print(json.dumps({"before": before, "after": "openai" in sys.modules,
                  "encodings": token_counter.cache_info().currsize}))
"""


def test_the_openai_sdk_and_the_token_encoding_are_loaded_before_the_fork(tmp_path: Path) -> None:
    """worker_init loads the SDK and the model's encoding once, for every pool process."""
    env = {
        "PATH": "/usr/bin:/bin",
        "REDIS_URL": "redis://127.0.0.1:1/0",  # never connected to here
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "DATA_DIR": str(tmp_path),
        "OPENAI_MODEL": "gpt-4o-mini",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"before": False, "after": True, "encodings": 1}
