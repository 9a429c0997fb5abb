"""Settings from the environment (and a ``.env`` file), validated once at start-up.

``load_settings`` is the only place that reads configuration. Every bad value raises
``ConfigError`` naming the variable, so start-up fails with one line instead of a traceback.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from commit_digest.errors import ConfigError
from commit_digest.masking import mask_url
from commit_digest.variables import (
    DEFAULT_GITHUB_API_URL,
    PROMPT_VERSIONS,
    VARIABLE,
)
from report.render import LANGUAGES

ANALYZERS = ("auto", "llm", "heuristic")

# USD per million tokens (input, output); LLM_PRICES adds to or overrides these.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}

_EMAIL = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+$")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand the report email to a mail relay."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None = field(repr=False)
    timeout: float
    insecure_auth: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything commit-digest can be configured with (SPEC §3)."""

    webhook_secrets: tuple[str, ...] = field(repr=False)
    github_token: str | None = field(repr=False)
    github_app_id: int | None
    github_app_private_key: str | None = field(repr=False)
    github_api_url: str
    openai_api_key: str | None = field(repr=False)
    openai_base_url: str | None
    openai_model: str
    analyzer: str
    llm_input_token_budget: int
    llm_max_output_tokens: int
    llm_timeout: float
    # the prompt templates used (commit_digest/analysis/prompt_templates/<version>)
    llm_prompt_version: str
    llm_prices: Mapping[str, tuple[float, float]]
    redis_url: str | None
    redis_key_prefix: str | None
    database_url: str
    data_dir: Path
    tracked_branches: tuple[str, ...]
    commit_comments: bool
    report_timezone: ZoneInfo
    report_time: time
    report_language: str
    smtp: SmtpSettings | None
    mail_from: str
    report_recipients: tuple[str, ...]
    host: str
    port: int
    access_token: str | None = field(repr=False)
    worker_concurrency: int
    sweep_interval: float
    llm_retries: int
    report_max_wait: float
    # recovery timings: how long until work a process took and never finished is taken over
    requeue_after: timedelta
    claim_lease: timedelta
    send_lease: timedelta
    retry_backoff: float
    log_level: str
    log_format: str
    # teams, channels, people and defaults for every repository (a TOML file of the operator's)
    config_file: Path | None = None
    allowed_recipient_domains: tuple[str, ...] = ()
    # where people reach the web pages (links in chat messages); none: messages carry no link
    public_url: str | None = None
    # the most LLM requests in flight for the whole installation (the adaptive limit's cap)
    llm_concurrency: int = 4
    # days a delivery's raw body is kept (for replay); commits and analyses are kept for good
    delivery_retention_days: int = 30
    # the report's per-author section (REPORT_PEOPLE)
    report_people: bool = True
    report_period: str = "daily"  # weekly

    @property
    def report_days(self) -> int:
        """Days one report covers: 1, or 7 for the weekly digest."""
        return 7 if self.report_period == "weekly" else 1

    @property
    def has_github_credentials(self) -> bool:
        return bool(self.github_token or (self.github_app_id and self.github_app_private_key))

    @property
    def github_web_url(self) -> str:
        """Where commits are viewed: github.com, or the Enterprise host of the API URL."""
        if self.github_api_url == DEFAULT_GITHUB_API_URL:
            return "https://github.com"
        return self.github_api_url.removesuffix("/api/v3").removesuffix("/api")

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def use_llm(self) -> bool:
        """Whether commits are analysed by the LLM (else by the heuristics)."""
        if self.analyzer == "heuristic":
            return False
        return self.llm_configured

    def branch_is_tracked(self, branch: str, default_branch: str | None) -> bool:
        """Whether pushes to ``branch`` are analysed (``TRACKED_BRANCHES`` globs, else default)."""
        if self.tracked_branches:
            return any(fnmatch.fnmatchcase(branch, glob) for glob in self.tracked_branches)
        return default_branch is not None and branch == default_branch

    def require_webhook_secret(self) -> None:
        """Refuse to serve the webhook without a secret to verify signatures with."""
        if not self.webhook_secrets:
            raise ConfigError(
                "GITHUB_WEBHOOK_SECRET",
                "is not set; the web process verifies every delivery with it "
                "(set the same secret as in the GitHub webhook settings)",
            )

    def price_of(self, model: str) -> tuple[float, float] | None:
        """USD per million (input, output) tokens for ``model``, longest known prefix first."""
        if model in self.llm_prices:
            return self.llm_prices[model]
        for name in sorted(self.llm_prices, key=len, reverse=True):
            if model.startswith(name):
                return self.llm_prices[name]
        return None


