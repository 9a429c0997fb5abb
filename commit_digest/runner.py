"""``commit-digest run``: web, worker and beat as one process group, on embedded defaults."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import click

from commit_digest.config import Settings, load_settings
from commit_digest.db import upgrade
from commit_digest.embedded_redis import EmbeddedRedis
from commit_digest.errors import ConfigError
from commit_digest.masking import mask_url
from commit_digest.sample import write_sample


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def _persistent_secrets(data_dir: Path) -> dict[str, str]:
    """Generated secrets, kept under DATA_DIR so a restart prints (and accepts) the same ones."""
    path = data_dir / "generated-secrets.json"
    values: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
    changed = False
    for name in ("GITHUB_WEBHOOK_SECRET", "ACCESS_TOKEN"):
        if name not in values:
            values[name] = secrets.token_urlsafe(24)
            changed = True
    if changed:
        path.write_text(json.dumps(values, indent=2))
        path.chmod(0o600)
    return values


def _check_port_free(host: str, port: int) -> None:
    """Say which variable to change when the web port is taken, before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigError(
                "PORT",
                f"{host}:{port} is not free ({error.strerror}); set PORT (or HOST) to another",
            ) from None


def run(settings: Settings, *, workers: int | None = None) -> int:
    _check_port_free(settings.host, settings.port)  # before anything is started
    data_dir = settings.data_dir.resolve()
    # everything this process and its children create (database, broker files, outbox,
    # secrets, the beat schedule) is for this user alone
    os.umask(0o077)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    env = dict(os.environ)
    env["DATA_DIR"] = str(data_dir)
    env["DATABASE_URL"] = settings.database_url
    generated = _persistent_secrets(data_dir)
    secret = (
        settings.webhook_secrets[0]
        if settings.webhook_secrets
        else generated["GITHUB_WEBHOOK_SECRET"]
    )
    access_token = settings.access_token or generated["ACCESS_TOKEN"]
    env.setdefault("GITHUB_WEBHOOK_SECRET", secret)
    env.setdefault("ACCESS_TOKEN", access_token)

    redis_server: EmbeddedRedis | None = None
    if settings.redis_url is None:
        redis_server = EmbeddedRedis(data_dir / "redis").start()
        env["REDIS_URL"] = redis_server.url
    load_settings(env)  # the children's view of the configuration must be valid too

    upgrade(settings.database_url)
    python = sys.executable
    address = f"{settings.host}:{settings.port}"
    children = [
        Child(
            "web",
            _spawn(
                [
                    python,
                    "-m",
                    "gunicorn",
                    "--bind",
                    address,
                    "--workers",
                    "2",
                    "--config",
                    "python:webhook.gunicorn_conf",
                    "webhook:create_app()",
                ],
                env,
            ),
        ),
        Child(
            "worker",
            _spawn(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "workers",
                    "worker",
                    "--queues",
                    "intake,analysis,comments,reports",
                    "--concurrency",
                    str(workers or settings.worker_concurrency),
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel",
                    settings.log_level,
                ],
                env,
            ),
        ),
        Child(
            "beat",
            _spawn(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "workers",
                    "beat",
                    "--schedule",
                    str(data_dir / "celerybeat-schedule"),
                    "--loglevel",
                    settings.log_level,
                ],
                env,
            ),
        ),
    ]
    base = f"http://{address}"
    analyzer = f"LLM {settings.openai_model}" if settings.use_llm else "heuristic (no LLM set)"
    curl = write_sample(data_dir, secret, f"{base}/webhooks/github")
    click.echo(
        "\n".join(
            [
                "",
                "commit-digest is running (Ctrl-C stops everything).",
                f"  webhook URL     {base}/webhooks/github  (content type application/json)",
                f"  webhook secret  {secret}",
                f"  reports         {base}/reports?token={access_token}",
                f"  database        {mask_url(settings.database_url)}",
                f"  broker          {mask_url(env['REDIS_URL'])}"
                f"{'  (embedded)' if redis_server else ''}",
                f"  analyzer        {analyzer}",
                "",
                "Send a sample signed push:",
                f"  {curl}",
                "",
            ]
        ),
        err=True,
    )
    return _supervise(children, redis_server)


def _spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # own process group: Ctrl-C reaches us once and we stop the children in order
    return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, start_new_session=True)  # noqa: S603


def _supervise(children: list[Child], redis_server: EmbeddedRedis | None) -> int:
    stopping = False

    def _stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    status = 0
    try:
        while not stopping:
            for child in children:
                code = child.process.poll()
                if code is not None:
                    click.echo(
                        f"commit-digest: {child.name} exited with status {code}; stopping",
                        err=True,
                    )
                    status = code or 1
                    stopping = True
                    break
            time.sleep(0.2)
    finally:
        click.echo("commit-digest: stopping…", err=True)
        for child in children:
            if child.process.poll() is None:
                os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
        if redis_server is not None:
            redis_server.stop()
    return status
