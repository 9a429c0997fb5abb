"""Render a ``DayReport`` to Markdown: pure, deterministic, the date and zone passed in.

The template (``templates/report.md.j2``) holds the structure and ``labels.<language>.j2``
the phrases; this module turns plain data into escaped view values and anchors. Anchors are
explicit ``<a id>`` elements named from the repository and sha, so every table-of-contents
link resolves in the Markdown (GitHub) and in the HTML alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import jinja2

from report.data import DayCount, DayReport, Entry, RepositoryDay
from report.days import period_name
from report.markdown_text import cell, inline, slug, truncate
from report.schema import IMPORTANCE_ORDER, Analysis, ChangeType, Importance

# the languages there are templates for: the one list every part of the service uses
LANGUAGES = ("zh-CN", "en")
# With more low-importance entries than this, they are rendered one line each and only the
# section (not every entry) is listed in the table of contents, so long days stay readable.
COMPACT_LOW_AFTER = 20
TOC_TITLE_LIMIT = 60
# every field from a commit or a model is cut (with "…") to these many characters, so no one
# commit can make the report large: a 3 MB subject once made a 13 MB email
FIELD_LIMITS = {
    "subject": 300,
    "author": 100,
    "summary": 2_000,
    "area": 200,
    "note": 500,
    "insight": 1_000,
    "item": 500,
}
ITEMS_SHOWN = 20  # risks, recommendations and scope entries shown per commit


def _capped(text: str | None, kind: str) -> str:
    return inline(truncate(text or "", FIELD_LIMITS[kind]))


OMITTED_SHOWN = 8
HARD_BREAK = "  "
# Pieces for converting a long report a part at a time (report.html): cut after an entry's
# "---" line, or between the one-line entries of a compact low-importance list or of a
# repository's pull requests (a long day lists thousands: without a cut there, every new
# part would rescan the growing piece).
PIECE_CHARACTERS = 64 * 1024
_ENTRY_BOUNDARY = re.compile(r"\n---\n|\n(?=- <a id=\"c-)|\n(?=- \[#\d)")
_SPLIT_SLACK = 16 * 1024


@cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report and comment templates."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("report", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Markdown, not HTML: every value is escaped by report.markdown_text, and the HTML made
        # from it is sanitised by report.html
        autoescape=False,  # noqa: S701
    )


@dataclass(frozen=True)
class _EntryView:
    anchor: str
    short_sha: str
    url: str
    title: str
    toc_title: str
    a: Analysis | None
    summary: str
    scope: list[Any]
    insights: list[tuple[str, str]]
    risks: list[str]
    recommendations: list[str]
    notes: list[str]
    heuristic: bool
    pull: dict[str, Any] | None


def render_markdown(report: DayReport, language: str) -> str:
    """The report as Markdown in ``language`` (``zh-CN`` or ``en``)."""
    return "".join(render_markdown_pieces(report, language))


def render_markdown_pieces(
    report: DayReport, language: str, size: int = PIECE_CHARACTERS
) -> Iterator[str]:
    """The report's Markdown in pieces of about ``size`` characters, cut between entries.

    The pieces come as the template renders, one repository's views at a time, so a caller
    can convert one piece while the next is rendered; joined, they are ``render_markdown``.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unsupported report language {language!r}")
    env = environment()
    labels = env.get_template(f"labels.{language}.j2").make_module()
    template = env.get_template("report.md.j2")
    parts = template.generate(
        L=labels,
        br=HARD_BREAK,
        day=report.day.isoformat(),
        first=report.first_day.isoformat(),
        period=period_name(report.days),
        zone=report.timezone.key,
        warnings=[_capped(w, "note") for w in report.warnings],
        offset=_offsets(report),
        usage=report.usage,
        glance=_glance(report),
        overview=_overview(report),
        trends=_trends(report),
        people=_people(report) if report.people else [],
        repos=_Views(report, labels),
    )
    return split_markdown(parts, size)


