"""Settings in the repository: what a writer may set, what stays the operator's, how layers merge."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from commit_digest.repo_settings import (
    SCHEMA_PATH,
    InstallationConfig,
    RepoSettingsError,
    json_schema_text,
    parse_installation_config,
    parse_repo_settings,
    resolve,
)

FULL_FILE = """
branches = ["main", "release/*"]
language = "en"
team = "payments"
rubric_notes = "Anything that moves money is high."
recipients = ["lead@example.com"]

[comments]
enabled = true
min_importance = "medium"

[ignore]
paths = ["secrets/**", "customers/*.csv"]

[[paths]]
glob = "docs/**"
importance_cap = "low"
note = "Documentation only."

[[paths]]
glob = "billing/**"
importance_floor = "high"
note = "Billing code: check rounding."

[alerts]
min_importance = "high"
"""

INSTALLATION = """
allowed_recipient_domains = ["example.com"]

[defaults]
language = "zh-CN"
[defaults.ignore]
paths = ["**/*.pem"]

[[channels]]
name = "payments-feishu"
platform = "feishu"
url_env = "FEISHU_PAYMENTS_URL"
secret_env = "FEISHU_PAYMENTS_SECRET"

[[teams]]
name = "payments"
repositories = ["acme/billing"]
recipients = ["pay@example.com"]
channels = ["payments-feishu"]

[[teams]]
name = "platform"
repositories = ["acme/*"]

[people.octocat]
feishu = "ou_7d8a6e6df7621556ce0d21922b676706"
"""


def policy(repo_file: str | None, repository: str = "acme/shop") -> object:
    return resolve(
        repository,
        installation=parse_installation_config(INSTALLATION, source="CONFIG_FILE"),
        repo_file=parse_repo_settings(repo_file) if repo_file is not None else None,
        env_branches=(),
        env_language="zh-CN",
        env_comments=True,
    )


def test_a_full_repository_file_is_read() -> None:
    """Every key a repository may set is read and merged over the installation's defaults."""
    got = policy(FULL_FILE)
    assert got.branches == ("main", "release/*")
    assert got.language == "en"
    assert got.comment_min_importance == "medium"
    assert got.ignore_paths == ("secrets/**", "customers/*.csv", "**/*.pem")
    assert got.teams == ("platform", "payments")
    assert got.recipients == ("lead@example.com",)
    assert got.alert_min_importance == "high"
    assert got.sources == ("repository", "installation", "environment")
    assert got.is_ignored("secrets/prod/key.txt")
    assert got.is_ignored("deploy/tls.pem")
    assert not got.is_ignored("src/app.py")
    assert got.wants_comment("high")
    assert not got.wants_comment("low")


def test_path_rules_lift_and_cap_importance() -> None:
    """A floor lifts a commit touching its paths; a cap bounds one touching only its paths."""
    got = policy(FULL_FILE)
    assert got.adjust_importance("low", ["billing/invoice.py", "README.md"]) == "high"
    assert got.adjust_importance("high", ["docs/a.md", "docs/b/c.md"]) == "low"
    assert got.adjust_importance("high", ["docs/a.md", "src/x.py"]) == "high"
    assert got.notes_for(["billing/tax.py"]) == ("Billing code: check rounding.",)


def test_no_file_means_the_installation_and_the_environment() -> None:
    """A repository without a file gets the installation's defaults, then the environment's."""
    got = policy(None)
    assert got.language == "zh-CN"
    assert got.branches is None
    assert got.comments_enabled is True
    assert got.teams == ("platform",)
    assert (
        resolve(
            "x/y",
            installation=InstallationConfig(),
            repo_file=None,
            env_branches=("main",),
            env_language="en",
            env_comments=False,
        ).comments_enabled
        is False
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[llm]\nbase_url = "https://evil.example/v1"',
            "llm: cannot be set in a repository file (the LLM endpoint",
        ),
        ('openai_base_url = "https://evil.example/v1"', "openai_base_url: cannot be set"),
        ('model = "gpt-4o"', "model: cannot be set"),
        ('[smtp]\nurl = "smtp://evil.example:25"', "smtp: cannot be set"),
        (
            '[[channels]]\nname = "x"\nplatform = "slack"\nurl = "https://hooks.slack.com/x"',
            "channels: cannot be set",
        ),
        ('[comments]\ntoken = "ghp_x"', "comments.token: cannot be set"),
        ('recipients = ["spy@evil.example"]', "outside allowed_recipient_domains"),
    ],
)
def test_a_repository_file_cannot_send_code_or_reports_anywhere_new(
    text: str, message: str
) -> None:
    """The LLM endpoint, credentials, SMTP, channels and outside recipients are refused."""
    with pytest.raises(RepoSettingsError, match="^.*" + message.replace("(", r"\(")):
        policy(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("language = 'fr'", ".commit-digest.toml: language: Input should be 'zh-CN' or 'en'"),
        ("[comments]\nmin_importance = 'huge'", "comments.min_importance: Input should be"),
        (
            "[[paths]]\nglob = 'a/**'\nimportance_floor = 'high'\nimportance_cap = 'low'",
            "paths[0].importance_cap: Value error, is below importance_floor",
        ),
        ("colour = 'blue'", "colour: is not a setting"),
        ("branches = [", "not valid TOML"),
        ("team = 'nobody'", "team: 'nobody' is not a team of this installation"),
    ],
)
def test_bad_files_say_what_and_where_in_one_line(text: str, message: str) -> None:
    """Each problem is one line naming the key."""
    with pytest.raises(RepoSettingsError) as error:
        policy(text)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_the_shipped_schema_is_the_models_schema() -> None:
    """The JSON Schema for editors is generated from the models and shipped as it is."""
    assert SCHEMA_PATH.read_text() == json_schema_text()
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["additionalProperties"] is False
    assert "llm" not in schema["properties"]


def test_config_check_validates_offline(tmp_path: Path) -> None:
    """`commit-digest config check PATH` says valid, or one line and exit 1, with no service."""
    good, bad, installation = tmp_path / "good.toml", tmp_path / "bad.toml", tmp_path / "site.toml"
    good.write_text(
        FULL_FILE.replace('team = "payments"\n', "").replace(
            'recipients = ["lead@example.com"]\n', ""
        )
    )
    bad.write_text('[llm]\nmodel = "x"\n')
    installation.write_text(INSTALLATION)
    command = [sys.executable, "-m", "commit_digest.cli", "config", "check"]
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://u:p@127.0.0.1:1/none"}
    ok = subprocess.run([*command, str(good)], capture_output=True, text=True, env=env, check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"{good}: a valid repository settings file"
    site = subprocess.run(
        [*command, str(installation)], capture_output=True, text=True, env=env, check=False
    )
    assert site.stdout.strip() == f"{installation}: a valid installation settings file"
    refused = subprocess.run(
        [*command, str(bad)], capture_output=True, text=True, env=env, check=False
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"Error: {bad}: llm: cannot be set in a repository file "
        "(the LLM endpoint, model and credentials are the operator's)"
    )


def test_the_settings_reference_is_generated_from_the_models() -> None:
    """docs/settings-file.md is what the models say, so the reference cannot drift."""
    from commit_digest.repo_settings import markdown_reference

    docs = Path(__file__).parents[2] / "docs" / "settings-file.md"
    assert docs.read_text() == markdown_reference()


def test_the_files_accept_exactly_the_languages_there_are_templates_for() -> None:
    """The settings files' language choice is the report's one list of languages."""
    from typing import get_args

    from commit_digest.repo_settings import Language
    from report.render import LANGUAGES

    assert get_args(Language) == LANGUAGES
