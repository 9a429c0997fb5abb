"""Commit text loses terminal escape sequences and control characters before it is printed."""

from __future__ import annotations

import pytest

from report.markdown_text import without_controls as printable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fix: \x1b[31mred\x1b[0m text", "fix: red text"),
        ("title \x1b]0;pwned\x07 here", "title  here"),
        ("link \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", "link click"),
        ("clear\x1b[2J\x1b[H screen", "clear screen"),
        ("bell\x07 back\x08space cr\roverwrite", "bell backspace cr overwrite"),
        ("keeps\nlines\tand tabs, ünïcode — 🚀", "keeps\nlines\tand tabs, ünïcode — 🚀"),
    ],
)
def test_printable_strips_terminal_control(text: str, expected: str) -> None:
    """Escape sequences and control characters are removed; newlines, tabs and Unicode stay."""
    assert printable(text) == expected
