"""Fault scenarios run only when asked for (``make test-faults``: ``pytest -m faults``).

Plain ``pytest`` (``make test``) deselects them: each starts a whole stack of real processes
and takes tens of seconds. At the end of a run, every scenario's counts are printed together.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from .harness import FaultStack, Outcome
from .postgres import RestartablePostgres
from .standins import FaultyGitHub, TrackedLLM
from conftest import GITHUB_TOKEN
from support.smtp import SmtpServer

HERE = Path(__file__).parent
_OUTCOMES: list[tuple[str, Outcome]] = []  # (test node id, counts), in the order run
_RESULTS: dict[str, str] = {}  # test node id -> passed, failed, xfailed
_NOTES: list[str] = []
COLUMNS = ("sent", "accepted", "analysed", "comments", "emails", "lost", "duplicated")
# Each scenario reports on a day of its own, far in the future, so no two can be confused.
_DAYS = itertools.count()
FIRST_DAY = date(2031, 3, 2)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "faults" in (config.getoption("markexpr") or ""):
        return
    deselected = [item for item in items if HERE in item.path.parents]
    if deselected:
        items[:] = [item for item in items if HERE not in item.path.parents]
        config.hook.pytest_deselected(items=deselected)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _RESULTS[report.nodeid] = "xfailed" if hasattr(report, "wasxfail") else report.outcome


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _OUTCOMES:
        return
    terminalreporter.section("fault scenarios")
    width = max(len(o.scenario) for _, o in _OUTCOMES)
    header = f"{'scenario':<{width}}  " + "  ".join(f"{c:>10}" for c in COLUMNS) + "  result"
    terminalreporter.write_line(header)
    for nodeid, outcome in _OUTCOMES:
        cells = "  ".join(f"{getattr(outcome, c):>10}" for c in COLUMNS)
        result = _RESULTS.get(nodeid, "?")
        terminalreporter.write_line(f"{outcome.scenario:<{width}}  {cells}  {result}")
    terminalreporter.write_line("")
    for _, outcome in _OUTCOMES:
        terminalreporter.write_line(outcome.line())
    if _NOTES:
        terminalreporter.write_line("")
        for note in _NOTES:
            terminalreporter.write_line(note)


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[[Outcome, list[str]], None]:
    """Print a scenario's counts (one line) and keep them, with its notes, for the summary."""

    def keep(outcome: Outcome, notes: list[str]) -> None:
        print(outcome.line())
        _OUTCOMES.append((request.node.nodeid, outcome))
        if notes:
            text = f"{outcome.scenario}: " + "; ".join(notes)
            print(text)
            _NOTES.append(text)

    return keep


@pytest.fixture(scope="session")
def fault_github() -> Iterator[FaultyGitHub]:
    with FaultyGitHub(tokens={GITHUB_TOKEN: "commit-digest-bot"}) as server:
        yield server


@pytest.fixture(scope="session")
def fault_llm() -> Iterator[TrackedLLM]:
    with TrackedLLM() as server:
        yield server


@pytest.fixture
def make_stack(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fault_github: FaultyGitHub,
    fault_llm: TrackedLLM,
) -> Iterator[Callable[..., FaultStack]]:
    """Build (and afterwards stop) the stack of one scenario on SQLite or PostgreSQL."""
    built: list[FaultStack] = []
    cleanups: list[Callable[[], None]] = []
    fault_github.clear_faults()
    fault_llm.reset()

    def build(
        name: str, *, database: str = "sqlite", smtp: SmtpServer | None = None, **options: Any
    ) -> FaultStack:
        mail = smtp or SmtpServer()
        mail.start()
        cleanups.append(mail.stop)
        observer_url = postgres = None
        if database == "sqlite":
            path = tmp_path / "commit-digest.db"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            database_url = f"sqlite:///{path}"
        else:
            postgres = RestartablePostgres(request.getfixturevalue("postgres_admin_url"))
            cleanups.append(postgres.drop)
            database_url, observer_url = postgres.url, postgres.observer_url
        stack = FaultStack(
            name,
            tmp_path,
            github=fault_github,
            llm=fault_llm,
            smtp=mail,
            database_url=database_url,
            observer_url=observer_url,
            postgres=postgres,
            day=FIRST_DAY + timedelta(days=next(_DAYS)),
            **options,
        )
        built.append(stack)
        return stack.start()

    yield build
    for stack in built:
        stack.stop()
    for cleanup in reversed(cleanups):
        cleanup()
    fault_github.clear_faults()
    fault_llm.reset()
