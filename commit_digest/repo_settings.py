"""Settings in the repository (``.commit-digest.toml``) over the installation's, over the env.

A repository's writers may say how their repository is treated: tracked branches, language,
comments and the least importance worth one, paths never sent to the LLM, per-path importance
rules and reviewer notes, the team it belongs to, notes for the rubric, and recipients inside
the operator's allowed domains. They may **not** say where code or reports go: credentials,
the LLM endpoint or model, SMTP, chat channels and recipients outside
``allowed_recipient_domains`` are the operator's alone (``CONFIG_FILE`` or the environment).

Every problem comes out as one line naming the key (``paths[2].glob: …``); a file that does
not validate changes nothing (the last good settings stay in force).
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from commit_digest.errors import CommitDigestError

FILE_NAME = ".commit-digest.toml"
SCHEMA_PATH = Path(__file__).with_name("schemas") / "commit-digest.schema.json"
MAX_FILE_BYTES = 64 * 1024

Importance = Literal["high", "medium", "low"]
Language = Literal["zh-CN", "en"]
RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2}

# keys a repository file may never set, with the reason shown to its writer
FORBIDDEN_KEYS: dict[str, str] = {
    key: reason
    for keys, reason in (
        (
            (
                "llm",
                "openai",
                "openai_api_key",
                "openai_base_url",
                "openai_model",
                "model",
                "base_url",
                "api_key",
                "analyzer",
            ),
            "the LLM endpoint, model and credentials are the operator's",
        ),
        (
            ("smtp", "smtp_url", "mail_from", "email"),
            "the mail server and sender are the operator's",
        ),
        (
            (
                "channels",
                "webhooks",
                "chat",
                "slack",
                "teams_webhook",
                "discord",
                "feishu",
                "dingtalk",
                "wecom",
                "mattermost",
            ),
            "chat channels are the operator's (CONFIG_FILE)",
        ),
        (
            (
                "github_token",
                "token",
                "github_app_private_key",
                "webhook_secret",
                "secret",
                "access_token",
                "password",
                "credentials",
                "database_url",
                "redis_url",
            ),
            "credentials are never read from a repository",
        ),
    )
    for key in keys
}


class RepoSettingsError(CommitDigestError):
    """A settings file that cannot be used, in one line naming the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CommentSettings(_Strict):
    """Whether a comment is posted on each commit, and from which importance."""

    enabled: bool = Field(True, description="Post the analysis as a comment on the commit.")
    min_importance: Importance = Field(
        "low", description="The least importance worth a comment (low = every commit)."
    )


class IgnoreSettings(_Strict):
    """Paths never fetched into a prompt and never sent to the LLM."""

    paths: tuple[str, ...] = Field(
        (),
        description="Globs (fnmatch, `**` matches across folders) of files whose diff is never "
        "sent to the LLM — for privacy, not only noise. The file's name still counts.",
    )


class PathRule(_Strict):
    """A rule for the files under one glob: an importance floor or cap, a note for the reviewer."""

    glob: str = Field(min_length=1, description="Files this rule applies to (fnmatch glob).")
    importance_floor: Importance | None = Field(
        None, description="A commit touching these files is at least this important."
    )
    importance_cap: Importance | None = Field(
        None, description="A commit touching only these files is at most this important."
    )
    note: str | None = Field(
        None, max_length=500, description="A note for the reviewer prompt about these files."
    )

    @field_validator("importance_cap")
    @classmethod
    def _cap_above_floor(cls, cap: str | None, info: Any) -> str | None:
        floor = info.data.get("importance_floor")
        if cap is not None and floor is not None and RANK[cap] < RANK[floor]:
            raise ValueError(f"is below importance_floor ({floor})")
        return cap


class AlertSettings(_Strict):
    """Immediate chat alerts for important commits."""

    min_importance: Importance | None = Field(
        None, description="Alert the team's chat at once for commits at or above this importance."
    )


class RepoSettings(_Strict):
    """What ``.commit-digest.toml`` on the default branch may set for its repository."""

    branches: tuple[str, ...] | None = Field(
        None, description="Branch globs to analyse (default: the repository's default branch)."
    )
    language: Language | None = Field(
        None, description="Language of analyses, comments and reports for this repository."
    )
    comments: CommentSettings = Field(default_factory=CommentSettings)
    ignore: IgnoreSettings = Field(default_factory=IgnoreSettings)
    paths: tuple[PathRule, ...] = Field(
        (), description="Per-path rules; every rule whose glob matches applies, in order."
    )
    team: str | None = Field(
        None, description="A team defined by the operator that this repository belongs to."
    )
    rubric_notes: str | None = Field(
        None, max_length=2_000, description="Extra notes appended to the importance rubric."
    )
    recipients: tuple[str, ...] = Field(
        (),
        description="Extra report recipients; only addresses in the operator's "
        "allowed_recipient_domains are accepted.",
    )
    alerts: AlertSettings = Field(default_factory=AlertSettings)


