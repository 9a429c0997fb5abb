"""The import contracts of docs/architecture.md hold, and `lint-imports` catches a break."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("commit_digest", "webhook", "workers", "report")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(checkout: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=checkout,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_of_the_code(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    return tmp_path


def test_the_code_keeps_every_contract(tmp_path: Path) -> None:
    """The checkout as it is: every contract kept."""
    result = _lint_imports(_copy_of_the_code(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "offending_import", "contract"),
    [
        ("commit_digest/intake.py", "import webhook.intake", "the core imports neither"),
        ("webhook/health.py", "import workers.tasks", "never import each other"),
        ("report/render.py", "import commit_digest.models", "imports nothing of ours"),
    ],
)
def test_an_import_across_a_boundary_fails_the_lint(
    tmp_path: Path, module: str, offending_import: str, contract: str
) -> None:
    """One import that crosses a boundary breaks the named contract (make lint fails)."""
    checkout = _copy_of_the_code(tmp_path)
    path = checkout / module
    path.write_text(path.read_text() + f"\n{offending_import}  # noqa\n")
    result = _lint_imports(checkout)
    assert result.returncode != 0
    assert f"{contract}" in result.stdout
    assert "BROKEN" in result.stdout
