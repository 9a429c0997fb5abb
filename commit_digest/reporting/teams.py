"""Each team's own report: its repositories in one report, to its recipients and its channels.

After the installation's report, the nightly job builds one report per team of CONFIG_FILE
(over the repositories of the database its globs match), emails it to the team's recipients
and queues its summary to the team's chat channels — each once, through the same claims and
outbox as everything else (the email per day, scope and recipients; the chat message per
day, team and channel).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

import structlog
from sqlalchemy import select

from commit_digest.chat.compose import Highlight, report_message
from commit_digest.chat.deliver import queue_chat
from commit_digest.models import Repository
from commit_digest.repo_settings import TeamConfig
from commit_digest.reporting.build import BuiltReport, build_report
from commit_digest.reporting.deliver import send_report
from commit_digest.runtime import Runtime
from report.schema import Importance

log = structlog.get_logger(__name__)

HIGHLIGHTS = 5


@dataclass(frozen=True)
class TeamOutcome:
    """What the night did for one team."""

    team: str
    repositories: int
    email: str  # sent, already-sent, in-progress, failed, none
    chat_queued: int


def team_repositories(rt: Runtime, team: TeamConfig) -> list[str]:
    """The known repositories whose names match the team's globs, sorted."""
    with rt.session() as session:
        names = session.execute(select(Repository.full_name)).scalars().all()
    return sorted(
        name
        for name in names
        if any(fnmatch.fnmatchcase(name.lower(), glob.lower()) for glob in team.repositories)
    )


def deliver_team_reports(rt: Runtime, day: date, problems: Sequence[str] = ()) -> list[TeamOutcome]:
    """Build, email and post each team's report of ``day`` (once each)."""
    outcomes = []
    for team in rt.installation.teams:
        if not (team.recipients or team.channels):
            continue
        repositories = team_repositories(rt, team)
        if not repositories:
            log.info("report.team.empty", team=team.name)
            continue
        warnings = [p for p in problems if p.split("@", 1)[0] in repositories]
        built = build_report(rt, day, repositories, warnings=warnings)
        email = "none"
        if team.recipients:
            email = send_report(rt, built, recipients=list(team.recipients)).status
        queued = queue_report_chat(rt, built, team) if team.channels else []
        outcomes.append(TeamOutcome(team.name, len(repositories), email, len(queued)))
        log.info(
            "report.team.delivered",
            team=team.name,
            repositories=len(repositories),
            email=email,
            chat=len(queued),
        )
    return outcomes


def queue_report_chat(rt: Runtime, built: BuiltReport, team: TeamConfig) -> list[int]:
    """Queue the report's summary to each of the team's channels (once per day and team)."""
    entries = [entry for repository in built.data.repositories for entry in repository.entries]
    high, medium, low = (
        sum(1 for entry in entries if entry.importance is level)
        for level in (Importance.HIGH, Importance.MEDIUM, Importance.LOW)
    )
    ranked = sorted(
        (e for e in entries if e.importance in (Importance.HIGH, Importance.MEDIUM)),
        key=lambda e: (e.importance is not Importance.HIGH, e.committed_at),
    )
    highlights = [
        Highlight(e.sha[:7], e.message.partition("\n")[0], e.importance.value)
        for e in ranked[:HIGHLIGHTS]
        if e.importance is not None
    ]
    message = report_message(
        language=built.language,
        scope=team.name,
        day=built.day.isoformat()
        if built.period == "day"
        else f"{built.data.first_day.isoformat()} – {built.day.isoformat()}",
        counts=(len(entries), high, medium, low),
        highlights=highlights,
        link=_report_link(rt, built),
    )
    return queue_chat(
        rt,
        kind="chat-report",
        subject=f"report:{built.label}:{team.name}",
        messages=dict.fromkeys(team.channels, message),
    )


def _report_link(rt: Runtime, built: BuiltReport) -> str | None:
    if rt.settings.public_url is None:
        return None
    query = {"lang": built.language}
    if built.scope:
        query["repo"] = built.scope
    if built.period != "day":
        query["period"] = built.period
    return f"{rt.settings.public_url}/reports/{built.day.isoformat()}?{urlencode(query)}"
