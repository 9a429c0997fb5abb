"""Text from commits and models never creates a backlink on another repository."""

from __future__ import annotations

import re

import pytest

from report.markdown_text import for_github

ZW = "\u200b"
# what GitHub links: #N, GH-N, owner/repo#N, owner/repo@sha, URLs, @mentions
LIVE = re.compile(
    r"(?<![\w&])#\d|(?<!\w)GH-\d|[\w.-]+/[\w.-]+#\d|[\w.-]+/[\w.-]+@[0-9a-f]{7}|https?://|@[A-Za-z0-9]"
)


@pytest.mark.parametrize(
    "text",
    [
        "fixes octo-org/octo-repo#12 and GH-34",
        "see kubernetes/kubernetes#101 (upstream)",
        "ported from torvalds/linux@1da177e4c3f4",
        "tracked in https://github.com/acme/other/issues/7",
        "thanks @octocat, closes #5",
        "cc acme/app#1,acme/app#2",
    ],
)
def test_no_reference_survives(text: str) -> None:
    """Every kind of reference is defused; the text still reads the same without the marks."""
    shown = for_github(text)
    assert LIVE.search(shown) is None, shown
    assert shown.replace(ZW, "") == text


def test_ordinary_text_is_left_alone() -> None:
    """Paths, versions and hex-looking words without a reference shape are unchanged."""
    text = "bump lib/v2.3 in src/a.py; cafe is not a sha; issue count: 12"
    assert for_github(text) == text


def test_lower_case_gh_reference_is_neutralised() -> None:
    """gh-7 is broken by a zero-width space like GH-7."""
    assert for_github("closes gh-7") == "closes gh-\u200b7"
