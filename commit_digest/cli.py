"""The ``commit-digest`` command: run, report, analyze, db (SPEC §4)."""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import redis
from sqlalchemy.exc import InterfaceError, OperationalError

from commit_digest.config import Settings, load_settings
from commit_digest.errors import CommitDigestError, ConfigError
from commit_digest.logs import configure_logging
from commit_digest.masking import mask_text, mask_url
from report.markdown_text import without_controls
from report.render import LANGUAGES


class _Group(click.Group):
    """Turn every error a user can cause into one line and a non-zero status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            raise click.ClickException(f"configuration error: {error}") from None
        except CommitDigestError as error:
            raise click.ClickException(mask_text(str(error))) from None
        except (OperationalError, InterfaceError) as error:
            raise click.ClickException(
                _unreachable("the database", "DATABASE_URL", error)
            ) from None
        except redis.RedisError as error:
            raise click.ClickException(_unreachable("Redis", "REDIS_URL", error)) from None
        except (smtplib.SMTPException, ssl.SSLError) as error:
            raise click.ClickException(_unreachable("the mail server", "SMTP_URL", error)) from None


def _unreachable(service: str, variable: str, error: BaseException) -> str:
    """One line: which service, its URL with the password hidden, what to check."""
    url = os.environ.get(variable, "")
    cause = getattr(error, "orig", None) or error
    reason = (
        str(cause).strip().splitlines()[0][:200] if str(cause).strip() else type(cause).__name__
    )
    where = f" at {mask_url(url)}" if url else ""
    return mask_text(
        f"cannot reach {service}{where}: {reason} — check that it is running and that "
        f"{variable} is right"
    )


def _settings() -> Settings:
    """The configuration, with logging set up to stderr (stdout is the command's output)."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _parse_day(value: str | None, settings: Settings, option: str = "--date") -> date:
    if value is None:
        return datetime.now(settings.report_timezone).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2026-02-03", param_hint=option
        ) from None