class ChannelConfig(_Strict):
    """A chat channel the operator set up (URL and secret, or the variables that hold them)."""

    name: str = Field(min_length=1, description="The name teams use to refer to it.")
    platform: Literal[
        "slack", "teams", "discord", "feishu", "dingtalk", "wecom", "mattermost", "webhook"
    ] = Field(description="Which chat tool's incoming webhook the URL is (docs/chat/).")
    url: str | None = Field(None, description="The webhook URL the chat tool gave.")
    url_env: str | None = Field(
        None, description="Or: the environment variable holding the URL (keeps it out of files)."
    )
    secret: str | None = Field(
        None, description="The signing secret (Feishu/Lark and DingTalk sign their webhooks)."
    )
    secret_env: str | None = Field(
        None, description="Or: the environment variable holding the signing secret."
    )


class TeamConfig(_Strict):
    """A set of repositories (and optionally paths) with its recipients and channels."""

    name: str = Field(min_length=1, description="The team's name (a repository file may name it).")
    repositories: tuple[str, ...] = Field(
        (), description="owner/name globs of the team's repositories."
    )
    paths: tuple[str, ...] = Field((), description="Only commits touching these globs count.")
    recipients: tuple[str, ...] = Field((), description="Who gets the team's report by email.")
    channels: tuple[str, ...] = Field((), description="Channels that get the team's report.")
    alert_channels: tuple[str, ...] = Field(
        (), description="Channels alerted at once about important commits."
    )
    alert_min_importance: Importance | None = Field(
        None, description="The least importance worth an alert (default high)."
    )
    people_section: bool = Field(True, description="Show the per-author section in reports.")


class InstallationConfig(_Strict):
    """``CONFIG_FILE``: the operator's defaults for every repository, teams, channels, people."""

    allowed_recipient_domains: tuple[str, ...] = Field(
        (), description="Email domains a repository file may add recipients in (with the env's)."
    )
    defaults: RepoSettings = Field(
        default_factory=RepoSettings, description="Settings for every repository (see above)."
    )
    channels: tuple[ChannelConfig, ...] = Field((), description="Chat channels (see below).")
    teams: tuple[TeamConfig, ...] = Field((), description="Teams (see below).")
    people: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="GitHub login → {platform: chat user id}, for @mentions in alerts.",
    )


@dataclass(frozen=True)
class RepoPolicy:
    """The settings in force for one repository, every layer merged."""

    repository: str
    branches: tuple[str, ...] | None
    language: str
    comments_enabled: bool
    comment_min_importance: str
    ignore_paths: tuple[str, ...]
    path_rules: tuple[PathRule, ...]
    teams: tuple[str, ...]
    rubric_notes: str | None
    recipients: tuple[str, ...]
    alert_min_importance: str | None
    sources: tuple[str, ...] = field(default=())

    def is_ignored(self, path: str) -> bool:
        """Whether a changed file's diff must never reach the LLM."""
        return any(glob_matches(glob, path) for glob in self.ignore_paths)

    def wants_comment(self, importance: str) -> bool:
        return self.comments_enabled and RANK[importance] >= RANK[self.comment_min_importance]

    def adjust_importance(self, importance: str, paths: Sequence[str]) -> str:
        """Importance after the path rules: floors lift it, caps bound it when all files match."""
        result = importance
        for rule in self.path_rules:
            touched = [path for path in paths if glob_matches(rule.glob, path)]
            if rule.importance_floor and touched and RANK[result] < RANK[rule.importance_floor]:
                result = rule.importance_floor
            if (
                rule.importance_cap
                and paths
                and len(touched) == len(paths)
                and RANK[result] > RANK[rule.importance_cap]
            ):
                result = rule.importance_cap
        return result

    def notes_for(self, paths: Sequence[str]) -> tuple[str, ...]:
        """The reviewer notes of the path rules that these files match."""
        return tuple(
            rule.note
            for rule in self.path_rules
            if rule.note and any(glob_matches(rule.glob, path) for path in paths)
        )


def glob_matches(glob: str, path: str) -> bool:
    """fnmatch with ``**/`` also matching no folder at all (``docs/**/*.md`` matches docs/a.md)."""
    return fnmatch.fnmatchcase(path, glob) or (
        "**/" in glob and fnmatch.fnmatchcase(path, glob.replace("**/", ""))
    )


