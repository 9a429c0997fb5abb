"""Render the comment posted on a commit: the analysis, the coverage line, a hidden marker.

Everything that came from the commit or the model is neutralised for GitHub: no HTML, no
links, no @mentions, no issue references (``markdown_text.for_github``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from report.data import Coverage
from report.markdown_text import for_github
from report.render import environment
from report.schema import Analysis

MARKER_PREFIX = "<!-- commit-digest:"
_MARKER = re.compile(r"<!-- commit-digest:([0-9a-f]{40}) -->")
OMITTED_SHOWN = 8


def marker_for(sha: str) -> str:
    """The hidden line that identifies our comment on commit ``sha``."""
    return f"{MARKER_PREFIX}{sha} -->"


def is_ours(body: str, sha: str) -> bool:
    """Whether a comment body is the one commit-digest posted for ``sha``."""
    return any(found == sha for found in _MARKER.findall(body))


@dataclass(frozen=True)
class PeopleNotes:
    """What people with access said about the commit through ``/digest`` commands."""

    importance: str | None = None
    ignored: bool = False
    set_by: str | None = None
    set_on: str | None = None
    help: bool = False
    refused: tuple[str, ...] = ()


def render_comment(
    *,
    people: PeopleNotes | None = None,
    sha: str,
    analysis: Analysis,
    language: str,
    coverage: Coverage,
    analyzer: str,
    model: str | None,
) -> str:
    """The Markdown body of the comment for ``sha``."""
    env = environment()
    labels: Any = env.get_template(f"labels.{language}.j2").make_module()
    omitted = [f"`{_code(path)}`" for path in coverage.omitted[:OMITTED_SHOWN]]
    if len(coverage.omitted) > OMITTED_SHOWN:
        omitted.append(str(labels.more(len(coverage.omitted) - OMITTED_SHOWN)))
    footer = ["commit-digest", str(labels.coverage(coverage, ", ".join(omitted)))]
    if analyzer == "heuristic":
        footer.append(str(labels.heuristic(None, "")))
    elif model:
        footer.append(f"🤖 {for_github(model)}")
    notes = _people_lines(people, analysis.importance, labels) if people else []
    return env.get_template("comment.md.j2").render(
        notes=notes,
        language=language,
        sha=sha,
        a=analysis,
        summary=for_github(analysis.summary),
        scope=[{"area": _code(s.area), "note": for_github(s.note)} for s in analysis.impact_scope],
        insights=[
            (name, for_github(text))
            for name, text in analysis.insights.model_dump().items()
            if text.strip()
        ],
        risks=[for_github(r) for r in analysis.risks if r.strip()],
        recommendations=[for_github(r) for r in analysis.recommendations if r.strip()],
        footer=" · ".join(footer),
    )


def _people_lines(people: PeopleNotes, importance: str, labels: Any) -> list[str]:
    """One line per thing people said; logins are shown as code, so nobody is pinged."""
    lines = []
    by = f"`{_code(people.set_by or '')}`"
    if people.importance and people.importance != importance:
        lines.append(str(labels.override(people.importance, importance, by, people.set_on)))
    if people.ignored:
        lines.append(str(labels.ignored(by, people.set_on)))
    for login in people.refused:
        lines.append(str(labels.refused(f"`{_code(login)}`")))
    if people.help:
        lines.append(str(labels.commands_help()))
    return lines


def _code(text: str) -> str:
    return " ".join(text.replace("`", "'").split())
