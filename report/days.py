"""What "a day" is: midnight to midnight in the report's time zone (23 or 25 hours on DST days)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of ``day`` in ``zone``."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def period_window(last_day: date, days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of the ``days`` days that end with ``last_day``."""
    return day_window(last_day - timedelta(days=days - 1), zone)[0], day_window(last_day, zone)[1]


def period_name(days: int) -> str:
    """``day`` or ``week``: how a report's period is stored and named in links."""
    return "week" if days == 7 else "day"


def previous_day(now: datetime, zone: ZoneInfo) -> date:
    """The day before the one ``now`` falls on in ``zone`` (what the nightly report covers)."""
    return now.astimezone(zone).date() - timedelta(days=1)
