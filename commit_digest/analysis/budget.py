"""Fit a commit's diff to the prompt's token budget, leaving out the least telling parts first.

Every file the budget allows is listed by a header line (``--- path (status, +a -d)``); then
hunks are added file by file in priority order: source before configuration, tests and docs,
and lockfiles, vendored, generated, minified and binary files last. A file that does not fit
whole keeps the hunks with the most changed lines that fit, in their original order. Hunks are
never cut, and whatever is left out is named in ``omitted`` and summed up in the text.

Only what may be sent is tokenized: a hunk that cannot fit is rejected on a lower bound of its
token count known without tokenizing, and one that might is counted only up to the room left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.paths import PathKind, classify
from commit_digest.analysis.tokens import TokenCounter

# Most telling first, after the importance rubric: runtime code, then what is visible but
# contained, then tests and docs, then what a reviewer skips.
PRIORITY: tuple[PathKind, ...] = (
    PathKind.SOURCE,
    PathKind.TYPES,
    PathKind.CONFIG,
    PathKind.BUILD,
    PathKind.CI,
    PathKind.TOOLING,
    PathKind.EXAMPLE,
    PathKind.TEST,
    PathKind.DOCS,
    PathKind.GENERATED,
    PathKind.MINIFIED,
    PathKind.VENDORED,
    PathKind.LOCKFILE,
    PathKind.BINARY,
)
_RANK = {kind: rank for rank, kind in enumerate(PRIORITY)}
# Header lines may take at most this share of the budget, so that a commit of thousands of
# files still shows some of its diff.
HEADER_SHARE = 0.5
# No hunk is cheaper: its @@ line and one changed line are tokens of their own.
_MIN_HUNK_TOKENS = 2
# Characters tokenized for hunks that then did not fit, after which only hunks sure to fit
# (no more UTF-8 bytes than tokens left) are tried: when the room left is about the size of
# the remaining hunks, trying each would tokenize a diff of any size for a handful of tokens.
_MISSES_CHARS = 1_000_000


@dataclass(frozen=True)
class BudgetedDiff:
    """The diff text for the prompt and how much of the commit it covers."""

    text: str
    # files with changed lines in the text, or nothing to show (binary, pure renames)
    files_analysed: int
    # the commit's count, which may exceed the files GitHub listed
    files_total: int
    # +/- lines of the kept hunks (GitHub's figures for a file sent whole)
    lines_analysed: int
    lines_total: int
    # files left out entirely or in part, in the commit's order
    omitted: tuple[str, ...]
    tokens: int
    # paths whose hunks are in ``text`` (what a redaction pass must have seen)
    diff_paths: tuple[str, ...] = ()


@dataclass(slots=True)
class _Hunk:
    index: int
    patch: str
    start: int
    end: int
    at_least: int  # a token count the hunk needs at least, raised when it misses
    tokens: int | None = None  # the exact count, once known
    _changed: int | None = None

    @property
    def text(self) -> str:
        text = self.patch[self.start : self.end]
        return text if text.endswith("\n") else text + "\n"

    @property
    def changed(self) -> int:
        """Return how many of the hunk's lines are additions or deletions."""
        if self._changed is None:
            # The hunk starts with its @@ line, so every content line follows a line break.
            self._changed = self.patch.count("\n+", self.start, self.end) + self.patch.count(
                "\n-", self.start, self.end
            )
        return self._changed

    @property
    def lines_bound(self) -> int:
        """Return the tokens its lines need at least: its @@ line and each changed line."""
        # In cl100k a line holding a non-space character adds a token of its own.
        return self.changed + (1 if self.patch.startswith("@@", self.start) else 0)


