"""Inspect rendered HTML: element ids, in-page links, tags, and anything that would run."""

from __future__ import annotations

from html.parser import HTMLParser


class Anchors(HTMLParser):
    """Collects element ids, in-page links, tag names and live (scriptable) attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.fragment_links: list[str] = []
        self.hrefs: list[str] = []
        self.tags: set[str] = set()
        self.live: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name == "id" and value:
                self.ids.append(value)
            if name == "href" and value is not None:
                self.hrefs.append(value)
                if value.startswith("#"):
                    self.fragment_links.append(value[1:])
            if name.startswith("on") or (value or "").strip().lower().startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.live.append(f"{tag} {name}={value}")


def parse(html: str) -> Anchors:
    parser = Anchors()
    parser.feed(html)
    return parser
