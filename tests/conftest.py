"""Shared fixtures: real Redis, real SQLite and PostgreSQL, the Flask app, a real Celery worker.

PostgreSQL cases run wherever a server is reachable (COMMIT_DIGEST_TEST_POSTGRES_URL, default
the local one); with COMMIT_DIGEST_REQUIRE_POSTGRES=1 (set by .ci/run) an unreachable server
fails them instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings

from commit_digest.config import Settings, load_settings
from commit_digest.db import upgrade
from commit_digest.embedded_redis import EmbeddedRedis
from commit_digest.models import Base
from commit_digest.runtime import Runtime
from commit_digest.signature import sign
from webhook import create_app

from support.isolation import drop_postgres_schema, forget_redis_prefix, postgres_schema_url

FIXTURES = Path(__file__).parent / "fixtures"

# Property tests: a quick run by default, a long fuzz run with HYPOTHESIS_PROFILE=fuzz.
hypothesis_settings.register_profile("default", max_examples=300)
hypothesis_settings.register_profile("fuzz", max_examples=10_000)
hypothesis_settings.register_profile("fuzz50k", max_examples=50_000)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
SECRET = "It's a Secret to Everybody"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def payload_bytes(name: str) -> bytes:
    """The exact bytes of a captured payload in tests/fixtures/github/payloads."""
    return (FIXTURES / "github" / "payloads" / name).read_bytes()


# --- Redis -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The machine's Redis when one answers on 6379, else an embedded redis-server."""
    try:
        redis.Redis(port=6379, socket_connect_timeout=0.5).ping()
        yield "redis://127.0.0.1:6379/0"
        return
    except redis.ConnectionError:
        pass
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), persistent=False).start()
    yield server.url
    server.stop()


# --- databases ---------------------------------------------------------------------------------


