"""The reference day (ai-dynamo/dynamo, 2026-02-03, 14 commits) rendered with every part.

``docs/reference-day.<language>.md`` is what the report makes of that day today
(``UPDATE_GOLDEN=1`` rewrites them); the README shows its page.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from commit_digest.reporting.convert import markdown_to_html
from report.render import render_markdown

from support.reference_day import reference_day

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_reference_day_is_rendered_as_the_docs_show_it(language: str) -> None:
    """The rendered day and the copy in docs/ are the same."""
    rendered = render_markdown(reference_day(language), language)
    kept = DOCS / f"reference-day.{language}.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        kept.write_text(rendered)
    assert rendered == kept.read_text()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_reference_day_has_every_part(language: str) -> None:
    """At a glance, the repositories (two quiet), trends, people, PRs, all 14 commits linked."""
    text = render_markdown(reference_day(language), language)
    for anchor in ("glance", "overview", "trends", "people", "r-ai-dynamo-dynamo-pulls"):
        assert f'<a id="{anchor}"></a>' in text, anchor
    glance = text.split('<a id="glance"></a>', 1)[1].split("\n## ", 1)[0]
    assert 3 <= glance.count("\n- ") + glance.startswith("- ") <= 5
    assert glance.index("902eabd") < glance.index("3b9b3f3")  # the breaking change first
    assert text.count("| 0 |") >= 2  # the two repositories without commits
    links = set(re.findall(r"https://github\.com/ai-dynamo/dynamo/commit/([0-9a-f]{40})", text))
    assert len(links) == 14
    assert len(set(re.findall(r"/pull/(\d+)\)", text))) == 14
    # a type name in a code span stays code: `Mutex<HashMap>`, never &lt; in the page
    html = markdown_to_html(text)
    assert "<code" in html
    assert "Mutex&lt;HashMap&gt;</code>" in html
    assert "&amp;lt;" not in html
