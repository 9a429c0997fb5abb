"""deploy/kubernetes/check.py (`make k8s-check`) passes the committed manifests and fails
broken ones: a schema error, a misspelt field, a policy finding, a bad KEDA trigger, a
second beat.

The check runs with the interpreter of .venv-k8s (checkov, kubernetes-validate, kubectl),
which `make k8s-check` creates. Without it these tests are skipped on a developer's machine
and fail in CI (CI=true), where .ci/run runs `make k8s-check` before the tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KUBERNETES = REPO / "deploy" / "kubernetes"
PYTHON = REPO / ".venv-k8s" / "bin" / "python"

if not PYTHON.exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"{PYTHON} is missing: run `make k8s-check` first", pytrace=False)
    pytest.skip(
        "no .venv-k8s (kubectl, checkov): run `make k8s-check` once", allow_module_level=True
    )


def run_check(root: Path, overlay: str = "small") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PYTHON), str(KUBERNETES / "check.py"), "--root", str(root), "--overlay", overlay],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of deploy/kubernetes to break (without any operator's secret.env)."""
    target = tmp_path / "kubernetes"
    shutil.copytree(KUBERNETES, target, ignore=shutil.ignore_patterns("secret.env"))
    return target


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


def test_the_committed_manifests_pass(copy: Path) -> None:
    result = run_check(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   small:" in result.stdout
    assert "checkov: " in result.stdout
    assert " 0 failed" in result.stdout


def test_a_deployment_without_a_selector_fails(copy: Path) -> None:
    edit(
        copy / "base" / "beat.yaml",
        "  selector:\n    matchLabels:\n      app.kubernetes.io/component: beat\n  template:",
        "  template:",
    )
    result = run_check(copy)
    assert result.returncode == 1, result.stdout
    assert "Deployment/commit-digest-beat" in result.stdout
    assert "selector" in result.stdout


def test_a_misspelt_field_fails(copy: Path) -> None:
    edit(copy / "base" / "web.yaml", "readinessProbe:", "readynessProbe:")
    result = run_check(copy)
    assert result.returncode == 1, result.stdout
    assert "readynessProbe" in result.stdout


def test_a_privileged_container_fails_checkov(copy: Path) -> None:
    edit(
        copy / "base" / "web.yaml",
        "allowPrivilegeEscalation: false",
        "allowPrivilegeEscalation: true",
    )
    result = run_check(copy)
    assert result.returncode == 1, result.stdout
    assert "FAILED CKV_K8S_20" in result.stdout  # containers should not allow privilege escalation


def test_an_unquoted_keda_list_length_fails(copy: Path) -> None:
    # KEDA's trigger metadata is map[string]string: the API server refuses a number
    edit(copy / "base" / "keda.yaml", 'listLength: "20"', "listLength: 20")
    result = run_check(copy)
    assert result.returncode == 1, result.stdout
    assert "ScaledObject/commit-digest-worker-intake" in result.stdout


def test_a_second_beat_fails(copy: Path) -> None:
    edit(copy / "base" / "beat.yaml", "  replicas: 1\n", "  replicas: 2\n")
    result = run_check(copy)
    assert result.returncode == 1, result.stdout
    assert "replicas: 1" in result.stdout


def test_a_queue_without_a_worker_fails(copy: Path) -> None:
    edit(copy / "base" / "workers.yaml", "--queues=comments", "--queues=comment")
    result = run_check(copy)
    assert result.returncode == 1, result.stdout
    assert "queue 'comments'" in result.stdout
