"""Docker packaging: compose.yaml, the Dockerfile and .env.example agree with the code."""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from dotenv import dotenv_values

from commit_digest.cli import main as cli_main
from commit_digest.config import load_settings
from commit_digest.queueing import QUEUES, TASK_ROUTES
from commit_digest.variables import VARIABLES, markdown_table
from webhook import create_app

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE_FILE = ROOT / "docker" / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"

EXPECTED_SERVICES = {"redis", "postgres", "migrate", "web", "worker", "beat", "mailpit"}
# Variables the containers are given that another program reads, not load_settings.
FOREIGN_VARIABLES = {"WEB_CONCURRENCY"}  # gunicorn: the number of web worker processes


# --- reading the files -------------------------------------------------------------------------


@functools.cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def app_services() -> dict[str, dict[str, Any]]:
    """The services that run commit-digest (those built from our Dockerfile)."""
    return {name: spec for name, spec in services().items() if "build" in spec}


def interpolate(value: str) -> str:
    """Resolve Compose's ``${NAME:-default}`` and ``$$`` as with nothing set in the shell."""

    def substitute(match: re.Match[str]) -> str:
        return "$" if match[0] == "$$" else match["default"] or ""

    pattern = r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    resolved = re.sub(pattern, substitute, value)
    assert "${" not in resolved, f"unsupported interpolation in {value!r}"
    return resolved


def env_files(spec: Mapping[str, Any]) -> list[tuple[Path, bool]]:
    """The service's env files (path, required), in the order Compose reads them."""
    entries = spec.get("env_file", [])
    entries = [entries] if isinstance(entries, str | dict) else entries
    files = []
    for entry in entries:
        path, required = (
            (entry, True)
            if isinstance(entry, str)
            else (entry["path"], entry.get("required", True))
        )
        files.append((COMPOSE_FILE.parent / path, required))
    return files


def container_environment(spec: Mapping[str, Any]) -> dict[str, str]:
    """What a container of ``spec`` gets: its env files, then ``environment`` (which wins).

    The optional env file is the operator's own .env, left out: a developer's .env must not
    change what these tests see.
    """
    environment: dict[str, str] = {}
    for path, required in env_files(spec):
        if required:
            assert path.is_file(), f"{path} is a required env_file but does not exist"
            environment.update({k: v or "" for k, v in dotenv_values(path).items()})
    listed = spec.get("environment", {})
    if isinstance(listed, list):
        listed = dict(item.split("=", 1) for item in listed)
    environment.update({k: interpolate(str(v)) for k, v in listed.items()})
    return environment


def stack_environment() -> dict[str, str]:
    """The environment compose gives the web container when the repository has no .env."""
    return container_environment(app_services()["web"])


def command_of(spec: Mapping[str, Any]) -> list[str]:
    """The argv of a service, unwrapping the ``sh -c "exec …"`` form."""
    command = spec["command"]
    argv = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
    if argv[:2] == ["sh", "-c"]:
        argv = shlex.split(argv[2].replace("$$", "$"))
        assert argv[0] == "exec", "a shell command must exec the process (signals reach it)"
        argv = argv[1:]
    return argv