def read_environment(dotenv_path: str | Path | None = ".env") -> dict[str, str]:
    """The variables in force: ``.env`` (when there is one), overridden by the environment."""
    values: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ)
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, *, dotenv_path: str | Path | None = ".env"
) -> Settings:
    """Read and validate the configuration; ``environ`` defaults to ``os.environ`` + ``.env``."""
    env = _Env(read_environment(dotenv_path) if environ is None else environ)

    data_dir = Path(str(env.text("DATA_DIR"))).expanduser()
    database_url = env.text("DATABASE_URL") or f"sqlite:///{(data_dir / 'commit-digest.db')}"
    _check_database_url(database_url)

    github_app_id = env.integer("GITHUB_APP_ID", minimum=1)
    github_app_key = _read_private_key(env.text("GITHUB_APP_PRIVATE_KEY"))
    if (github_app_id is None) != (github_app_key is None):
        raise ConfigError(
            "GITHUB_APP_ID" if github_app_id is None else "GITHUB_APP_PRIVATE_KEY",
            "GitHub App auth needs both GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY",
        )
    github_token = env.text("GITHUB_TOKEN")
    has_credentials = bool(github_token or github_app_id)

    openai_api_key = env.text("OPENAI_API_KEY")
    openai_base_url = env.url("OPENAI_BASE_URL", schemes=("http", "https"))
    analyzer = env.choice("ANALYZER", ANALYZERS)
    if analyzer == "llm" and not (openai_api_key or openai_base_url):
        raise ConfigError(
            "ANALYZER", "is llm but neither OPENAI_API_KEY nor OPENAI_BASE_URL is set"
        )

    prices = dict(DEFAULT_PRICES)
    prices.update(_parse_prices(env.text("LLM_PRICES")))

    smtp = _parse_smtp_url(env.text("SMTP_URL"))
    recipients = tuple(env.items("REPORT_RECIPIENTS"))
    for address in recipients:
        if not _EMAIL.match(address):
            raise ConfigError("REPORT_RECIPIENTS", f"{address!r} is not an email address")
    mail_from = str(env.text("MAIL_FROM"))
    if not _EMAIL.match(mail_from.split("<")[-1].rstrip(">").strip()) or "\n" in mail_from:
        raise ConfigError("MAIL_FROM", f"{mail_from!r} is not an email address")
    if smtp is not None and not recipients:
        raise ConfigError("REPORT_RECIPIENTS", "is empty while SMTP_URL is set; list who gets it")

    secrets = tuple(env.items("GITHUB_WEBHOOK_SECRET"))
    return Settings(
        webhook_secrets=secrets,
        github_token=github_token,
        github_app_id=github_app_id,
        github_app_private_key=github_app_key,
        github_api_url=str(env.url("GITHUB_API_URL", schemes=("http", "https"))).rstrip("/"),
        openai_api_key=openai_api_key,
        openai_base_url=openai_base_url,
        openai_model=str(env.text("OPENAI_MODEL")),
        analyzer=analyzer,
        # The defaults fit a 4,096-token server (prompt + answer + chat framing): a larger
        # budget buys little judgement and breaks the small self-hosted models.
        llm_input_token_budget=_set(env.integer("LLM_INPUT_TOKEN_BUDGET", minimum=1000)),
        llm_max_output_tokens=_set(env.integer("LLM_MAX_OUTPUT_TOKENS", minimum=256)),
        llm_timeout=_set(env.number("LLM_TIMEOUT", minimum=1.0)),
        llm_prompt_version=env.choice("LLM_PROMPT_VERSION", PROMPT_VERSIONS),
        llm_prices=prices,
        redis_url=env.url("REDIS_URL", schemes=("redis", "rediss", "unix")),
        redis_key_prefix=env.text("REDIS_KEY_PREFIX"),
        database_url=database_url,
        data_dir=data_dir,
        tracked_branches=tuple(env.items("TRACKED_BRANCHES")),
        commit_comments=env.flag("COMMIT_COMMENTS", default=has_credentials),
        report_timezone=_zone(str(env.text("REPORT_TIMEZONE"))),
        report_time=_clock(str(env.text("REPORT_TIME"))),
        report_language=env.choice("REPORT_LANGUAGE", LANGUAGES),
        report_people=env.flag("REPORT_PEOPLE", default=True),
        report_period=env.choice("REPORT_PERIOD", ("daily", "weekly")),
        smtp=smtp,
        mail_from=mail_from,
        report_recipients=recipients,
        host=str(env.text("HOST")),
        port=_set(env.integer("PORT", minimum=1, maximum=65535)),
        access_token=_access_token(env.text("ACCESS_TOKEN")),
        worker_concurrency=_set(env.integer("WORKER_CONCURRENCY", minimum=1, maximum=512)),
        sweep_interval=_set(env.number("SWEEP_INTERVAL", minimum=1.0)),
        llm_retries=_set(env.integer("LLM_RETRIES", minimum=0, maximum=20)),
        report_max_wait=_set(env.number("REPORT_MAX_WAIT", minimum=0.0)),
        requeue_after=timedelta(seconds=_set(env.number("REQUEUE_AFTER", minimum=1.0))),
        claim_lease=timedelta(seconds=_set(env.number("ANALYSIS_LEASE", minimum=1.0))),
        send_lease=timedelta(seconds=_set(env.number("REPORT_SEND_LEASE", minimum=1.0))),
        retry_backoff=_set(env.number("RETRY_BACKOFF", minimum=0.5)),
        log_level=env.choice("LOG_LEVEL", ("debug", "info", "warning", "error"), fold=True),
        log_format=env.choice("LOG_FORMAT", ("auto", "json", "console")),
        config_file=Path(config_file) if (config_file := env.text("CONFIG_FILE")) else None,
        allowed_recipient_domains=tuple(
            domain.lower().lstrip("@") for domain in env.items("ALLOWED_RECIPIENT_DOMAINS")
        ),
        public_url=(env.url("PUBLIC_URL", schemes=("http", "https")) or "").rstrip("/") or None,
        llm_concurrency=_set(env.integer("LLM_CONCURRENCY", minimum=1, maximum=256)),
        delivery_retention_days=_set(env.integer("DELIVERY_RETENTION_DAYS", minimum=1)),
    )