def parse_repo_settings(text: str | bytes, *, source: str = FILE_NAME) -> RepoSettings:
    """Parse and validate a repository's settings file, or raise one ``RepoSettingsError`` line."""
    data = _toml(text, source)
    _refuse_forbidden(data, source)
    return _validated(RepoSettings, data, source)


def parse_installation_config(text: str | bytes, *, source: str) -> InstallationConfig:
    """Parse and validate the operator's ``CONFIG_FILE``."""
    data = _toml(text, source)
    config = _validated(InstallationConfig, data, source)
    channel_names = {channel.name for channel in config.channels}
    for channel in config.channels:
        if not (channel.url or channel.url_env):
            raise RepoSettingsError(f"{source}: channels.{channel.name}: needs url or url_env")
    for team in config.teams:
        for name in (*team.channels, *team.alert_channels):
            if name not in channel_names:
                raise RepoSettingsError(
                    f"{source}: teams.{team.name}: channel {name!r} is not defined in [[channels]]"
                )
    return config


def load_installation_config(path: Path | None) -> InstallationConfig:
    """The installation's file, or empty defaults when none is configured."""
    if path is None:
        return InstallationConfig()
    try:
        text = path.read_bytes()
    except OSError as error:
        raise RepoSettingsError(f"CONFIG_FILE: cannot read {path}: {error.strerror}") from None
    return parse_installation_config(text, source=str(path))


