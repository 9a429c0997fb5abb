"""What the chat messages say: an alert for an important commit, the report's summary.

Both are built from stored data only (the analysis, the report's counts) — no LLM writes them.
Each channel gets its own message because @mentions are per platform (a Slack member id is
not a Feishu open id); the operator maps GitHub logins to chat ids in CONFIG_FILE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from commit_digest.chat.deliver import mentions_for, queue_chat
from commit_digest.chat.message import ChatMessage
from commit_digest.models import Analysis, Commit, CommitOverride, Repository
from commit_digest.repo_settings import RANK, InstallationConfig, TeamConfig, glob_matches
from commit_digest.runtime import Runtime

_TEXT = {
    "en": {
        "alert": "{importance} · {repo} · {short}",
        "importance": {"high": "🔴 High", "medium": "🟡 Medium", "low": "🟢 Low"},
        "by": "by {author}",
        "open_commit": "Open the commit",
        "report": "commit-digest · {scope} · {day}",
        "counts": "{total} commits: {high} high, {medium} medium, {low} low",
        "open_report": "Read the report",
        "all": "all repositories",
        "breaking": "⚠ breaking change",
    },
    "zh-CN": {
        "alert": "{importance} · {repo} · {short}",
        "importance": {"high": "🔴 高", "medium": "🟡 中", "low": "🟢 低"},
        "by": "作者 {author}",
        "open_commit": "查看提交",
        "report": "commit-digest · {scope} · {day}",
        "counts": "{total} 个提交：高 {high}，中 {medium}，低 {low}",
        "open_report": "查看日报",
        "all": "全部仓库",
        "breaking": "⚠ 不兼容变更",
    },
}


@dataclass(frozen=True)
class Highlight:
    """One line of the report's summary: a commit that mattered."""

    short_sha: str
    subject: str
    importance: str


def alert_teams(
    installation: InstallationConfig, repository: str, paths: Sequence[str]
) -> list[TeamConfig]:
    """The teams whose alerts cover this repository (and, if they name paths, these files)."""
    return [
        team
        for team in installation.teams
        if team.alert_channels
        and any(glob_matches(glob.lower(), repository.lower()) for glob in team.repositories)
        and (not team.paths or any(glob_matches(g, p) for g in team.paths for p in paths))
    ]


def queue_commit_alert(rt: Runtime, commit_id: int) -> list[int]:
    """Queue an alert to each team channel whose threshold the commit's importance reaches."""
    installation = rt.installation
    if not any(team.alert_channels for team in installation.teams):
        return []
    with rt.session() as session:
        row = session.execute(
            select(Commit, Analysis, Repository.full_name, CommitOverride.importance)
            .join(Analysis, Analysis.commit_id == Commit.id)
            .join(Repository, Repository.id == Commit.repository_id)
            .outerjoin(CommitOverride, CommitOverride.commit_id == Commit.id)
            .where(Commit.id == commit_id)
        ).first()
    if row is None:
        return []
    commit, analysis, repository, override = row
    importance = override or analysis.importance
    listed = commit.files or {}
    paths = [path for status in ("added", "removed", "modified") for path in listed.get(status, [])]
    channels: list[str] = []
    for team in alert_teams(installation, repository, paths):
        threshold = team.alert_min_importance or "high"
        if RANK[importance] >= RANK[threshold]:
            channels.extend(team.alert_channels)
    if not channels:
        return []
    platform_of = {channel.name: channel.platform for channel in installation.channels}
    messages = {
        name: alert_message(
            language=analysis.language,
            repository=repository,
            sha=commit.sha,
            subject=commit.message.partition("\n")[0],
            importance=importance,
            summary=str((analysis.body or {}).get("summary", "")),
            breaking=analysis.breaking_change,
            author=commit.author_login or commit.author_name or "?",
            link=commit.url,
        )
        for name in dict.fromkeys(channels)
    }
    for name, message in messages.items():
        people = mentions_for(installation, platform_of.get(name, ""), [commit.author_login or ""])
        messages[name] = ChatMessage(
            kind=message.kind,
            title=message.title,
            lines=message.lines,
            link=message.link,
            link_label=message.link_label,
            mentions=people,
        )
    return queue_chat(rt, kind="chat-alert", subject=f"commit:{commit_id}", messages=messages)


def alert_message(
    *,
    language: str,
    repository: str,
    sha: str,
    subject: str,
    importance: str,
    summary: str,
    breaking: bool,
    author: str,
    link: str | None,
) -> ChatMessage:
    """The alert for one commit: what it is, why it matters, who made it, where to see it."""
    text = _TEXT.get(language, _TEXT["en"])
    lines = [subject, summary, str(text["by"]).format(author=author)]
    if breaking:
        lines.insert(1, str(text["breaking"]))
    labels = text["importance"]
    assert isinstance(labels, dict)
    return ChatMessage(
        kind="alert",
        title=str(text["alert"]).format(
            importance=labels.get(importance, importance), repo=repository, short=sha[:7]
        ),
        lines=tuple(line for line in lines if line.strip()),
        link=link,
        link_label=str(text["open_commit"]),
    )


def report_message(
    *,
    language: str,
    scope: str,
    day: str,
    counts: tuple[int, int, int, int],
    highlights: Sequence[Highlight],
    link: str | None,
) -> ChatMessage:
    """The report's summary for chat: the counts, the commits that mattered, the link."""
    text = _TEXT.get(language, _TEXT["en"])
    total, high, medium, low = counts
    labels = text["importance"]
    assert isinstance(labels, dict)
    lines = [str(text["counts"]).format(total=total, high=high, medium=medium, low=low)]
    lines += [
        f"{labels.get(h.importance, h.importance)} {h.short_sha} {h.subject}" for h in highlights
    ]
    return ChatMessage(
        kind="report",
        title=str(text["report"]).format(scope=scope or text["all"], day=day),
        lines=tuple(lines),
        link=link,
        link_label=str(text["open_report"]),
    )