def _postgres_url() -> str:
    return os.environ.get("COMMIT_DIGEST_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _require_postgres() -> bool:
    return os.environ.get("COMMIT_DIGEST_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = _postgres_url()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        message = f"PostgreSQL at {url} is unreachable: {type(error.orig).__name__}"
        if _require_postgres():
            pytest.fail(message + " (COMMIT_DIGEST_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test that wants a fresh database."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_fresh_url(postgres_admin_url: str) -> Iterator[str]:
    schema = f"cdtest_{uuid.uuid4().hex[:10]}"
    url = postgres_schema_url(postgres_admin_url, schema)
    upgrade(url)
    yield url
    drop_postgres_schema(postgres_admin_url, schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "commit-digest.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_fresh_url")
    engine = sa.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


# --- settings, runtime, app --------------------------------------------------------------------


def base_env(**overrides: str) -> dict[str, str]:
    """The variables every test configuration starts from."""
    env = {
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "REPORT_LANGUAGE": "en",
        "LOG_FORMAT": "json",
    }
    env.update(overrides)
    return env


@pytest.fixture
def redis_key_prefix(redis_url: str) -> Iterator[str]:
    """A Redis key prefix of this test's own, its keys deleted afterwards."""
    prefix = f"cdtest-{uuid.uuid4().hex[:12]}:"
    yield prefix
    forget_redis_prefix(redis_url, prefix)


@pytest.fixture
def env(database_url: str, redis_url: str, redis_key_prefix: str, tmp_path: Path) -> dict[str, str]:
    """Variables for an isolated configuration: fresh database, own Redis key prefix."""
    return base_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=redis_key_prefix,
        DATA_DIR=str(tmp_path / "data"),
    )


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.build(settings)
    yield rt
    rt.close()


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    yield application
    application.extensions["commit_digest"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def deliver(
    client: FlaskClient,
    body: bytes,
    *,
    event: str = "push",
    delivery: str | None = None,
    secret: str = SECRET,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Any:
    """POST ``body`` to the webhook the way GitHub does, signed with ``secret``."""
    sent = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": content_type,
        "User-Agent": "GitHub-Hookshot/test",
    }
    sent.update(headers or {})
    return client.post(
        "/webhooks/github", data=body, headers={k: v for k, v in sent.items() if v is not None}
    )


# --- a running stack with a real Celery worker ---------------------------------------------------

GITHUB_TOKEN = "ghp_" + "T" * 36  # the stand-in's token for the worker


@pytest.fixture(scope="session")
def github_api() -> Iterator[Any]:
    """A stand-in GitHub REST API on 127.0.0.1 that the real PyGithub talks to."""
    from support.github_api import GitHubApiStandIn

    with GitHubApiStandIn(tokens={GITHUB_TOKEN: "commit-digest-bot"}) as server:
        yield server


@pytest.fixture(scope="session")
def llm_api() -> Iterator[Any]:
    """A stand-in OpenAI-compatible server on 127.0.0.1 that the real openai SDK talks to."""
    from support.llm_api import LLMStandIn

    with LLMStandIn() as server:
        yield server


@pytest.fixture(scope="session")
def live_smtp() -> Iterator[Any]:
    """The mail relay of the live stack (a real aiosmtpd server)."""
    from support.smtp import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,
    github_api: Any,
    llm_api: Any,
    live_smtp: Any,
) -> Iterator[Any]:
    """A real Celery worker consuming from real Redis, over a database shared with the test,
    talking to the stand-in GitHub and LLM servers.

    Tests share it for the session, so each one works on repositories of its own
    (``unique_repo``) instead of expecting an empty database.
    """
    from support.stack import LiveStack

    workdir = tmp_path_factory.mktemp(f"live-{request.param}")
    schema = None
    if request.param == "sqlite":
        database_url = f"sqlite:///{workdir / 'commit-digest.db'}"
    else:
        admin = request.getfixturevalue("postgres_admin_url")
        schema = f"cdlive_{uuid.uuid4().hex[:10]}"
        database_url = postgres_schema_url(admin, schema)
    upgrade(database_url)
    prefix = f"cdlive-{uuid.uuid4().hex[:12]}:"
    stack = LiveStack(
        env=base_env(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            REDIS_KEY_PREFIX=prefix,
            DATA_DIR=str(workdir / "data"),
            TRACKED_BRANCHES="main,master,release/*",
            GITHUB_API_URL=github_api.url,
            GITHUB_TOKEN=GITHUB_TOKEN,
            OPENAI_BASE_URL=llm_api.url,
            OPENAI_API_KEY="sk-test-key",
            OPENAI_MODEL="gpt-4o-mini",
            LLM_TIMEOUT="5",
            LLM_RETRIES="2",
            RETRY_BACKOFF="0.5",
            SMTP_URL=live_smtp.url,
            MAIL_FROM="digest@example.com",
            REPORT_RECIPIENTS="team@example.com,lead@example.com",
            REPORT_MAX_WAIT="20",
            REPORT_TIMEZONE="Asia/Shanghai",
            ACCESS_TOKEN="test-access-token",
        ),
        workdir=workdir,
        github=github_api,
        llm=llm_api,
        smtp=live_smtp,
    )
    stack.start_worker()
    yield stack
    stack.stop()
    forget_redis_prefix(redis_url, prefix)
    if schema is not None:
        drop_postgres_schema(request.getfixturevalue("postgres_admin_url"), schema)


@pytest.fixture
def unique_repo(live: Any) -> Iterator[str]:
    """A repository name no other test uses (known to the stand-in GitHub), and clean stand-ins."""
    name = f"acme/app-{uuid.uuid4().hex[:10]}"
    live.github.add_repo(name, default_branch="main")
    live.github.clear_faults()
    live.llm.reset()
    yield name
    live.github.clear_faults()
    live.llm.reset()


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """A real SMTP server on 127.0.0.1 receiving the report emails."""
    from support.smtp import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def client_with(env: dict[str, str]) -> Iterator[Any]:
    """Build a test client whose configuration overrides some variables of ``env``."""
    apps: list[Flask] = []

    def build(**overrides: str) -> FlaskClient:
        application = create_app(load_settings({**env, **overrides}))
        apps.append(application)
        return application.test_client()

    yield build
    for application in apps:
        application.extensions["commit_digest"].close()