@dataclass
class _File:
    index: int
    change: FileChange
    rank: int
    header: str
    max_token_bytes: int
    shown: bool = False
    kept: set[int] = field(default_factory=set)
    _hunks: list[_Hunk] | None = None

    @property
    def hunks(self) -> list[_Hunk]:
        if self._hunks is None:
            self._hunks = _split_hunks(self.change.patch or "", self.max_token_bytes)
        return self._hunks

    @property
    def stats_known(self) -> bool:
        return self.change.additions is not None or self.change.deletions is not None

    @property
    def lines_total(self) -> int:
        if self.stats_known:
            return self.change.changed_lines
        return sum(hunk.changed for hunk in self.hunks)

    @property
    def lines_kept(self) -> int:
        if not self.kept:
            return 0
        if len(self.kept) == len(self.hunks):
            # GitHub's figures, not a count of the patch: a redacted key block is one line
            return self.lines_total
        kept = sum(hunk.changed for hunk in self.hunks if hunk.index in self.kept)
        return min(kept, self.lines_total) if self.stats_known else kept

    @property
    def complete(self) -> bool:
        """Tell whether everything there is to see of this file is in the text."""
        if not self.shown:
            return False
        if not self.kept:
            return not self.change.patch and self.lines_total == 0
        return len(self.kept) == len(self.hunks)


class _Selection:
    """The headers and hunks chosen so far, in order, and the tokens left for more."""

    def __init__(self, counter: TokenCounter, room: int) -> None:
        self.counter = counter
        self.room = room
        self.chosen: list[tuple[_File, _Hunk | None]] = []
        self.misses_left = _MISSES_CHARS

    def show_headers(self, by_priority: list[_File], share: float) -> None:
        """List files by their header line, most telling first, within ``share`` of the room."""
        header_room = int(self.room * share)
        for file in by_priority:
            cost = self.counter.count(file.header)
            if cost > min(self.room, header_room):
                return
            file.shown = True
            self.chosen.append((file, None))
            self.room -= cost
            header_room -= cost

    def keep_hunks(self, file: _File) -> None:
        """Keep ``file`` whole if it fits, else its hunks with the most changed lines that fit."""
        hunks = file.hunks
        if sum(hunk.at_least for hunk in hunks) <= self.room:
            used = 0
            for hunk in hunks:
                if not self._fits(hunk, self.room - used):
                    break
                used += hunk.tokens or 0
            else:
                self._keep(file, hunks, used)
                return
        # Fewer hunks than all are kept, so the note ends up at most this long.
        left = self.room - self.counter.count(_partial_note(len(hunks) - 1, len(hunks)))
        # Drop what cannot fit before sorting by changed lines, which reads every hunk whole.
        candidates = [hunk for hunk in hunks if hunk.at_least <= left]
        if self.misses_left <= 0:
            # only hunks of at most ``left`` bytes are tried now, and bytes are no fewer than
            # characters
            candidates = [hunk for hunk in candidates if hunk.end - hunk.start <= left]
        kept: list[_Hunk] = []
        for hunk in sorted(candidates, key=lambda h: (-h.changed, h.index)):
            if left < _MIN_HUNK_TOKENS:
                break
            if self._fits(hunk, left):
                kept.append(hunk)
                left -= hunk.tokens or 0
        if kept:
            self._keep(file, kept, self.room - left)

    def undo_last(self) -> None:
        """Take back the last choice."""
        file, hunk = self.chosen.pop()
        if hunk is None:
            file.shown = False
        else:
            file.kept.discard(hunk.index)

    def _keep(self, file: _File, hunks: list[_Hunk], tokens: int) -> None:
        file.kept.update(hunk.index for hunk in hunks)
        self.chosen.extend((file, hunk) for hunk in hunks)
        self.room -= tokens

    def _fits(self, hunk: _Hunk, room: int) -> bool:
        """Tell whether ``hunk`` fits in ``room`` tokens, tokenizing it only if it might."""
        if hunk.tokens is None:
            if hunk.at_least > room or hunk.lines_bound > room:
                return False
            text = hunk.text
            if self.misses_left <= 0 and self.counter.upper_bound(text) > room:
                return False
            count = self.counter.count_up_to(text, room)
            if count > room:
                hunk.at_least = max(hunk.at_least, room + 1)
                self.misses_left -= len(text)
                return False
            hunk.tokens = hunk.at_least = count
        return hunk.tokens <= room