_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def _check_repo(_: click.Context, __: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    for repo in value:
        if not _REPO.match(repo):
            raise click.BadParameter(f"{repo!r} is not OWNER/NAME")
    return value


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Analyse every pushed commit, comment on it, and email a daily report."""


@main.command()
@click.option(
    "--workers",
    type=click.IntRange(1, 512),
    help="Worker concurrency (default WORKER_CONCURRENCY).",
)
def run(workers: int | None) -> None:
    """Run web, worker and beat together (embedded Redis and SQLite where unset)."""
    from commit_digest.runner import run as run_all

    sys.exit(run_all(_settings(), workers=workers))


@main.command()
@click.option(
    "--date", "day", metavar="YYYY-MM-DD", help="The day (in REPORT_TIMEZONE); default today."
)
@click.option(
    "--repo",
    "repos",
    multiple=True,
    callback=_check_repo,
    metavar="OWNER/NAME",
    help="Only this repository (repeatable).",
)
@click.option("--send", is_flag=True, help="Email it (once per day and recipient list).")
@click.option("--resend", is_flag=True, help="Email it again even if it was sent.")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--language", type=click.Choice(LANGUAGES), help="Default REPORT_LANGUAGE.")
@click.option(
    "--period",
    type=click.Choice(["daily", "weekly"]),
    help="weekly: the seven days ending with --date. Default REPORT_PERIOD.",
)
def report(
    day: str | None,
    repos: tuple[str, ...],
    send: bool,
    resend: bool,
    fmt: str,
    language: str | None,
    period: str | None,
) -> None:
    """Build the report of a day (or a week), print it, and optionally email it."""
    from commit_digest.reporting.build import build_report
    from commit_digest.reporting.deliver import send_report
    from commit_digest.runtime import Runtime

    settings = _settings()
    rt = Runtime.build(settings)
    try:
        days = {"daily": 1, "weekly": 7}[period] if period else None
        built = build_report(
            rt, _parse_day(day, settings), list(repos) or None, language, days=days
        )
        click.echo(built.markdown if fmt == "md" else built.html, nl=False)
        if send or resend:
            outcome = send_report(rt, built, resend=resend)
            messages = {
                "sent": f"sent to {outcome.where}",
                "already-sent": "already sent to these recipients (--resend sends it again)",
                "in-progress": "another process is sending it right now",
                "failed": f"not sent: {outcome.error}",
            }
            click.echo(f"commit-digest: report {built.label}: {messages[outcome.status]}", err=True)
            if outcome.status == "failed":
                sys.exit(1)
    finally:
        rt.close()


@main.command()
@click.argument("repository", metavar="OWNER/NAME")
@click.argument("sha")
@click.option("--json", "as_json", is_flag=True, help="Print the stored analysis as JSON.")
@click.option("--force", is_flag=True, help="Analyse again even if an analysis is stored.")
def analyze(repository: str, sha: str, as_json: bool, force: bool) -> None:
    """Analyse one commit now (in this process) and print the result."""
    import json

    from commit_digest.analysis.comments import comment_body
    from commit_digest.analysis.results import RetryLater
    from commit_digest.db import upgrade
    from commit_digest.manual import analyze_now
    from commit_digest.queries import analysis_json, stored_analysis
    from commit_digest.runtime import Runtime

    _check_repo(click.get_current_context(), click.Argument(["repository"]), (repository,))
    if not re.fullmatch(r"[0-9a-fA-F]{7,40}", sha):
        raise click.BadParameter(f"{sha!r} is not a commit sha", param_hint="SHA")
    settings = _settings()
    upgrade(settings.database_url)
    rt = Runtime.build(settings)
    try:
        try:
            commit_id, _ = analyze_now(rt, repository, sha.lower(), force=force)
        except RetryLater as wait:
            raise click.ClickException(
                f"{wait.reason}; try again in {wait.countdown:.0f} s"
            ) from None
        found = stored_analysis(rt, commit_id)
        if found is None:
            raise click.ClickException(
                "the commit is being analysed by another process; try again shortly"
            )
        commit, row = found
        if as_json:
            click.echo(
                without_controls(
                    json.dumps(analysis_json(commit, row), indent=2, ensure_ascii=False)
                )
            )
            return
        body = comment_body(commit.sha, row)
        subject = (commit.message.strip().splitlines() or [""])[0]
        click.echo(without_controls(f"{repository}@{commit.sha[:12]} — {subject}"))
        click.echo(without_controls(body.split("\n", 1)[1]))  # without the hidden marker line
    finally:
        rt.close()


@main.command()
@click.option("--repo", "repository", required=True, metavar="OWNER/NAME", help="The repository.")
@click.option(
    "--since", required=True, metavar="YYYY-MM-DD", help="First day (in REPORT_TIMEZONE)."
)
@click.option("--until", metavar="YYYY-MM-DD", help="Last day, included; default today.")
@click.option("--dry-run", is_flag=True, help="List what would be analysed and stop.")
@click.option("--queue", "to_queue", is_flag=True, help="Hand the commits to the workers instead.")
def backfill(repository: str, since: str, until: str | None, dry_run: bool, to_queue: bool) -> None:
    """Analyse the commits of a period that never came by webhook (idempotent)."""
    from commit_digest.db import upgrade
    from commit_digest.manual import analyze_recorded, plan_backfill, record_backfill
    from commit_digest.queueing import ANALYZE, publish
    from commit_digest.runtime import Runtime

    _check_repo(click.get_current_context(), click.Argument(["repository"]), (repository,))
    settings = _settings()
    first = _parse_day(since, settings, "--since")
    last = _parse_day(until, settings, "--until")
    if last < first:
        raise click.BadParameter("--until is before --since", param_hint="--until")
    upgrade(settings.database_url)
    rt = Runtime.build(settings)
    try:
        plan = plan_backfill(rt, repository, first, last)
        branches = ", ".join(plan.branches) or "no tracked branch"
        click.echo(
            f"{repository}: {plan.found} commits on {branches} from {first} to {last}; "
            f"{len(plan.missing)} without an analysis",
            err=True,
        )
        if dry_run:
            for commit in plan.missing:
                when = commit.committed_at.isoformat() if commit.committed_at else "?"
                subject = (commit.message.strip().splitlines() or [""])[0]
                click.echo(without_controls(f"{commit.sha[:12]}  {when}  {subject}"))
            return
        ids = record_backfill(rt, plan)
        if to_queue:
            queued = publish(rt.celery, ANALYZE, ids)
            click.echo(f"queued {len(queued)} of {len(ids)} commits for the workers", err=True)
            return
        with click.progressbar(ids, label="analysing", file=sys.stderr, show_pos=True) as bar:
            for commit_id in bar:
                analyze_recorded(rt, commit_id)
        click.echo(f"analysed {len(ids)} commits", err=True)
    finally:
        rt.close()


@main.command()
@click.argument("delivery_id", metavar="DELIVERY_ID")
def replay(delivery_id: str) -> None:
    """Process a stored webhook delivery again (by its X-GitHub-Delivery id)."""
    from commit_digest.manual import replay_delivery
    from commit_digest.runtime import Runtime

    rt = Runtime.build(_settings())
    try:
        outcome = replay_delivery(rt, delivery_id)
    finally:
        rt.close()
    click.echo(
        f"delivery {outcome.delivery}: {outcome.new} new commits recorded, "
        f"{outcome.requeued} unanalysed commits queued again"
        + ("; fetching the commits the payload did not list" if outcome.fetching_missing else ""),
        err=True,
    )


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema (Alembic)."""
    from commit_digest.db import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    click.echo(
        f"commit-digest: database at {revision} ({_safe_url(settings.database_url)})", err=True
    )


@main.group("config")
def config_group() -> None:
    """The settings in force, and settings files checked offline."""


@config_group.command("show")
def config_show() -> None:
    """Print every variable in force (passwords and tokens hidden) and what disagrees."""
    from commit_digest.config import read_environment
    from commit_digest.timing import disagreements
    from commit_digest.variables import VARIABLES

    settings = _settings()  # validates first: a bad value is one line, as at start-up
    environ = read_environment()
    for variable in VARIABLES:
        raw = environ.get(variable.name, "").strip()
        if variable.secret:  # say whether they are set, never what they are
            shown = "(set)" if raw else "(not set)"
        elif raw:
            shown = mask_text(mask_url(raw))
        elif variable.default is not None:
            shown = f"{variable.default} (default)"
        elif variable.shown_default == "none":
            shown = "(not set)"
        else:
            shown = f"(not set: {variable.shown_default.removeprefix('none: ')})"
        click.echo(f"{variable.name:26} {shown}")
    for line in disagreements(settings):
        click.echo(f"warning: {line}", err=True)


@config_group.command("table")
def config_table() -> None:
    """Print the Markdown table of every variable (the README's, generated from one table)."""
    from commit_digest.variables import markdown_table

    click.echo(markdown_table(), nl=False)


@config_group.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def config_check(path: Path) -> None:
    """Validate a .commit-digest.toml or an installation CONFIG_FILE without any service."""
    from commit_digest.repo_settings import check_file

    kind, _ = check_file(path)
    click.echo(f"{path}: a valid {kind} settings file")


@main.group("llm")
def llm_group() -> None:
    """The configured LLM server."""


@llm_group.command("check")
def llm_check() -> None:
    """Probe the LLM server: model, context window, json_schema, one sample's time, settings."""
    from commit_digest.analysis.check import check_llm

    settings = _settings()
    for line in check_llm(settings):
        click.echo(line)


@main.group("labels")
def labels_group() -> None:
    """Human corrections as labelled examples for the evaluation set."""


@labels_group.command("export")
@click.option("--since", metavar="YYYY-MM-DD", help="Only corrections made on or after this day.")
@click.option("--no-diffs", is_flag=True, help="Do not fetch each commit's patches from GitHub.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout."
)
def labels_export(since: str | None, no_diffs: bool, output: Path | None) -> None:
    """Write every /digest importance override as a line of eval/commits.jsonl's format."""
    from commit_digest.labels import as_jsonl, export_labels
    from commit_digest.runtime import Runtime

    settings = _settings()
    start = (
        datetime.combine(_parse_day(since, settings, "--since"), datetime.min.time(), UTC)
        if since
        else None
    )
    rt = Runtime.build(settings)
    try:
        lines = as_jsonl(export_labels(rt, since=start, with_diffs=not no_diffs))
        if output is None:
            for line in lines:
                click.echo(line, nl=False)
        else:
            with output.open("w", encoding="utf-8") as out:
                count = sum(1 for line in lines if out.write(line))
            click.echo(f"commit-digest: {count} labelled commits written to {output}", err=True)
    finally:
        rt.close()


def _safe_url(url: str) -> str:
    from commit_digest.masking import mask_url

    return mask_url(url)


if __name__ == "__main__":
    main()
