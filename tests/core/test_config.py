"""Configuration: defaults, parsing, and one clear error per bad variable."""

from __future__ import annotations

import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from commit_digest.config import load_settings
from commit_digest.errors import ConfigError


def test_defaults() -> None:
    """With nothing set, the embedded defaults of SPEC §3 apply."""
    settings = load_settings({})
    assert settings.database_url == "sqlite:///var/commit-digest.db"
    assert settings.report_timezone.key == "UTC"
    assert settings.report_time == time(0, 10)
    assert settings.report_language == "zh-CN"
    assert settings.analyzer == "auto"
    assert settings.llm_input_token_budget + settings.llm_max_output_tokens < 4096
    assert settings.llm_prompt_version == "v3"
    assert settings.github_api_url == "https://api.github.com"
    assert settings.github_web_url == "https://github.com"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.commit_comments is False  # no GitHub credentials
    assert settings.use_llm is False
    assert settings.smtp is None
    assert settings.webhook_secrets == ()


def test_values_are_parsed() -> None:
    """Lists, URLs, zones and switches are read into typed values."""
    settings = load_settings(
        {
            "GITHUB_WEBHOOK_SECRET": "new, old",
            "GITHUB_TOKEN": "ghp_x",
            "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
            "TRACKED_BRANCHES": "main, release/*",
            "REPORT_TIMEZONE": "Asia/Shanghai",
            "REPORT_TIME": "7:30",
            "REPORT_LANGUAGE": "en",
            "SMTP_URL": "smtp://bot%40example.com:p%40ss@mail.example.com:587",
            "REPORT_RECIPIENTS": "a@example.com, b@example.com",
            "OPENAI_BASE_URL": "http://127.0.0.1:11434/v1",
            "LLM_PRICES": "local-model=0/0, gpt-4o-mini=0.2/0.8",
        }
    )
    assert settings.webhook_secrets == ("new", "old")
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.github_web_url == "https://ghe.example.com"
    assert settings.tracked_branches == ("main", "release/*")
    assert settings.report_timezone.key == "Asia/Shanghai"
    assert settings.report_time == time(7, 30)
    assert settings.commit_comments is True  # credentials present
    assert settings.use_llm is True
    assert settings.smtp is not None
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.starttls) == (
        "mail.example.com",
        587,
        True,
    )
    assert (settings.smtp.username, settings.smtp.password) == ("bot@example.com", "p@ss")
    assert settings.report_recipients == ("a@example.com", "b@example.com")
    assert settings.price_of("gpt-4o-mini-2024-07-18") == (0.2, 0.8)
    assert settings.price_of("local-model") == (0.0, 0.0)
    assert settings.price_of("unknown") is None


def test_tracked_branches() -> None:
    """Globs select branches; without them only the repository's default branch is tracked."""
    assert load_settings({}).branch_is_tracked("main", "main")
    assert not load_settings({}).branch_is_tracked("feature/x", "main")
    globs = load_settings({"TRACKED_BRANCHES": "main,release/*"})
    assert globs.branch_is_tracked("release/1.2", "main")
    assert not globs.branch_is_tracked("develop", "develop")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://localhost/x"),
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "http://localhost:6379"),
        ("REDIS_URL", "redis://localhost:notaport"),
        ("REPORT_TIMEZONE", "Mars/Olympus"),
        ("REPORT_TIME", "25:00"),
        ("REPORT_TIME", "noon"),
        ("REPORT_LANGUAGE", "fr"),
        ("ANALYZER", "magic"),
        ("LLM_INPUT_TOKEN_BUDGET", "lots"),
        ("LLM_INPUT_TOKEN_BUDGET", "10"),
        ("PORT", "70000"),
        ("COMMIT_COMMENTS", "maybe"),
        ("SMTP_URL", "http://mail.example.com"),
        ("REPORT_RECIPIENTS", "not-an-address"),
        ("OPENAI_BASE_URL", "ftp://x"),
        ("GITHUB_API_URL", "api.github.com"),
        ("LLM_PRICES", "gpt-4o=cheap"),
        ("GITHUB_APP_PRIVATE_KEY", "/no/such/key.pem"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str) -> None:
    """Each bad value raises ConfigError naming exactly that variable."""
    environ = {variable: value}
    if variable == "GITHUB_APP_PRIVATE_KEY":
        environ["GITHUB_APP_ID"] = "1"
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: ")


def test_analyzer_llm_needs_an_endpoint() -> None:
    """ANALYZER=llm without OPENAI_API_KEY or OPENAI_BASE_URL is refused."""
    with pytest.raises(ConfigError, match="ANALYZER"):
        load_settings({"ANALYZER": "llm"})


def test_dotenv_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A .env file supplies values the environment does not set."""
    dotenv = tmp_path / ".env"
    dotenv.write_text("REPORT_LANGUAGE=en\nREPORT_TIMEZONE=Europe/Berlin\n")
    monkeypatch.setenv("REPORT_TIMEZONE", "Asia/Tokyo")
    settings = load_settings(dotenv_path=dotenv)
    assert (settings.report_language, settings.report_timezone.key) == ("en", "Asia/Tokyo")


def test_cli_reports_bad_configuration_in_one_line(tmp_path: Path) -> None:
    """The command prints one line naming the variable and exits non-zero, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "commit_digest.cli", "report"],
        env={
            "PATH": "/usr/bin:/bin",
            "REPORT_TIMEZONE": "Nowhere/Special",
            "PYTHONPATH": str(Path(__file__).parents[2]),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: configuration error: REPORT_TIMEZONE: 'Nowhere/Special' is not an IANA time zone"
    ]