def fit_diff_to_budget(commit: CommitInput, budget: int, counter: TokenCounter) -> BudgetedDiff:
    """Return the most telling part of ``commit``'s diff that fits in ``budget`` tokens."""
    budget = max(budget, 0)
    files = [
        _File(index, change, _RANK[classify(change.path)], _header(change), counter.max_token_bytes)
        for index, change in enumerate(commit.files)
    ]
    files_total = max(commit.files_total, len(files))
    by_priority = sorted(files, key=lambda f: (f.rank, f.index))

    # The closing line in its longest form is reserved up front, so it never pushes the text
    # over the budget.
    reserved = counter.count(_closing_line(files_total, files_total))
    selection = _Selection(counter, budget - reserved)
    selection.show_headers(by_priority, HEADER_SHARE)
    for file in by_priority:
        if selection.room < _MIN_HUNK_TOKENS:
            break
        if file.shown and file.change.patch:
            selection.keep_hunks(file)

    text = _render(files, files_total)
    tokens = counter.count(text)
    # For diff text the counts of the pieces add up to the count of the whole; only an odd
    # patch (text before its first @@ line, say) can make the whole count more.
    while tokens > budget and selection.chosen:
        selection.undo_last()
        text = _render(files, files_total)
        tokens = counter.count(text)
    if tokens > budget:
        text, tokens = "", 0

    return BudgetedDiff(
        text=text,
        files_analysed=sum(1 for f in files if f.shown and (f.kept or f.complete)),
        files_total=files_total,
        lines_analysed=sum(f.lines_kept for f in files),
        lines_total=sum(f.lines_total for f in files),
        omitted=tuple(f.change.path for f in files if not f.complete),
        tokens=tokens,
        diff_paths=tuple(f.change.path for f in files if f.kept),
    )


def split_hunks(patch: str) -> list[str]:
    """Split a unified-diff patch at its ``@@`` lines, each piece ending with a line break."""
    return [hunk.text for hunk in _split_hunks(patch, 1)]


