"""What a chat message says, before any platform's format: a title, lines, a link, mentions.

Two kinds go out: the daily report's summary (``report``) and an immediate ``alert`` for a
commit at or above a chosen importance. The platform modules turn one ``ChatMessage`` into
that platform's own card or Markdown, within its size limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["report", "alert"]

# C0/C1 controls and escape sequences have no place in a chat card (they come from commit text)
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Mention:
    """A person to notify: their GitHub login and their id on the chat platform."""

    login: str
    chat_id: str


@dataclass(frozen=True)
class ChatMessage:
    """One message for every platform: plain text lines, each one short Markdown-free sentence."""

    kind: Kind
    title: str
    lines: tuple[str, ...]
    link: str | None = None
    link_label: str = "Open"
    mentions: tuple[Mention, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", clean_text(self.title))
        object.__setattr__(self, "lines", tuple(clean_text(line) for line in self.lines))


def clean_text(text: str) -> str:
    """Text with control characters and terminal escape sequences removed."""
    return _CONTROL.sub("", text).replace("\t", " ")
