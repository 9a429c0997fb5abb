"""Render the comment posted on a commit: the analysis, the coverage line, a hidden marker.

Everything that came from the commit or the model is neutralised for GitHub: no HTML, no
links, no @mentions, no issue references (``markdown_text.for_github``).
"""

from __future__ import annotations

import re
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


def render_comment(
    *,
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
    return env.get_template("comment.md.j2").render(
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


def _code(text: str) -> str:
    return " ".join(text.replace("`", "'").split())