def _split_hunks(patch: str, max_token_bytes: int) -> list[_Hunk]:
    """Split ``patch`` at its @@ lines into hunks that know a lower bound of their count."""
    if not patch:
        return []
    starts = [0]
    at = patch.find("\n@@", 1)
    while at != -1:
        starts.append(at + 1)
        at = patch.find("\n@@", at + 1)
    # Offsets rather than slices: most hunks of a large diff are never sent. No token is
    # longer than max_token_bytes, and a text has no fewer bytes than characters.
    return [
        _Hunk(index, patch, start, end, -(-(end - start) // max_token_bytes))
        for index, (start, end) in enumerate(zip(starts, [*starts[1:], len(patch)], strict=True))
    ]


def _header(change: FileChange) -> str:
    """Return the line that introduces ``change`` in the prompt."""
    facts = [f"renamed from {change.previous_path}" if change.previous_path else change.status]
    if change.additions is not None or change.deletions is not None:
        facts.append(f"+{change.additions or 0} -{change.deletions or 0}")
    if change.patch is None:
        facts.append("no diff")
    return f"--- {change.path} ({', '.join(facts)})\n"


def _partial_note(kept: int, total: int) -> str:
    return f"[{kept} of {total} hunks shown]\n"


def _closing_line(diffs_left_out: int, files_unlisted: int) -> str:
    """Return the line that says what the text leaves out, or "" when it leaves out nothing."""
    parts = []
    if diffs_left_out:
        parts.append(f"the diffs of {diffs_left_out} files listed above")
    if files_unlisted:
        parts.append(f"{files_unlisted} more changed files")
    return f"[not shown: {', '.join(parts)}]\n" if parts else ""


def _render(files: list[_File], files_total: int) -> str:
    """Return the prompt text of what is chosen, files in the commit's order."""
    pieces: list[str] = []
    diffs_left_out = 0
    for file in files:
        if not file.shown:
            continue
        pieces.append(file.header)
        if file.kept:
            hunks = file.hunks
            pieces.extend(hunk.text for hunk in hunks if hunk.index in file.kept)
            if len(file.kept) < len(hunks):
                pieces.append(_partial_note(len(file.kept), len(hunks)))
        elif file.change.patch:
            diffs_left_out += 1
    shown = sum(1 for file in files if file.shown)
    pieces.append(_closing_line(diffs_left_out, files_total - shown))
    return "".join(pieces)


_MESSAGE_MORE = {
    "en": "… {n:,} more lines of the message",
    "zh-CN": "……提交信息还有 {n:,} 行未展示",
}
_DIRECTORY_LINE = "{directory}: {files:,} files (+{additions:,} −{deletions:,})"
_MORE_DIRECTORIES = {
    "en": "… and {n:,} more directories",
    "zh-CN": "……另有 {n:,} 个目录",
}
# A file list summarised by directory aims for about this many lines: deep enough to tell the
# areas apart, short enough to read.
_DIRECTORY_LINES = 30


@dataclass(frozen=True)
class CutText:
    """A text cut to a token limit, and how many of its lines were left out."""

    text: str
    lines_left_out: int = 0


def cut_message(message: str, limit: int, counter: TokenCounter, language: str) -> CutText:
    """Keep the message's first lines that fit in ``limit`` tokens, marking how many are left.

    Only what is kept is tokenized (one line beyond it, counted up to the room left), so a
    1 MB message costs about ``limit`` tokens of work.
    """
    limit = max(limit, 0)
    if counter.upper_bound(message) <= limit or counter.count_up_to(message, limit) <= limit:
        return CutText(message)
    lines = message.splitlines()
    # the mark in its longest form is reserved, so it never pushes the text over the limit
    room = limit - counter.count(_MESSAGE_MORE[language].format(n=len(lines))) - 1
    kept: list[str] = []
    partial = False
    for line in lines:
        cost = counter.count_up_to(line + "\n", room) if room > 0 else 1
        if cost > room:
            head = _head_within(line, room, counter)
            if head:
                kept.append(head)
                partial = True
            break
        kept.append(line)
        room -= cost
    # a line shown in part counts as left out
    left = len(lines) - len(kept) + (1 if partial else 0)
    mark = _MESSAGE_MORE[language].format(n=left)
    return CutText("\n".join([*kept, mark]), left)


def _head_within(line: str, room: int, counter: TokenCounter) -> str:
    """Return the longest start of ``line`` (cut at a space when it can) within ``room``."""
    if room <= 0:
        return ""
    # no token covers fewer than one character: room * 4 characters is a generous start
    head = line[: room * 4]
    while head and counter.count(head) > room:
        head = head[: len(head) * 3 // 4]
    space = head.rfind(" ")
    return head[:space] if space > len(head) // 2 else head


def summarise_by_directory(
    files: Sequence[FileChange], limit: int, counter: TokenCounter, language: str
) -> str:
    """List ``files`` by directory with counts and line totals, within ``limit`` tokens."""
    depth = 1
    groups = _by_directory(files, depth)
    while depth < 4:
        deeper = _by_directory(files, depth + 1)
        if len(deeper) > _DIRECTORY_LINES:
            break
        depth, groups = depth + 1, deeper
    ordered = sorted(groups.items(), key=lambda item: (-item[1][0], item[0]))
    room = max(limit, 0) - counter.count(_MORE_DIRECTORIES[language].format(n=len(ordered)))
    lines: list[str] = []
    for directory, (count, additions, deletions) in ordered:
        line = _DIRECTORY_LINE.format(
            directory=directory, files=count, additions=additions, deletions=deletions
        )
        cost = counter.count_up_to(line + "\n", room) if room > 0 else 1
        if cost > room:
            break
        lines.append(line)
        room -= cost
    if len(lines) < len(ordered):
        lines.append(_MORE_DIRECTORIES[language].format(n=len(ordered) - len(lines)))
    return "\n".join(lines)


def _by_directory(files: Sequence[FileChange], depth: int) -> dict[str, tuple[int, int, int]]:
    groups: dict[str, tuple[int, int, int]] = {}
    for change in files:
        parts = change.path.split("/")[:-1][:depth]
        directory = "/".join(parts) + "/" if parts else "./"
        count, additions, deletions = groups.get(directory, (0, 0, 0))
        groups[directory] = (
            count + 1,
            additions + (change.additions or 0),
            deletions + (change.deletions or 0),
        )
    return groups
