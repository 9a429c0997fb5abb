"""Passwords in URLs never reach what we print, and SMTP never logs in over plaintext."""

from __future__ import annotations

import subprocess
import sys

import pytest

from commit_digest.config import load_settings
from commit_digest.errors import ConfigError
from commit_digest.masking import mask_text, mask_url

PASSWORD = "hunter2-Very-Secret"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            f"postgresql+psycopg://app:{PASSWORD}@db:5432/digest",
            "postgresql+psycopg://app:***@db:5432/digest",
        ),
        (f"redis://:{PASSWORD}@cache:6379/0", "redis://:***@cache:6379/0"),
        (
            f"smtp://mailer:{PASSWORD}@relay:587?starttls=true",
            "smtp://mailer:***@relay:587?starttls=true",
        ),
        (f"https://hooks.example/x?token={PASSWORD}&a=1", "https://hooks.example/x?token=***&a=1"),
        ("sqlite:///var/commit-digest.db", "sqlite:///var/commit-digest.db"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
    ],
)
def test_urls_are_shown_without_their_secrets(url: str, shown: str) -> None:
    """The password of user:password@ and secret query values become ***."""
    assert mask_url(url) == shown
    assert PASSWORD not in mask_text(f"could not reach {url}: refused")


def test_a_bad_url_is_named_without_its_password() -> None:
    """A configuration error quoting REDIS_URL hides the password (it was shown in full)."""
    with pytest.raises(ConfigError) as error:
        load_settings(
            {"GITHUB_WEBHOOK_SECRET": "s", "REDIS_URL": f"redis://:{PASSWORD}@cache:notaport/0"}
        )
    assert PASSWORD not in str(error.value)
    assert "REDIS_URL" in str(error.value)


def test_the_command_line_error_hides_the_password() -> None:
    """`commit-digest db upgrade` with a bad REDIS_URL: one line, no password, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "commit_digest.cli", "db", "upgrade"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "REDIS_URL": f"redis://u:{PASSWORD}@cache:99999/0"},
        check=False,
    )
    assert result.returncode != 0
    assert PASSWORD not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (f"smtp://mailer:{PASSWORD}@relay:25", False),
        (f"smtp://mailer:{PASSWORD}@relay:2525?starttls=false", False),
        (f"smtp://mailer:{PASSWORD}@relay:25?starttls=true", True),
        (f"smtp://mailer:{PASSWORD}@relay:587", True),  # STARTTLS by default on 587
        (f"smtps://mailer:{PASSWORD}@relay:465", True),
        (f"smtp://mailer:{PASSWORD}@localhost:25?insecure_auth=true", True),
        ("smtp://relay:25", True),  # no credentials, nothing to protect
    ],
)
def test_smtp_credentials_need_tls_unless_the_operator_opts_out(url: str, allowed: bool) -> None:
    """AUTH over plaintext is refused at start-up with one line saying what to do."""
    values = {"GITHUB_WEBHOOK_SECRET": "s", "SMTP_URL": url, "REPORT_RECIPIENTS": "a@example.com"}
    if allowed:
        assert load_settings(values).smtp is not None
        return
    with pytest.raises(ConfigError, match="would send its password unencrypted") as error:
        load_settings(values)
    assert PASSWORD not in str(error.value)
