"""The nightly report, one step at a time: reconcile → collect → render → deliver.

Each step has its module: ``reconcile`` (commits GitHub has that no delivery brought),
``collect`` (one query for the day), ``build`` (render with the pure ``report`` package, store
the report and its email parts), ``deliver`` (send each report exactly once) and ``teams`` (the
same per team and chat channel). This module only orders them and waits for pending analyses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from commit_digest.reporting.build import (
    build_report,
)
from commit_digest.reporting.deliver import send_report
from commit_digest.reporting.reconcile import pending_in_day, reconcile_day
from commit_digest.reporting.teams import deliver_team_reports
from commit_digest.runtime import Runtime


@dataclass(frozen=True)
class DailyStep:
    """What one run of the nightly report task did."""

    status: str  # waiting, sent, already-sent, in-progress, failed
    day: date
    pending: int = 0
    where: str | None = None
    problems: tuple[str, ...] = ()  # what reconciliation could not check, for the retries


def daily_report_step(
    rt: Runtime,
    day: date,
    *,
    deadline: datetime,
    now: datetime,
    reconciled: bool,
    problems: Sequence[str] = (),
) -> tuple[DailyStep, bool]:
    """Reconcile (once), wait for pending analyses until ``deadline``, then build and send.

    Returns the step and whether reconciliation has been done, so the caller can come back
    (a task retry) without repeating it.
    """
    days = rt.settings.report_days  # 7: the weekly digest of the week ending with ``day``
    if not reconciled:
        problems = reconcile_day(rt, day, days=days).problems
        reconciled = True
    problems = tuple(problems)
    pending = pending_in_day(rt, day, days=days)
    if pending and now < deadline:
        return DailyStep(status="waiting", day=day, pending=pending, problems=problems), reconciled
    built = build_report(rt, day, warnings=problems, days=days)
    outcome = send_report(rt, built)
    if rt.installation.teams:
        deliver_team_reports(rt, day, problems)
    return DailyStep(
        status=outcome.status, day=day, pending=pending, where=outcome.where, problems=problems
    ), reconciled