class _Env:
    """Typed access to raw variables; every failure is a ``ConfigError`` for that variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, name: str) -> str | None:
        """The variable's value, else its registered default (None: unset, derived)."""
        value = self._environ.get(name, "").strip()
        return value or VARIABLE[name].default

    def items(self, name: str) -> list[str]:
        raw = self.text(name) or ""
        return [item.strip() for item in raw.split(",") if item.strip()]

    def integer(
        self, name: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(name, f"{raw!r} is not a whole number") from None
        if minimum is not None and value < minimum:
            raise ConfigError(name, f"{value} is below the minimum of {minimum}")
        if maximum is not None and value > maximum:
            raise ConfigError(name, f"{value} is above the maximum of {maximum}")
        return value

    def number(self, name: str, *, minimum: float) -> float | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(name, f"{raw!r} is not a number") from None
        if not value >= minimum:
            raise ConfigError(name, f"{raw} is below the minimum of {minimum}")
        return value

    def flag(self, name: str, *, default: bool) -> bool:
        raw = (self.text(name) or "").lower()
        if not raw:
            return default
        if raw in ("on", "true", "yes", "1"):
            return True
        if raw in ("off", "false", "no", "0"):
            return False
        raise ConfigError(name, f"{raw!r} is not on or off")

    def choice(self, name: str, choices: tuple[str, ...], *, fold: bool = False) -> str:
        raw = str(self.text(name))
        if fold:
            raw = raw.lower()
        if raw not in choices:
            raise ConfigError(name, f"{raw!r} is not one of {', '.join(choices)}")
        return raw

    def url(self, name: str, *, schemes: tuple[str, ...]) -> str | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            parts = urlsplit(raw)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise ConfigError(name, f"{mask_url(raw)!r} is not a URL") from None
        if parts.scheme not in schemes:
            raise ConfigError(name, f"the scheme must be one of {', '.join(schemes)}")
        if parts.scheme != "unix" and not parts.hostname:
            raise ConfigError(name, "has no host name")
        return raw


MIN_ACCESS_TOKEN = 16


def _access_token(raw: str | None) -> str | None:
    if raw is not None and len(raw) < MIN_ACCESS_TOKEN:
        raise ConfigError(
            "ACCESS_TOKEN",
            f"is {len(raw)} characters; use at least {MIN_ACCESS_TOKEN} "
            "(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')",
        )
    return raw


T = TypeVar("T")


def _set(value: T | None) -> T:
    """A value whose variable has a registered default, so it is never None."""
    assert value is not None
    return value


def _check_database_url(url: str) -> None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("DATABASE_URL", "is not an SQLAlchemy database URL") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError("DATABASE_URL", "must be a sqlite:// or postgresql:// URL")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("REPORT_TIMEZONE", f"{name!r} is not an IANA time zone") from None


def _clock(raw: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError("REPORT_TIME", f"{raw!r} is not a time of day like 00:10")
    return time(int(match[1]), int(match[2]))


def _read_private_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    if "-----BEGIN" in raw:
        return raw.replace("\\n", "\n")
    path = Path(raw).expanduser()
    if not path.is_file():
        raise ConfigError("GITHUB_APP_PRIVATE_KEY", "is neither a PEM key nor a readable file")
    text = path.read_text()
    if "-----BEGIN" not in text:
        raise ConfigError("GITHUB_APP_PRIVATE_KEY", f"{path} does not hold a PEM private key")
    return text


def _parse_prices(raw: str | None) -> dict[str, tuple[float, float]]:
    prices: dict[str, tuple[float, float]] = {}
    for entry in (raw or "").split(","):
        if not entry.strip():
            continue
        try:
            model, costs = entry.split("=", 1)
            cost_in, cost_out = (float(x) for x in costs.split("/", 1))
        except ValueError:
            raise ConfigError(
                "LLM_PRICES", f"{entry.strip()!r} is not MODEL=INPUT/OUTPUT (USD per 1M tokens)"
            ) from None
        prices[model.strip()] = (cost_in, cost_out)
    return prices


def _parse_smtp_url(raw: str | None) -> SmtpSettings | None:
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ConfigError("SMTP_URL", "is not a URL") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError("SMTP_URL", "must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ConfigError("SMTP_URL", "has no host name")
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    implicit_tls = parts.scheme == "smtps"
    starttls_raw = query.get("starttls", "true" if port == 587 else "false")
    if starttls_raw not in ("true", "false"):
        raise ConfigError("SMTP_URL", "starttls must be true or false")
    try:
        timeout = float(query.get("timeout", "30"))
    except ValueError:
        raise ConfigError("SMTP_URL", "timeout must be a number of seconds") from None
    insecure_auth = query.get("insecure_auth", "false")
    if insecure_auth not in ("true", "false"):
        raise ConfigError("SMTP_URL", "insecure_auth must be true or false")
    encrypted = implicit_tls or starttls_raw == "true"
    if parts.username and not encrypted and insecure_auth != "true":
        raise ConfigError(
            "SMTP_URL",
            "would send its password unencrypted: use smtps://…:465 or ?starttls=true, "
            "or add ?insecure_auth=true for a relay on this host or network",
        )
    return SmtpSettings(
        host=parts.hostname,
        port=port or (465 if implicit_tls else 25),
        implicit_tls=implicit_tls,
        starttls=starttls_raw == "true" and not implicit_tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
        insecure_auth=insecure_auth == "true",
    )
