"""The trends chart as inline SVG for the web page; the email keeps the table (mail clients
strip SVG).

The numbers come from the report's own chart table, so the page shows exactly what the stored
report (and its email) said: the table is found after the trends heading, read, and replaced
by a bar chart with the same numbers as its accessible text. Nothing untrusted reaches the
SVG: it is made of dates and counts only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 180
TOP = 18  # room for the largest count above its bar
BOTTOM = 22  # room for the day labels
COMMITS = "#0969da"
HIGH = "#cf222e"

_TRENDS = re.compile(r'<a [^>]*\bid="trends"[^>]*></a>')
_TABLE = re.compile(r"<table\b.*?</table>", re.S)
_ROW = re.compile(
    r"<tr>\s*<td[^>]*>(?:<strong[^>]*>)?(?P<day>\d{2}-\d{2})(?P<today></strong>)?</td>"
    r"\s*<td[^>]*>(?P<commits>\d+)</td>\s*<td[^>]*>(?P<high>\d+)</td>",
)


@dataclass(frozen=True)
class Bar:
    day: str  # MM-DD
    commits: int
    high: int
    today: bool


def chart_bars(html: str) -> tuple[list[Bar], tuple[int, int] | None]:
    """The bars of the trends chart table in ``html`` and the table's span (None: no chart)."""
    heading = _TRENDS.search(html)
    if heading is None:
        return [], None
    table = _TABLE.search(html, heading.end())
    if table is None:
        return [], None
    bars = [
        Bar(m["day"], int(m["commits"]), int(m["high"]), bool(m["today"]))
        for m in _ROW.finditer(table[0])
    ]
    return bars, (table.start(), table.end()) if bars else None


def svg_chart(bars: list[Bar], title: str) -> str:
    """A bar chart of commits per day, the high-importance part in red, today outlined."""
    longest = max((b.commits for b in bars), default=0) or 1
    slot = WIDTH / max(len(bars), 1)
    width = max(slot * 0.7, 2.0)
    plot = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{_text(title)}" style="width:100%;max-width:{WIDTH}px;height:auto;'
        'display:block;margin:0 0 14px;font-family:inherit;">',
        f"<title>{_text(title)}</title>",
        f'<line x1="0" y1="{TOP + plot}" x2="{WIDTH}" y2="{TOP + plot}" '
        'stroke="currentColor" stroke-opacity="0.3"/>',
    ]
    for index, bar in enumerate(bars):
        x = index * slot + (slot - width) / 2
        tall = plot * bar.commits / longest
        high = plot * bar.high / longest
        middle = x + width / 2
        label = f"{bar.day}: {bar.commits} commits, {bar.high} high"
        parts.append(f"<g><title>{label}</title>")
        if bar.commits:
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot - tall:.1f}" width="{width:.1f}" '
                f'height="{tall:.1f}" fill="{COMMITS}" fill-opacity="{1 if bar.today else 0.55}"/>'
            )
        if bar.high:
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot - high:.1f}" width="{width:.1f}" '
                f'height="{high:.1f}" fill="{HIGH}"/>'
            )
        parts.append(
            f'<text x="{middle:.1f}" y="{TOP + plot - tall - 4:.1f}" font-size="11" '
            f'text-anchor="middle" fill="currentColor">{bar.commits}</text>'
        )
        weight = ' font-weight="bold"' if bar.today else ""
        parts.append(
            f'<text x="{middle:.1f}" y="{HEIGHT - 6}" font-size="10" text-anchor="middle" '
            f'fill="currentColor"{weight}>{bar.day}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


TITLES = {
    "en": "Commits per day, the last 14 days (red: high importance)",
    "zh-CN": "近 14 天每日提交数（红色：高重要度）",
}


def with_svg_chart(html: str, language: str) -> str:
    """``html`` (a report page's body) with its trends table drawn as an SVG chart."""
    bars, span = chart_bars(html)
    if span is None:
        return html
    start, end = span
    return html[:start] + svg_chart(bars, TITLES.get(language, TITLES["en"])) + html[end:]


def _text(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