class _Views:
    """The repositories' views, each made when the template reaches it (and then let go)."""

    def __init__(self, report: DayReport, labels: Any) -> None:
        self._report = report
        self._labels = labels

    def __len__(self) -> int:
        return len(self._report.repositories)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for repo in self._report.repositories:
            yield _repository_view(repo, self._report, self._labels)


def split_markdown(parts: Iterable[str], size: int = PIECE_CHARACTERS) -> Iterator[str]:
    """Join ``parts`` into pieces of about ``size`` characters, cut between entries.

    Runs of blank lines are folded to one. A piece ends after an entry's ``---`` line or
    before a one-line entry, at the first such place ``size`` characters or more into it;
    the pieces are the same whatever the ``parts`` were, and join to the folded text.
    """
    buffer = ""
    pending: list[str] = []
    waiting = 0
    threshold = size + _SPLIT_SLACK
    for part in parts:
        pending.append(part)
        waiting += len(part)
        if len(buffer) + waiting < threshold:
            continue
        buffer = _joined(buffer, pending)
        pending.clear()
        waiting = 0
        start = 0
        while (cut := _first_cut(buffer, start, size, final=False)) is not None:
            yield buffer[start:cut]
            start = cut
        buffer = buffer[start:]
        threshold = max(len(buffer), size) + _SPLIT_SLACK
    buffer = _joined(buffer, pending)
    start = 0
    while (cut := _first_cut(buffer, start, size, final=True)) is not None:
        yield buffer[start:cut]
        start = cut
    if start < len(buffer):
        yield buffer[start:]


def _joined(folded: str, parts: list[str]) -> str:
    """``folded`` (already folded) followed by ``parts``, folded.

    Only the new text, and the line breaks at the end of ``folded`` it may continue, are
    scanned again.
    """
    kept = folded.rstrip("\n")
    return kept + _fold(folded[len(kept) :] + "".join(parts))


def _fold(text: str) -> str:
    """Runs of three or more line breaks made two (str.replace: 7 ms for 7.2 MB, re.sub 120 ms)."""
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def _first_cut(text: str, start: int, size: int, *, final: bool) -> int | None:
    """Where the piece of ``text`` that begins at ``start`` ends, or None if not known yet.

    Before the end of the text (``final`` false), a cut counts only once the blank lines
    after it are complete: text still to come could otherwise extend their run.
    """
    # a boundary is at most 5 characters long: one ending ``size`` in starts after this
    for boundary in _ENTRY_BOUNDARY.finditer(text, start + max(0, size - 5)):
        end = boundary.end()
        if end - start < size:
            continue
        if final:
            return end
        after = end
        while after < len(text) and text[after] == "\n":
            after += 1
        return end if after < len(text) else None
    return None


def _offsets(report: DayReport) -> str:
    start = datetime.combine(report.day, datetime.min.time(), tzinfo=report.timezone)
    end = start + timedelta(hours=23, minutes=59)
    first, last = _utc_offset(start), _utc_offset(end.astimezone(report.timezone))
    return first if first == last else f"{first} → {last}"


