"""Put untrusted text (commit messages, names, model output) into Markdown as plain text.

Nothing from a commit or a model may become HTML, a link, an image or a block of our layout:
``<``, ``>`` and ``&`` outside code spans become entities, brackets are escaped so no link or
image syntax survives, and line breaks are folded so no heading, list or quote can be started.
Inline code and emphasis stay, since they cannot do harm and make model output readable.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"[&<>\[\]\\]")
# terminal escape sequences (CSI, OSC, other ESC forms) and every other C0/C1 control but
# tab and newline: commit text may carry them, and they must reach no report, email or terminal
_CONTROLS = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]?"  # CSI, 7-bit and 8-bit, with parameters
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?"  # OSC, other ESC forms
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9a\x9c-\x9f]"  # the rest but tab, newline, CR
)


def without_controls(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (tab, newline stay)."""
    if "\r" in text:  # a carriage return separates words (and must not rewrite a terminal line)
        text = text.replace("\r\n", "\n").replace("\r", " ")
    return _CONTROLS.sub("", text) if _CONTROLS.search(text) else text


_ENTITIES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "\\[", "]": "\\]", "\\": "\\\\"}
)


def inline(text: str | None) -> str:
    """One line of plain text, safe anywhere in a Markdown line."""
    if not text:
        return ""
    line = " ".join(without_controls(text).split())
    if "`" not in line:
        # most text has nothing to escape; skip the translation (a dict lookup per character)
        return line.translate(_ENTITIES) if _SPECIAL.search(line) else line
    return "".join(_escape_outside_code(line))


_BACKTICKS = re.compile(r"`+")


def _escape_outside_code(line: str) -> list[str]:
    """Pieces of ``line`` with text escaped and code spans kept verbatim (issue 16).

    Markdown shows a code span's content as written, so escaping it would show ``&lt;``; the
    sanitiser guards the HTML instead. A backtick run with no closing run of the same length
    is literal text and is escaped so it cannot pair with backticks that follow it.
    """
    pieces: list[str] = []
    position = 0
    runs = list(_BACKTICKS.finditer(line))
    index = 0
    while index < len(runs):
        opener = runs[index]
        closer = next(
            (j for j in range(index + 1, len(runs)) if len(runs[j][0]) == len(opener[0])), None
        )
        plain = line[position : opener.start()]
        pieces.append(plain.translate(_ENTITIES))
        if closer is None:
            pieces.append("\\`" * len(opener[0]))
            position = opener.end()
            index += 1
            continue
        pieces.append(line[opener.start() : runs[closer].end()])
        position = runs[closer].end()
        index = closer + 1
    pieces.append(line[position:].translate(_ENTITIES))
    return pieces


def cell(text: str | None) -> str:
    """One table cell: ``inline`` plus escaped pipes."""
    return inline(text).replace("|", "\\|")


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters at a word boundary, marking the cut with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"


def slug(text: str) -> str:
    """A stable, ASCII anchor fragment for a repository name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
# GH-12 is matched in any case (gh-12), as GitHub does
_ISSUE_REFERENCE = re.compile(r"(?<![\w&])(#|(?i:GH)-)(?=\d)")
# owner/repo#12 and owner/repo@sha link to (and leave a backlink on) another repository
_CROSS_REFERENCE = re.compile(r"(?<=[A-Za-z0-9_.\-]/)([A-Za-z0-9_.\-]+)([#@])(?=[0-9A-Fa-f])")
_URL_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|javascript|data)(:)")
_WWW = re.compile(r"(?i)\bwww\.")
_ZERO_WIDTH = "\u200b"


def for_github(text: str | None) -> str:
    """``inline`` text that also cannot mention anyone, reference an issue or become a link.

    GitHub turns ``@name`` into a notification, ``#12``, ``GH-12``, ``owner/repo#12`` and
    ``owner/repo@sha`` into cross-references (a backlink on the other repository) and bare
    URLs into links; a zero-width space after the trigger character keeps the text readable
    while defusing them all.
    """
    escaped = inline(text)
    escaped = _MENTION.sub("@" + _ZERO_WIDTH, escaped)
    escaped = _ISSUE_REFERENCE.sub(lambda m: m[1] + _ZERO_WIDTH, escaped)
    escaped = _CROSS_REFERENCE.sub(lambda m: m[1] + m[2] + _ZERO_WIDTH, escaped)
    escaped = _URL_SCHEME.sub(lambda m: m[1] + _ZERO_WIDTH + m[2], escaped)
    return _WWW.sub("www" + _ZERO_WIDTH + ".", escaped)
