"""The time limits of the tasks, in one place, and whether the settings agree with them.

A task past its soft limit is interrupted, past its hard limit killed. The leases and
timeouts of the settings must fit around these: an analysis lease shorter than the analysis
time limit hands a slow analysis to a second worker while the first still runs; an LLM
timeout whose three attempts outlast the soft limit never gets its third.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from commit_digest.config import Settings

ANALYSIS_SOFT_LIMIT = 600
ANALYSIS_HARD_LIMIT = 660
REPORT_SOFT_LIMIT = 600
REPORT_HARD_LIMIT = 660
LLM_ATTEMPTS = 3  # the pipeline's budget shares: one request each


def disagreements(settings: Settings) -> list[str]:
    """One line per pair of settings (or setting and limit) that do not fit together."""
    found = []
    lease = settings.claim_lease.total_seconds()
    if lease <= ANALYSIS_HARD_LIMIT:
        found.append(
            f"ANALYSIS_LEASE: {lease:g} s is not above the analysis time limit of "
            f"{ANALYSIS_HARD_LIMIT} s: a slow analysis would be given to a second worker"
        )
    if settings.llm_timeout * LLM_ATTEMPTS > ANALYSIS_SOFT_LIMIT:
        found.append(
            f"LLM_TIMEOUT: {LLM_ATTEMPTS} attempts of {settings.llm_timeout:g} s outlast the "
            f"analysis time limit of {ANALYSIS_SOFT_LIMIT} s"
        )
    requeue = settings.requeue_after.total_seconds()
    if requeue < 2 * settings.sweep_interval:
        found.append(
            f"REQUEUE_AFTER: {requeue:g} s is under two SWEEP_INTERVALs "
            f"({settings.sweep_interval:g} s): queued work would be queued again at once"
        )
    if settings.send_lease.total_seconds() <= (settings.smtp.timeout if settings.smtp else 30):
        found.append("REPORT_SEND_LEASE: not above the SMTP timeout: a slow send would be doubled")
    return found