def _utc_offset(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _sort_key(entry: Entry) -> tuple[float, str]:
    return (-entry.committed_at.timestamp(), entry.sha)


def _repository_view(repo: RepositoryDay, report: DayReport, labels: Any) -> dict[str, Any]:
    anchor = f"r-{slug(repo.name)}"
    entries = sorted(repo.entries, key=_sort_key)
    views = {e.sha: _entry_view(e, anchor, labels) for e in entries}
    sections = []
    for importance in IMPORTANCE_ORDER:
        chosen = [e for e in entries if e.importance is importance]
        if chosen:
            compact = importance.value == "low" and len(chosen) > COMPACT_LOW_AFTER
            sections.append(
                {
                    "key": importance.value,
                    "anchor": f"{anchor}-{importance.value}",
                    "entries": [views[e.sha] for e in chosen],
                    "compact": compact,
                    "list_in_toc": not compact,
                }
            )
    pending = [e for e in entries if e.analysis is None]
    if pending:
        sections.append(
            {
                "key": "pending",
                "anchor": f"{anchor}-pending",
                "entries": [views[e.sha] for e in pending],
                "compact": False,
                "list_in_toc": True,
            }
        )
    return {
        "name": inline(repo.name),
        "anchor": anchor,
        "rows": [
            {
                "time": e.committed_at.astimezone(report.timezone).strftime("%Y-%m-%d %H:%M:%S"),
                "author": cell(truncate(e.author or "", FIELD_LIMITS["author"])),
                "message": cell(truncate(e.subject, FIELD_LIMITS["subject"])),
            }
            for e in entries
        ],
        "total": len(entries),
        "counts": {
            "high": len(repo.by_importance(IMPORTANCE_ORDER[0])),
            "medium": len(repo.by_importance(IMPORTANCE_ORDER[1])),
            "low": len(repo.by_importance(IMPORTANCE_ORDER[2])),
            "pending": len(pending),
        },
        "usage": repo.usage,
        "heuristic_count": sum(1 for e in entries if e.analyzer == "heuristic"),
        "sections": sections,
        "pulls": _pull_groups(entries),
    }


def _entry_view(entry: Entry, repo_anchor: str, labels: Any) -> _EntryView:
    analysis = entry.analysis
    notes: list[str] = []
    if entry.coverage is not None and entry.coverage.partial:
        omitted = [f"`{_code(path)}`" for path in entry.coverage.omitted[:OMITTED_SHOWN]]
        rest = len(entry.coverage.omitted) - OMITTED_SHOWN
        if rest > 0:
            omitted.append(str(labels.more(rest)))
        notes.append(str(labels.coverage(entry.coverage, ", ".join(omitted))))
    if entry.analyzer == "heuristic":
        notes.append(str(labels.heuristic(entry.source, inline(entry.fallback_reason))))
    if entry.importance_set_by:
        notes.append(str(labels.importance_set_by(f"`{_code(entry.importance_set_by)}`")))
    return _EntryView(
        anchor=f"c-{repo_anchor[2:]}-{entry.sha[:12]}",
        short_sha=entry.sha[:7],
        url=entry.url,
        title=_capped(entry.subject, "subject"),
        toc_title=inline(truncate(entry.subject, TOC_TITLE_LIMIT)),
        a=analysis,
        summary=_capped(analysis.summary, "summary") if analysis else "",
        scope=[
            {"area": _code(truncate(s.area, FIELD_LIMITS["area"])), "note": _capped(s.note, "note")}
            for s in analysis.impact_scope[:ITEMS_SHOWN]
        ]
        if analysis
        else [],
        insights=[
            (name, _capped(text, "insight"))
            for name, text in (analysis.insights.model_dump().items() if analysis else [])
            if text.strip()
        ],
        risks=[_capped(r, "item") for r in analysis.risks[:ITEMS_SHOWN] if r.strip()]
        if analysis
        else [],
        recommendations=[
            _capped(r, "item") for r in analysis.recommendations[:ITEMS_SHOWN] if r.strip()
        ]
        if analysis
        else [],
        notes=notes,
        heuristic=entry.analyzer == "heuristic",
        pull=_pull_view(entry),
    )


def _pull_view(entry: Entry) -> dict[str, Any] | None:
    if entry.pull is None:
        return None
    return {
        "number": entry.pull.number,
        "title": _capped(entry.pull.title, "subject"),
        "url": entry.pull.url,
        # a squash commit's subject is its PR's title and number: not said twice
        "title_differs": not entry.subject.startswith(entry.pull.title.strip()),
    }


def _pull_groups(entries: list[Entry]) -> list[dict[str, Any]]:
    """The pull requests the day's commits came in through, each with its commits (newest first).

    A squash- or merge-commit stands for its pull request alone; a rebase-merged one brings
    several commits, all listed under it.
    """
    groups: dict[int, dict[str, Any]] = {}
    for entry in entries:
        if entry.pull is None:
            continue
        group = groups.get(entry.pull.number)
        if group is None:
            group = groups[entry.pull.number] = {**(_pull_view(entry) or {}), "commits": []}
        group["commits"].append(
            {
                "short_sha": entry.sha[:7],
                "url": entry.url,
                "mark": entry.importance.value if entry.importance else "pending",
            }
        )
    return sorted(groups.values(), key=lambda g: -int(g["number"]))


def _code(text: str) -> str:
    """Text shown inside a code span: backticks and line breaks removed."""
    return " ".join(text.replace("`", "'").split())


# --- the day as a whole: at a glance, the repositories, the trends, the people ---------------

GLANCE_ITEMS = 5
GLANCE_SENTENCE = 240
CHART_DAYS = 14
CHART_WIDTH = 12  # characters of the longest bar (fits a phone's width)
AREAS_SHOWN = 5
PEOPLE_SHOWN = 30


def _first_sentence(text: str) -> str:
    """The first sentence of a stored summary (both languages' full stops), capped."""
    match = re.match(r"(.+?[.!?。！？])(\s|$)", text.strip(), re.S)
    return truncate(match[1] if match else text.strip(), GLANCE_SENTENCE)


def _glance_rank(entry: Entry) -> tuple[int, int, int, int, float]:
    a = entry.analysis
    assert a is not None
    return (
        0 if a.breaking_change else 1,
        0 if a.change_type is ChangeType.SECURITY else 1,
        IMPORTANCE_ORDER.index(a.importance),
        0 if any(r.strip() for r in a.risks) else 1,
        -entry.committed_at.timestamp(),
    )


def _glance(report: DayReport) -> list[dict[str, Any]]:
    """The few things that mattered: breaking changes, security fixes, high importance, risks.

    Every line is a stored analysis's own words (its summary's first sentence, its first
    risk), citing its commit; nothing is written here that no analysis said.
    """
    analysed = [e for r in report.repositories for e in r.entries if e.analysis is not None]
    chosen = [
        e
        for e in sorted(analysed, key=_glance_rank)
        if e.analysis is not None
        and (
            e.analysis.breaking_change
            or e.analysis.change_type is ChangeType.SECURITY
            or e.analysis.importance is Importance.HIGH
        )
    ][:GLANCE_ITEMS]
    items = []
    for entry in chosen:
        a = entry.analysis
        assert a is not None
        risk = next((r for r in a.risks if r.strip()), "")
        items.append(
            {
                "importance": a.importance.value,
                "repository": inline(entry.repository),
                "short_sha": entry.sha[:7],
                "url": entry.url,
                "sentence": inline(_first_sentence(a.summary)),
                "breaking": a.breaking_change,
                "security": a.change_type is ChangeType.SECURITY,
                "risk": inline(_first_sentence(risk)) if risk else "",
                "pull": _pull_view(entry),
            }
        )
    return items


def _overview(report: DayReport) -> dict[str, Any] | None:
    """Every repository of the report with its counts; those without commits said so."""
    if len(report.repositories) + len(report.quiet) < 2:
        return None
    rows = [
        {
            "name": cell(repo.name),
            "anchor": f"r-{slug(repo.name)}",
            "total": len(repo.entries),
            "high": len(repo.by_importance(Importance.HIGH)),
            "medium": len(repo.by_importance(Importance.MEDIUM)),
            "low": len(repo.by_importance(Importance.LOW)),
            "pending": len(repo.pending),
        }
        for repo in report.repositories
        if repo.entries
    ]
    quiet = sorted({*report.quiet, *(r.name for r in report.repositories if not r.entries)})
    rows += [{"name": cell(name), "anchor": None, "total": 0} for name in quiet]
    return {"rows": rows, "pending": any(row.get("pending") for row in rows)}


def _churn(entry: Entry) -> int:
    return entry.coverage.lines_total if entry.coverage is not None else 0


def _top_area(area: str) -> str:
    """The top-level directory of an impact area (``src/auth/x.py`` → ``src/``)."""
    clean = area.strip().strip("`").lstrip("./")
    head, sep, _ = clean.partition("/")
    return f"{head}/" if sep else clean


def _areas(entries: Iterable[Entry]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.analysis is None:
            continue
        for area in {_top_area(s.area) for s in entry.analysis.impact_scope if s.area.strip()}:
            counts[area] = counts.get(area, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:AREAS_SHOWN]


def _trends(report: DayReport) -> dict[str, Any] | None:
    """Today against the previous seven days (a week: against the week before), and the last
    14 days as bars (text: every mail client shows it; the web page draws the same numbers as
    an SVG chart)."""
    if not report.history:
        return None
    entries = [e for r in report.repositories for e in r.entries]
    now = DayCount(
        report.day,
        len(entries),
        sum(1 for e in entries if e.importance is Importance.HIGH),
        sum(_churn(e) for e in entries),
    )
    if report.days == 1:
        before = list(report.history[-7:])
        days = [*report.history[-(CHART_DAYS - 1) :], now]
    else:
        # the chart's days are the week before and this one; compared as two totals
        earlier = report.history[: -report.days]
        before = [
            DayCount(
                report.first_day,
                sum(d.commits for d in earlier),
                sum(d.high for d in earlier),
                sum(d.churn for d in earlier),
            )
        ]
        days = list(report.history[-CHART_DAYS:])

    def compare(value: int, field: str) -> dict[str, Any]:
        average = sum(getattr(d, field) for d in before) / max(len(before), 1)
        change = None if average == 0 else round(100 * (value - average) / average)
        # one decimal where it tells something (2.4 commits), none for hundreds of lines
        shown = f"{average:,.1f}" if average < 100 else f"{average:,.0f}"
        return {"today": value, "average": shown.removesuffix(".0"), "change": change}

    longest = max((d.commits for d in days), default=0) or 1
    return {
        "commits": compare(now.commits, "commits"),
        "high": compare(now.high, "high"),
        "churn": compare(now.churn, "churn"),
        "days": len(before),
        "period": period_name(report.days),
        "areas": [{"area": _code(a), "count": n} for a, n in _areas(entries)],
        "chart": [
            {
                "day": d.day.strftime("%m-%d"),
                "commits": d.commits,
                "high": d.high,
                "bar": "█" * round(CHART_WIDTH * d.commits / longest) or ("▏" if d.commits else ""),
                "today": report.first_day <= d.day <= report.day,
            }
            for d in days
        ],
    }


def _people(report: DayReport) -> list[dict[str, Any]]:
    """One row per author: commits, importance mix, lines changed, areas touched."""
    by_author: dict[str, list[Entry]] = {}
    for repo in report.repositories:
        for entry in repo.entries:
            by_author.setdefault(entry.author or "—", []).append(entry)
    rows = []
    for author, entries in sorted(by_author.items(), key=lambda item: (-len(item[1]), item[0])):
        rows.append(
            {
                "author": cell(truncate(author, FIELD_LIMITS["author"])),
                "commits": len(entries),
                "high": sum(1 for e in entries if e.importance is Importance.HIGH),
                "medium": sum(1 for e in entries if e.importance is Importance.MEDIUM),
                "low": sum(1 for e in entries if e.importance is Importance.LOW),
                "churn": sum(_churn(e) for e in entries),
                "areas": ", ".join(f"`{_code(a)}`" for a, _ in _areas(entries)[:3]),
            }
        )
    return rows[:PEOPLE_SHOWN]
