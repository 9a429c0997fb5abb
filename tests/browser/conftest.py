"""A real browser (Debian's Chromium, driven by Playwright) against the real web process.

A package (like tests/faults), so this conftest never shadows the top-level one that other
tests import from.

Playwright's own browser download is unreachable from these machines, so Chromium is launched
by its path. Without it the browser tests skip locally; under CI (``CI=true``) a missing
Chromium fails them — ``.ci/run`` installs it first.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from commit_digest.config import load_settings
from commit_digest.db import upgrade
from commit_digest.models import Report
from commit_digest.runtime import Runtime
from report.render import render_markdown
from webhook import create_app

from support.reference_day import reference_day
from support.sample_day import sample_day

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
TOKEN = "browser-test-token-0123456789"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
FLAGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DAY = date(2026, 2, 3)
# the screenshots the README shows (UPDATE_SCREENSHOTS=1 make test-browser refreshes them)
README_SHOTS = {
    "report-en-1280",
    "report-zh-CN-390",
    "reference-day-zh-CN-1280-top",
    "reference-day-en-390-top",
}
REFERENCE_SCOPE = "ai-dynamo/dynamo,ai-dynamo/dynamo-docs,ai-dynamo/nixl"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium, or a skip (a failure under CI) when it is not installed."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is not installed at {CHROMIUM} (.ci/run installs it)")
        pytest.skip("Chromium is not installed (apt-get install chromium; make test-browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[str]:
    """The web process on a free port of 127.0.0.1, with the sample day's reports stored."""
    workdir = tmp_path_factory.mktemp("browser")
    database_url = f"sqlite:///{workdir / 'site.db'}"
    upgrade(database_url)
    settings = load_settings(
        {
            "GITHUB_WEBHOOK_SECRET": "browser-test-secret",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": f"cdbrowser-{os.getpid()}:",
            "ACCESS_TOKEN": TOKEN,
            "REPORT_TIMEZONE": "Asia/Shanghai",
            "DATA_DIR": str(workdir / "data"),
        }
    )
    runtime = Runtime.build(settings)
    day = sample_day()
    with runtime.session() as session:
        for language in ("zh-CN", "en"):
            session.add(
                Report(
                    day=DAY,
                    scope="",
                    language=language,
                    timezone="Asia/Shanghai",
                    built_at=datetime.now(UTC),
                    markdown=render_markdown(day, language),
                    commit_count=day.commit_count,
                    pending_count=0,
                )
            )
        # the reference day, as the report of a team of three repositories
        for language in ("zh-CN", "en"):
            reference = reference_day(language)
            session.add(
                Report(
                    day=DAY,
                    scope=REFERENCE_SCOPE,
                    language=language,
                    timezone="Asia/Shanghai",
                    built_at=datetime.now(UTC),
                    markdown=render_markdown(reference, language),
                    commit_count=reference.commit_count,
                    pending_count=0,
                )
            )
    runtime.close()
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["commit_digest"].close()


@pytest.fixture
def page_at(browser: Any) -> Iterator[Any]:
    """Open a page at a viewport width; console errors and failed requests are collected."""
    contexts: list[Any] = []

    def open_page(url: str, width: int) -> tuple[Any, list[str]]:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        response = page.goto(url)
        assert response is not None, url
        assert response.status == 200, url
        return page, problems

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str, height: int | None = None) -> Path:
    """Keep a full-page screenshot (or its first ``height`` pixels) under var/screenshots, and
    in docs/ when asked to."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    if height is None:
        page.screenshot(path=str(path), full_page=True)
    else:
        width = page.viewport_size["width"]
        page.screenshot(
            path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height}
        )
    if os.environ.get("UPDATE_SCREENSHOTS") and name in README_SHOTS:
        docs = ROOT / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, docs / path.name)
    return path