def option(argv: list[str], name: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg == name:
            return argv[index + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return None


@functools.cache
def known_variables() -> frozenset[str]:
    """Every variable ``load_settings`` reads: the names passed to ``env.<accessor>(…)``."""
    source = (ROOT / "commit_digest" / "config.py").read_text()
    names = frozenset(re.findall(r"\benv\.[a-z_]+\(\s*\"([A-Z][A-Z0-9_]*)\"", source))
    assert {"DATABASE_URL", "REDIS_URL", "GITHUB_WEBHOOK_SECRET", "SMTP_URL"} <= names, names
    return names


def test_every_variable_read_is_registered_once() -> None:
    """load_settings reads exactly the variables of the one table (commit_digest/variables.py)."""
    registered = [variable.name for variable in VARIABLES]
    assert len(registered) == len(set(registered))
    assert set(registered) == set(known_variables())


def readme_variables() -> set[str]:
    """The variables of the README's configuration table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    assert len(names) > 20, names
    return names


def env_example_variables() -> set[str]:
    """Every variable .env.example sets or shows commented out."""
    return {
        match[1]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if (match := re.match(r"^#?\s?([A-Z][A-Z0-9_]*)=", line))
    }


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, (INSTRUCTION, arguments), grouped by stage."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[list[tuple[str, str]]] = [[]]
    for line in logical:
        instruction, _, arguments = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def dockerignore_excludes(path: str) -> bool:
    """Whether the root .dockerignore leaves ``path`` out of the build context."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = path.split("/")
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*")
        if any(re.fullmatch(regex, "/".join(parts[:i])) for i in range(1, len(parts) + 1)):
            excluded = not negated
    return excluded


# --- the services ------------------------------------------------------------------------------


def test_every_service_is_defined() -> None:
    """Redis, PostgreSQL, the migration, web, worker, beat and Mailpit are all in the stack."""
    assert set(services()) >= EXPECTED_SERVICES
    assert set(app_services()) == {"migrate", "web", "worker", "beat"}


def test_app_services_build_the_one_image_from_the_dockerfile() -> None:
    """Every commit-digest service builds docker/Dockerfile from the repository root."""
    images = set()
    for name, spec in app_services().items():
        build = spec["build"]
        context = (COMPOSE_FILE.parent / build["context"]).resolve()
        assert context == ROOT, name
        assert (context / build["dockerfile"]).resolve() == DOCKERFILE, name
        images.add(spec["image"])
    assert len(images) == 1
    assert DOCKERFILE.is_file()


def test_start_order_waits_for_healthy_dependencies() -> None:
    """The migration waits for PostgreSQL, and web and workers wait for the migration and Redis."""
    depends = {name: spec.get("depends_on", {}) for name, spec in services().items()}
    assert depends["migrate"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        assert depends[name]["migrate"]["condition"] == "service_completed_successfully"
        assert depends[name]["redis"]["condition"] == "service_healthy"
    assert services()["migrate"]["restart"] == "no"
    for name in ("redis", "postgres", "web"):
        assert services()[name]["healthcheck"]["test"], name


def test_redis_keeps_queued_tasks() -> None:
    """Redis persists its data (appendonly) and never evicts queued tasks (noeviction)."""
    redis = services()["redis"]
    argv = command_of(redis)
    assert redis["image"].startswith("redis:7")
    assert option(argv, "--appendonly") == "yes"
    assert option(argv, "--maxmemory-policy") == "noeviction"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_exactly_one_beat_and_scalable_workers() -> None:
    """One service runs beat; the worker can be scaled: no fixed name, port or embedded beat."""
    beats = [name for name, spec in app_services().items() if "beat" in command_of(spec)]
    assert beats == ["beat"]
    assert services()["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert option(command_of(services()["beat"]), "--schedule") == "/data/celerybeat-schedule"
    worker = services()["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    argv = command_of(worker)
    assert "-B" not in argv
    assert "--beat" not in argv


# --- the commands name real things -------------------------------------------------------------


def test_worker_consumes_every_queue_and_only_real_ones() -> None:
    """The worker's --queues are exactly the queues the Celery app routes tasks to."""
    argv = command_of(services()["worker"])
    assert argv[:4] == ["celery", "-A", "workers", "worker"]
    queues = set((option(argv, "--queues") or option(argv, "-Q") or "").split(","))
    assert queues == set(QUEUES)
    assert {route["queue"] for route in TASK_ROUTES.values()} <= queues
    assert option(argv, "--concurrency") == "${WORKER_CONCURRENCY:-4}"


def test_celery_app_of_the_commands_has_the_tasks(tmp_path: Path) -> None:
    """`celery -A workers` finds an app that registers every routed and scheduled task."""
    script = (
        "import json\n"
        "from celery.app.utils import find_app\n"
        "app = find_app('workers')\n"
        "app.loader.import_default_modules()\n"
        "print(json.dumps({'tasks': sorted(app.tasks),"
        " 'beat': sorted(e['task'] for e in app.conf.beat_schedule.values()),"
        " 'queues': sorted(q.name for q in app.conf.task_queues)}))\n"
    )
    for name in ("worker", "beat"):
        assert command_of(services()[name])[:3] == ["celery", "-A", "workers"]
    env = {
        **stack_environment(),
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,  # no .env from the checkout
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    app = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(TASK_ROUTES) <= set(app["tasks"])
    assert set(app["beat"]) <= set(app["tasks"])
    assert app["queues"] == sorted(QUEUES)


def test_web_command_names_the_app_factory_and_the_config() -> None:
    """gunicorn is given webhook:create_app() and python:webhook.gunicorn_conf, on port 8000."""
    argv = command_of(services()["web"])
    assert argv[0] == "gunicorn"
    assert option(argv, "--bind") == "0.0.0.0:8000"
    config = option(argv, "--config") or ""
    assert config.startswith("python:")
    importlib.import_module(config.removeprefix("python:"))
    module_name, _, call = argv[-1].partition(":")
    assert call.endswith("()")
    factory = getattr(importlib.import_module(module_name), call.removesuffix("()"))
    inspect.signature(factory).bind()  # gunicorn calls it without arguments
    assert services()["web"]["ports"] == ["8000:8000"]


def test_web_healthcheck_asks_a_real_route(tmp_path: Path) -> None:
    """The web healthcheck is valid Python that asks the app's /healthz or /readyz on :8000."""
    test = services()["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    ast.parse(test[3])
    url = re.search(r"http://127\.0\.0\.1:8000(/\w+)", test[3])
    assert url is not None
    assert url[1] in ("/healthz", "/readyz")
    app = create_app(
        {
            "GITHUB_WEBHOOK_SECRET": "s",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        }
    )
    try:
        assert url[1] in {rule.rule for rule in app.url_map.iter_rules()}
    finally:
        app.extensions["commit_digest"].close()


def test_commit_digest_commands_exist() -> None:
    """Every `commit-digest …` command of the stack is a subcommand of the console script."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["commit-digest"] == "commit_digest.cli:main"
    commands = [command_of(spec) for spec in app_services().values()]
    commands = [argv for argv in commands if argv[0] == "commit-digest"]
    assert ["commit-digest", "db", "upgrade"] in commands
    for argv in commands:
        command: click.Command = cli_main
        for word in argv[1:]:
            if word.startswith("-") or not isinstance(command, click.Group):
                break
            found = command.commands.get(word)
            assert found is not None, f"{' '.join(argv)}: no subcommand {word!r}"
            command = found
        assert not isinstance(command, click.Group), f"{' '.join(argv)} names a group"


# --- the environment ---------------------------------------------------------------------------


def test_compose_sets_only_variables_load_settings_reads() -> None:
    """Every variable compose gives a commit-digest container is one load_settings reads."""
    for name, spec in app_services().items():
        given = set(container_environment(spec))
        unknown = given - known_variables() - FOREIGN_VARIABLES
        assert not unknown, f"{name}: {sorted(unknown)}"
    common = compose()["x-common"]["environment"]
    assert {"DATABASE_URL", "REDIS_URL", "DATA_DIR"} <= set(common)


def test_compose_environment_validates() -> None:
    """The stack's environment passes load_settings and points at its own services."""
    settings = load_settings(stack_environment())
    assert settings.database_url == (
        "postgresql+psycopg://commit_digest:commit_digest@postgres:5432/commit_digest"
    )
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.data_dir == Path("/data")
    assert settings.smtp is not None
    assert (settings.smtp.host, settings.smtp.port) == ("mailpit", 1025)
    postgres = services()["postgres"]["environment"]
    user, password, database = (
        interpolate(postgres[key]) for key in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")
    )
    assert settings.database_url.startswith(f"postgresql+psycopg://{user}:{password}@")
    assert settings.database_url.endswith(f"/{database}")


def test_copied_env_example_keeps_the_stack_valid() -> None:
    """`cp .env.example .env` yields a configuration compose's containers accept."""
    example = {k: v or "" for k, v in dotenv_values(ENV_EXAMPLE).items()}
    load_settings({**stack_environment(), **example, **compose()["x-common"]["environment"]})
    assert not set(example) & {"SMTP_URL", "REPORT_RECIPIENTS", "DATABASE_URL", "REDIS_URL"}


def test_env_example_names_only_variables_load_settings_reads() -> None:
    """Every variable in .env.example is read by load_settings (or is gunicorn's own)."""
    unknown = env_example_variables() - known_variables() - FOREIGN_VARIABLES
    assert not unknown


def test_env_example_lists_every_readme_variable() -> None:
    """Every variable of the README's configuration table has an entry in .env.example."""
    missing = readme_variables() - env_example_variables()
    assert not missing


def test_readme_table_matches_load_settings() -> None:
    """The README's configuration table lists exactly the variables load_settings reads."""
    assert readme_variables() == set(known_variables())


def test_readme_table_is_the_generated_one() -> None:
    """The README's table is what `commit-digest config table` prints from the one table."""
    assert markdown_table() in (ROOT / "README.md").read_text()


# --- the image ---------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    """Wheels are built in one stage and installed in a slim runtime that runs as a non-root user."""
    stages = [stage for stage in dockerfile_stages() if stage and stage[0][0] == "FROM"]
    assert len(stages) >= 2
    for stage in stages:
        assert re.fullmatch(
            r"python:(\$\{PYTHON_VERSION\}|3\.1[1-9])-slim( AS \w+)?", stage[0][1]
        ), stage[0]
    runtime = stages[-1]
    users = [arguments for instruction, arguments in runtime if instruction == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    env = " ".join(arguments for instruction, arguments in runtime if instruction == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "PYTHONUNBUFFERED=1" in env
    runs = " ".join(
        arguments for stage in stages for instruction, arguments in stage if instruction == "RUN"
    )
    assert "[dev]" not in runs
    assert "pip wheel" in runs
    assert "--no-index" in runs


def test_dockerfile_default_command_is_the_web_command() -> None:
    """The image's CMD is the web service's command: one image, web by default."""
    cmd = [arguments for instruction, arguments in dockerfile_stages()[-1] if instruction == "CMD"]
    assert json.loads(cmd[-1]) == command_of(services()["web"])


def test_build_context_sends_the_sources_and_no_secrets() -> None:
    """The root .dockerignore keeps what the Dockerfile copies and leaves out .env, var/ and .venv."""
    copied = [
        path
        for stage in dockerfile_stages()
        for instruction, arguments in stage
        if instruction == "COPY" and "--from" not in arguments
        for path in arguments.split()[:-1]
    ]
    assert {"pyproject.toml", "README.md", "commit_digest", "webhook", "workers", "report"} <= set(
        copied
    )
    for path in copied:
        assert not dockerignore_excludes(f"{path}/__init__.py" if "." not in path else path), path
    for path in (".env", "var/commit-digest.db", ".venv/bin/python", "tests/conftest.py"):
        assert dockerignore_excludes(path), path
    assert dockerignore_excludes("workers/__pycache__/config.cpython-311.pyc")


# --- Docker Compose itself ---------------------------------------------------------------------


def compose_v2() -> list[str] | None:
    """A Docker Compose v2 command line (the docker plugin or a standalone binary), if any."""
    candidates: list[list[str]] = []
    if docker := shutil.which("docker"):
        candidates.append([docker, "compose"])
    for standalone in (
        shutil.which("docker-compose"),
        Path(sys.executable).with_name("docker-compose"),
    ):
        if standalone and Path(standalone).is_file():
            candidates.append([str(standalone)])
    for candidate in candidates:
        try:
            version = subprocess.run(
                [*candidate, "version", "--short"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if version.returncode == 0 and version.stdout.strip().lstrip("v").startswith("2."):
            return candidate
    return None


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    """`docker compose config` (which needs no Docker engine) accepts compose.yaml as written."""
    command = compose_v2()
    if command is None:
        pytest.skip(
            "Docker Compose v2 is not installed (no `docker compose` plugin and no v2 "
            "docker-compose binary): compose.yaml was checked by parsing it only"
        )
    empty = tmp_path / "empty.env"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env.pop("POSTGRES_PASSWORD", None)
    result = subprocess.run(
        # an empty --env-file: a developer's docker/.env must not change the interpolation
        [*command, "-f", str(COMPOSE_FILE), "--env-file", str(empty), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    # stdout too: some packaged docker-compose wrappers exit 0 whatever the binary said
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), result.stderr
    resolved = json.loads(result.stdout)
    assert set(resolved["services"]) >= EXPECTED_SERVICES
    expected = stack_environment()
    for name in app_services():
        environment = resolved["services"][name]["environment"]
        for key in ("DATABASE_URL", "REDIS_URL", "DATA_DIR"):
            assert environment[key] == expected[key], (name, key)
