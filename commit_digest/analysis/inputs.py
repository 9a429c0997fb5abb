"""What an analyzer looks at: one commit's metadata and its changed files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FileChange:
    path: str
    status: str  # added, removed, modified, renamed, copied, changed, unchanged
    additions: int | None = None
    deletions: int | None = None
    patch: str | None = field(default=None, repr=False)  # None: binary, too large, or unknown
    previous_path: str | None = None

    @property
    def changed_lines(self) -> int:
        return (self.additions or 0) + (self.deletions or 0)


@dataclass(frozen=True)
class CommitInput:
    repository: str
    sha: str
    message: str
    author: str | None
    files: tuple[FileChange, ...]
    # GitHub lists at most 3000 files; the commit may have more
    files_total: int
    source: str  # github: fetched from the API; delivery: only what the webhook carried
    committed_at: datetime | None = None

    @property
    def subject(self) -> str:
        return self.message.strip().splitlines()[0] if self.message.strip() else ""
