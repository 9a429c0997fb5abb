"""Read a repository's ``.commit-digest.toml`` through the API and keep the settings in force.

The file is read from the default branch when a commit that touches it is analysed, and at
most every ``RECHECK_AFTER`` otherwise (a change pushed where we do not listen); its blob sha
is remembered, so an unchanged file is never parsed twice. A file that does not validate
changes nothing: the last good settings stay in force, and the problem is reported once per
bad version — a log line, and a comment on the commit that changed it. GitHub being
unreachable is not a reason to fail an analysis: the cached settings are used.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select

from commit_digest.errors import GitHubError, GitHubRateLimited, GitHubUnavailable
from commit_digest.models import Repository, RepositorySettings
from commit_digest.repo_settings import (
    FILE_NAME,
    RepoPolicy,
    RepoSettings,
    RepoSettingsError,
    parse_repo_settings,
    resolve,
)
from commit_digest.runtime import Runtime
from commit_digest.storage import upsert
from report.markdown_text import for_github

log = structlog.get_logger(__name__)

RECHECK_AFTER = timedelta(minutes=10)
REPORT_MARKER = "<!-- commit-digest:settings:{sha} -->"


def touches_settings(paths: list[str] | tuple[str, ...]) -> bool:
    """Whether a commit changes the repository's settings file."""
    return FILE_NAME in paths


def policy_for(
    rt: Runtime,
    repository: str,
    *,
    installation_id: int | None,
    commit_sha: str | None = None,
    changed: bool = False,
) -> RepoPolicy:
    """The settings in force for ``repository``: its file (read if due) over CONFIG_FILE over env.

    ``changed``: the commit being analysed (``commit_sha``) touches the file, so it is read now
    and, if it does not validate, reported on that commit.
    """
    now = datetime.now(UTC)
    with rt.session() as session:
        found = session.execute(
            select(Repository.id, Repository.default_branch, RepositorySettings)
            .outerjoin(RepositorySettings, RepositorySettings.repository_id == Repository.id)
            .where(Repository.full_name == repository)
        ).first()
    repo_file: RepoSettings | None = None
    if found is not None:
        repository_id, default_branch = found[0], found[1]
        cached: RepositorySettings | None = found[2]
        due = changed or cached is None or cached.checked_at < now - RECHECK_AFTER
        if due:
            cached = _refresh(
                rt, repository, repository_id, default_branch, installation_id, cached, now
            )
            if cached is not None and cached.error and cached.reported_sha != cached.blob_sha:
                _report(rt, repository, repository_id, installation_id, cached, commit_sha, changed)
        if cached is not None and cached.good_settings is not None:
            repo_file = RepoSettings.model_validate(cached.good_settings)
    settings = rt.settings
    return resolve(
        repository,
        installation=rt.installation,
        repo_file=repo_file,
        env_branches=settings.tracked_branches,
        env_language=settings.report_language,
        env_comments=settings.commit_comments,
        env_recipients=settings.report_recipients,
        env_allowed_domains=settings.allowed_recipient_domains,
    )


def _refresh(
    rt: Runtime,
    repository: str,
    repository_id: int,
    default_branch: str | None,
    installation_id: int | None,
    cached: RepositorySettings | None,
    now: datetime,
) -> RepositorySettings | None:
    github = rt.github(installation_id)
    try:
        branch = default_branch or github.default_branch(repository)
        found = github.get_file(repository, FILE_NAME, branch)
    except (GitHubUnavailable, GitHubRateLimited, GitHubError) as error:
        log.warning("repo_settings.unreadable", repository=repository, error=str(error))
        return cached
    values: dict[str, object] = {"checked_at": now}
    if found is None:
        values.update(blob_sha=None, good_settings=None, good_sha=None, error=None)
    elif cached is None or found.sha != cached.blob_sha:
        values["blob_sha"] = found.sha
        try:
            parsed = parse_repo_settings(found.content)
            resolve(  # the team it names and its recipients must exist and be allowed here
                repository,
                installation=rt.installation,
                repo_file=parsed,
                env_branches=(),
                env_language="en",
                env_comments=True,
                env_allowed_domains=rt.settings.allowed_recipient_domains,
            )
        except RepoSettingsError as error:
            values["error"] = str(error)
        else:
            values.update(
                good_settings=parsed.model_dump(mode="json", exclude_unset=True),
                good_sha=found.sha,
                error=None,
            )
    with rt.session() as session:
        upsert(
            session,
            RepositorySettings,
            {"repository_id": repository_id, **values},
            ["repository_id"],
            values,
        )
        return session.get(RepositorySettings, repository_id)


def _report(
    rt: Runtime,
    repository: str,
    repository_id: int,
    installation_id: int | None,
    cached: RepositorySettings,
    commit_sha: str | None,
    changed: bool,
) -> None:
    log.warning(
        "repo_settings.invalid",
        repository=repository,
        blob=cached.blob_sha,
        error=cached.error,
        in_force=cached.good_sha or "defaults",
    )
    if (
        changed
        and commit_sha
        and rt.settings.commit_comments
        and rt.settings.has_github_credentials
    ):
        in_force = f"those of blob {cached.good_sha[:7]}" if cached.good_sha else "the defaults"
        body = (
            f"{REPORT_MARKER.format(sha=cached.blob_sha)}\n"
            f"**commit-digest** could not use `{FILE_NAME}` as changed here: "
            f"{for_github(cached.error or '')}\n\n"
            f"The settings in force stay {in_force} until a valid file lands. "
            f"`commit-digest config check {FILE_NAME}` checks a file "
            "offline."
        )
        try:
            rt.github(installation_id).create_commit_comment(repository, commit_sha, body)
        except (GitHubUnavailable, GitHubRateLimited, GitHubError) as error:
            log.warning("repo_settings.report_failed", repository=repository, error=str(error))
            return
    with rt.session() as session:
        row = session.get(RepositorySettings, repository_id)
        if row is not None:
            row.reported_sha = cached.blob_sha