def resolve(
    repository: str,
    *,
    installation: InstallationConfig,
    repo_file: RepoSettings | None,
    env_branches: tuple[str, ...],
    env_language: str,
    env_comments: bool,
    env_recipients: tuple[str, ...] = (),
    env_allowed_domains: tuple[str, ...] = (),
) -> RepoPolicy:
    """The policy for ``repository``: its file over the installation's defaults over the env."""
    defaults = installation.defaults
    layers = [layer for layer in (repo_file, defaults) if layer is not None]
    sources = (
        *(
            name
            for name, layer in (("repository", repo_file), ("installation", defaults))
            if layer is not None and layer.model_fields_set
        ),
        "environment",
    )

    def first(name: str, fallback: Any) -> Any:
        for layer in layers:
            if name in layer.model_fields_set:
                return getattr(layer, name)
        return fallback

    comments: CommentSettings = first("comments", CommentSettings(enabled=env_comments))
    ignore = tuple(dict.fromkeys(path for layer in layers for path in layer.ignore.paths))
    team_names = {team.name for team in installation.teams}
    teams = [team.name for team in installation.teams if _team_has(team, repository)]
    if repo_file is not None and repo_file.team:
        if repo_file.team not in team_names:
            raise RepoSettingsError(
                f"{FILE_NAME}: team: {repo_file.team!r} is not a team of this installation"
            )
        teams.append(repo_file.team)
    recipients = tuple(
        dict.fromkeys((*env_recipients, *(repo_file.recipients if repo_file else ())))
    )
    if repo_file is not None:
        allowed = (*installation.allowed_recipient_domains, *env_allowed_domains)
        _check_recipients(repo_file.recipients, allowed, FILE_NAME, "recipients")
    alerts: AlertSettings = first("alerts", AlertSettings())
    return RepoPolicy(
        repository=repository,
        branches=first("branches", env_branches or None),
        language=first("language", None) or env_language,
        comments_enabled=comments.enabled,
        comment_min_importance=comments.min_importance,
        ignore_paths=ignore,
        path_rules=tuple(rule for layer in layers for rule in layer.paths),
        teams=tuple(dict.fromkeys(teams)),
        rubric_notes="\n".join(
            layer.rubric_notes for layer in reversed(layers) if layer.rubric_notes
        )
        or None,
        recipients=recipients,
        alert_min_importance=alerts.min_importance,
        sources=sources,
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``.commit-digest.toml`` for editors (shipped in ``schemas/``)."""
    schema = RepoSettings.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = ".commit-digest.toml"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def check_file(path: Path) -> tuple[str, RepoSettings | InstallationConfig]:
    """Validate a repository file or an installation file offline; say which it is."""
    try:
        text = path.read_bytes()
    except OSError as error:
        raise RepoSettingsError(f"{path}: cannot read: {error.strerror}") from None
    data = _toml(text, str(path))
    if {"teams", "channels", "people", "defaults", "allowed_recipient_domains"} & set(data):
        return "installation", parse_installation_config(text, source=str(path))
    return "repository", parse_repo_settings(text, source=str(path))


def _team_has(team: TeamConfig, repository: str) -> bool:
    return any(fnmatch.fnmatchcase(repository.lower(), glob.lower()) for glob in team.repositories)


def _toml(text: str | bytes, source: str) -> dict[str, Any]:
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > MAX_FILE_BYTES:
        raise RepoSettingsError(f"{source}: larger than {MAX_FILE_BYTES // 1024} KB")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RepoSettingsError(f"{source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise RepoSettingsError(f"{source}: not valid TOML: {error}") from None


def _refuse_forbidden(data: Mapping[str, Any], source: str, prefix: str = "") -> None:
    for key, value in data.items():
        reason = FORBIDDEN_KEYS.get(key.lower())
        if reason:
            raise RepoSettingsError(
                f"{source}: {prefix}{key}: cannot be set in a repository file ({reason})"
            )
        if isinstance(value, Mapping):
            _refuse_forbidden(value, source, f"{prefix}{key}.")


def _validated(model: type[Any], data: Mapping[str, Any], source: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = _location(first["loc"])
        problem = "is not a setting" if first["type"] == "extra_forbidden" else first["msg"]
        more = len(error.errors()) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise RepoSettingsError(f"{source}: {where}: {problem}{tail}") from None


def _location(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _check_recipients(
    recipients: Iterable[str], allowed: Sequence[str], source: str, where: str
) -> None:
    domains = {domain.lower().lstrip("@") for domain in allowed}
    for address in recipients:
        domain = address.rpartition("@")[2].lower()
        if "@" not in address or not domain:
            raise RepoSettingsError(f"{source}: {where}: {address!r} is not an email address")
        if domain not in domains:
            raise RepoSettingsError(
                f"{source}: {where}: {address!r} is outside allowed_recipient_domains "
                f"({', '.join(sorted(domains)) or 'none set'})"
            )


def markdown_reference() -> str:
    """The settings reference (docs/settings-file.md), generated from the models."""
    out = [
        "# Settings files reference",
        "",
        "<!-- generated by commit_digest.repo_settings.markdown_reference(); "
        "a test keeps it in step -->",
        "",
        f"## `{FILE_NAME}` (in the repository, on its default branch)",
        "",
        "Editors can validate it with the JSON Schema shipped in the package "
        "(`commit_digest/schemas/commit-digest.schema.json`); "
        "`commit-digest config check FILE` validates it offline.",
        "",
        *_table(RepoSettings, ""),
        "",
        "Never from a repository file (refused by name, wherever nested): "
        + ", ".join(f"`{key}`" for key in sorted(FORBIDDEN_KEYS))
        + ".",
        "",
        "## `CONFIG_FILE` (the operator's, on the host)",
        "",
        "`[defaults]` takes every key of the repository file and applies to every repository "
        "without one (a repository's file wins key by key; ignored paths and path rules add up).",
        "",
        *_table(InstallationConfig, ""),
        "",
        "### `[[channels]]`",
        "",
        *_table(ChannelConfig, "channels[]."),
        "",
        "### `[[teams]]`",
        "",
        *_table(TeamConfig, "teams[]."),
        "",
        "### `[[paths]]` (in either file)",
        "",
        *_table(PathRule, "paths[]."),
        "",
    ]
    return "\n".join(out)


def _table(model: type[BaseModel], prefix: str) -> list[str]:
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        annotation = info.annotation
        nested = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if nested and annotation is not RepoSettings:
            assert isinstance(annotation, type)
            rows += _table(annotation, f"{prefix}{name}.")[2:]
            continue
        default = (
            "" if info.is_required() else _default_text(info.get_default(call_default_factory=True))
        )
        kind = _type_text(annotation)
        rows.append(f"| `{prefix}{name}` | {kind} | {default} | {info.description or ''} |")
    return rows


def _default_text(value: Any) -> str:
    if value is None or value == () or value == {}:
        return "—"
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{json.dumps(value) if not isinstance(value, str) else value}`"


def _type_text(annotation: Any) -> str:
    text = str(annotation)
    for pattern, readable in _TYPE_NAMES:
        text = re.sub(pattern, readable, text)
    return text


_TYPE_NAMES = (
    (r"typing\.|commit_digest\.repo_settings\.|<class '|'>", ""),
    (r"Optional\[(.*)\]", r"\1"),
    (r"Literal\['high', 'medium', 'low'\]", "high, medium or low"),
    (r"Literal\[(.*)\]", r"one of \1"),
    (r"tuple\[str, \.\.\.\]", "list of strings"),
    (r"tuple\[(\w+), \.\.\.\]", r"list of \1"),
    (r"dict\[str, dict\[str, str\]\]", "table of tables"),
    (r"\bstr\b", "string"),
    (r"\bbool\b", "true/false"),
    (r" \| None", ""),
    (r"RepoSettings", "table"),
)
