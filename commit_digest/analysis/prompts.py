"""Build the prompt for one commit from the versioned templates in ``prompt_templates/<version>/``.

The system prompt is the same for every commit of a language (role, output contract,
importance rubric), so servers that cache prompt prefixes can reuse it. The user prompt holds
everything that comes from the commit, each part inside a data block whose markers carry a code
the data cannot contain, so nothing the author wrote can end a block and pass for instructions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import jinja2

from commit_digest.analysis.budget import (
    BudgetedDiff,
    cut_message,
    summarise_by_directory,
)
from commit_digest.analysis.evidence import describe_signals, read_signals
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.tokens import TokenCounter
from commit_digest.config import PROMPT_VERSIONS
from report.data import Coverage
from report.render import LANGUAGES
from report.schema import ChangeType, analysis_json_schema

PROMPT_VERSION = PROMPT_VERSIONS[-1]
# Beyond these, lists are cut with a count: the model learns little from name 101 of 3000,
# and every line is taken from the diff's share of the input budget.
MAX_LISTED_FILES = 100
MAX_LISTED_OMITTED = 100
# Chat framing (about 3 tokens per message and 3 to prime the reply) plus slack for tokens
# that merge across the diff's edges when the diff is put into its block.
MESSAGE_FRAMING_TOKENS = 16
# Of the input budget the system message leaves, the commit's own texts may take these shares
# (beyond them they are cut or summarised); the diff gets the rest.
MESSAGE_SHARE = 0.2
FILES_SHARE = 0.15
OMITTED_SHARE = 0.1

_HERE = Path(__file__).parent
_TEMPLATES = _HERE / "prompt_templates"
_MORE = {
    "en": "… and {n} more",
    "zh-CN": "……另有 {n} 个",
}
_UNLISTED = {
    "en": "… and {n} more that GitHub does not list",
    "zh-CN": "……另有 {n} 个 GitHub 未列出的文件",
}


@dataclass(frozen=True)
class Prompt:
    """The two messages sent for one commit, with the template version and language used."""

    system: str
    user: str
    version: str
    language: str
    # what of the commit's texts the prompt leaves out or summarises, for the coverage record
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextLimits:
    """The tokens the message, the file list and the omitted list may each take."""

    counter: TokenCounter
    message: int
    files: int
    omitted: int


@dataclass(frozen=True)
class FittedPrompt:
    """A prompt within the input budget, with the diff, the commit as sent and the coverage."""

    prompt: Prompt
    diff: BudgetedDiff
    commit: CommitInput
    coverage: Coverage
    tokens: int


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # noqa: S701 - plain text for a model, not HTML; data goes in blocks
    )


def build_prompt(
    commit: CommitInput,
    diff_text: str,
    omitted: Sequence[str],
    coverage_line: str,
    language: str,
    version: str = PROMPT_VERSION,
) -> Prompt:
    """Render the system and user messages for ``commit`` in the report ``language``."""
    return _build(
        commit,
        diff_text,
        omitted,
        coverage_line,
        language,
        has_diff=bool(diff_text.strip()),
        version=version,
    )


@cache
def rubric_text(language: str) -> str:
    """Return the rubric (importance, change types, signals): SPEC's and the prompt's one text."""
    return (_HERE / f"rubric.{language}.md").read_text(encoding="utf-8").strip()


@cache
def _examples(version: str) -> tuple[dict[str, str], ...]:
    path = _TEMPLATES / version / "examples.json"
    if not path.exists():
        return ()
    return tuple(json.loads(path.read_text(encoding="utf-8")))


def system_with_schema(prompt: Prompt) -> str:
    """Return the system message with the schema spelled out, for the json_object fallback."""
    return f"{prompt.system}\n\n{_schema_note(prompt.language)}"


def text_limits(free: int, counter: TokenCounter, scale: float = 1.0) -> TextLimits:
    """Return the limits of the commit's texts, given the ``free`` tokens the fixed part leaves."""
    free = max(int(free * scale), 0)
    return TextLimits(
        counter, int(free * MESSAGE_SHARE), int(free * FILES_SHARE), int(free * OMITTED_SHARE)
    )


def prompt_tokens(prompt: Prompt, counter: TokenCounter) -> int:
    """Count the whole prompt: both messages, the json_object schema and the chat framing."""
    system = _count_once(system_with_schema(prompt), counter.count)
    return system + counter.count(prompt.user) + MESSAGE_FRAMING_TOKENS


def fit_prompt(
    commit: CommitInput,
    budget: int,
    counter: TokenCounter,
    language: str,
    *,
    fit_diff: Callable[[CommitInput, int], tuple[BudgetedDiff, CommitInput]],
    describe: Callable[[Coverage], str],
    version: str = PROMPT_VERSION,
    diff_share: float = 1.0,
    notes: Sequence[str] = (),
) -> FittedPrompt:
    """Build the prompt for ``commit`` with everything in it counted within ``budget`` tokens.

    System message, instructions, metadata, message, file list and diff are counted with
    ``counter``; the message and the lists are cut to their shares first, and the diff gets
    ``diff_share`` of what they leave (``fit_diff`` fits and redacts it). The diff's room is
    reduced until the whole prompt fits, should redaction or the lists make it longer.
    """
    worst_omitted = [change.path for change in commit.files]
    files_total = max(commit.files_total, len(commit.files))
    worst = describe(Coverage(files_total, files_total, 10**9, 10**9, tuple(worst_omitted)))

    def bare(limits: TextLimits) -> int:
        """Count the prompt without its diff, the omitted list at its longest."""
        prompt = _build(
            commit,
            "",
            worst_omitted,
            worst,
            language,
            has_diff=True,
            version=version,
            limits=limits,
            notes=notes,
        )
        return prompt_tokens(prompt, counter)

    # What the instructions, metadata and signals take with every text cut to nothing.
    free = budget - bare(text_limits(0, counter))
    scale = 1.0
    limits = text_limits(free, counter, scale)
    room = int(max(budget - bare(limits), 0) * diff_share)
    while True:
        diff, sent = fit_diff(commit, room)
        coverage = Coverage(
            diff.files_analysed,
            diff.files_total,
            diff.lines_analysed,
            diff.lines_total,
            diff.omitted,
        )
        prompt = _build(
            sent,
            diff.text,
            diff.omitted,
            describe(coverage),
            language,
            has_diff=bool(diff.text.strip()),
            version=version,
            limits=limits,
            notes=notes,
        )
        tokens = prompt_tokens(prompt, counter)
        if tokens <= budget:
            break
        if room > 0:
            room = max(room - (tokens - budget), 0)
        elif scale > 1 / 64:
            # no diff left to give up: the texts give up half their share
            scale /= 2
            limits = text_limits(free, counter, scale)
        else:
            break  # the fixed part alone is over the budget
    coverage = Coverage(
        coverage.files_analysed,
        coverage.files_total,
        coverage.lines_analysed,
        coverage.lines_total,
        (*coverage.omitted, *prompt.left_out),
    )
    return FittedPrompt(prompt, diff, sent, coverage, tokens)


@cache
def _schema_note(language: str) -> str:
    schema_json = json.dumps(analysis_json_schema(), ensure_ascii=False)
    return _render(PROMPT_VERSION, f"json_object.{language}.j2", schema_json=schema_json)


@lru_cache(maxsize=32)
def _count_once(text: str, count: Callable[[str], int]) -> int:
    """Count a text that repeats for every commit (the system message) only once."""
    return count(text)


def prompt_overhead_tokens(
    commit: CommitInput,
    omitted: Sequence[str],
    coverage_line: str,
    language: str,
    count: Callable[[str], int],
) -> int:
    """Count the tokens a prompt for ``commit`` takes besides its diff.

    The count includes the JSON schema that the ``json_object`` fallback adds to the system
    message, so a diff fitted to ``budget - overhead`` fits whichever mode the server needs.
    """
    prompt = _build(commit, "", omitted, coverage_line, language, has_diff=True)
    system = _count_once(system_with_schema(prompt), count)
    return system + count(prompt.user) + MESSAGE_FRAMING_TOKENS


def _build(
    commit: CommitInput,
    diff_text: str,
    omitted: Sequence[str],
    coverage_line: str,
    language: str,
    *,
    has_diff: bool,
    version: str = PROMPT_VERSION,
    limits: TextLimits | None = None,
    notes: Sequence[str] = (),
) -> Prompt:
    if language not in LANGUAGES:
        raise ValueError(f"no prompt templates for language {language!r}")
    if version not in PROMPT_VERSIONS:
        raise ValueError(f"no prompt templates of version {version!r}")
    left_out: list[str] = []
    message = commit.message.strip()
    files = _files(commit, language)
    omitted_listing = _listing(omitted, MAX_LISTED_OMITTED, language)
    if limits is not None:
        counter = limits.counter
        cut = cut_message(message, limits.message, counter, language)
        message = cut.text
        if cut.lines_left_out:
            left_out.append(f"message: {cut.lines_left_out:,} more lines")
        if counter.count_up_to(files, limits.files) > limits.files:
            files = summarise_by_directory(commit.files, limits.files, counter, language)
            left_out.append(f"file list: {len(commit.files):,} files summarised by directory")
        if counter.count_up_to(omitted_listing, limits.omitted) > limits.omitted:
            by_path = {change.path: change for change in commit.files}
            changes = [by_path.get(path) or FileChange(path, "modified") for path in omitted]
            omitted_listing = summarise_by_directory(changes, limits.omitted, counter, language)
    data = {
        "metadata": _metadata(commit),
        "message": message,
        "files": files,
        "omitted": omitted_listing,
        "diff": diff_text.strip("\n"),
        # the repository's own notes (.commit-digest.toml: rubric_notes, [[paths]] notes),
        # bounded there (2,000 and 500 characters) and counted here like every other block
        "notes": "\n".join(f"- {note}" for note in notes),
    }
    boundary = _boundary(commit, [*data.values(), coverage_line])
    system = _system(version, language)
    user = _render(
        version,
        f"user.{language}.j2",
        signals=describe_signals(read_signals(commit), language),
        boundary=boundary,
        coverage_line=coverage_line,
        omitted_total=len(omitted),
        has_diff=has_diff,
        **data,
    )
    return Prompt(
        system=system, user=user, version=version, language=language, left_out=tuple(left_out)
    )


@cache
def _system(version: str, language: str) -> str:
    return _render(
        version,
        f"system.{language}.j2",
        change_types=[kind.value for kind in ChangeType],
        rubric=rubric_text(language),
        examples=_examples(version),
    )


def _render(version: str, name: str, **values: object) -> str:
    # No whitespace clean-up here: blank lines inside a data block are the author's, not ours.
    return _environment().get_template(f"{version}/{name}").render(**values).strip() + "\n"


def _boundary(commit: CommitInput, texts: Sequence[str]) -> str:
    """Return a code derived from the commit that occurs in none of ``texts``."""
    seed = f"{commit.repository}@{commit.sha}"
    while True:
        boundary = hashlib.sha256(seed.encode()).hexdigest()[:16]
        if not any(boundary in text for text in texts):
            return boundary
        seed = boundary


def _metadata(commit: CommitInput) -> str:
    lines = [
        f"repository: {commit.repository}",
        f"commit: {commit.sha}",
        f"author: {commit.author or 'unknown'}",
        f"files changed: {max(commit.files_total, len(commit.files))}",
    ]
    return "\n".join(lines)


def _files(commit: CommitInput, language: str) -> str:
    lines = [_file_line(change) for change in commit.files[:MAX_LISTED_FILES]]
    if len(commit.files) > MAX_LISTED_FILES:
        lines.append(_MORE[language].format(n=len(commit.files) - MAX_LISTED_FILES))
    if commit.files_total > len(commit.files):
        lines.append(_UNLISTED[language].format(n=commit.files_total - len(commit.files)))
    return "\n".join(lines)


def _file_line(change: FileChange) -> str:
    path = change.path
    if change.previous_path and change.previous_path != change.path:
        path = f"{change.previous_path} → {change.path}"
    counts = ""
    if change.additions is not None or change.deletions is not None:
        counts = f" (+{change.additions or 0} −{change.deletions or 0})"
    return f"{change.status} {path}{counts}"


def _listing(names: Sequence[str], limit: int, language: str) -> str:
    lines = list(names[:limit])
    if len(names) > limit:
        lines.append(_MORE[language].format(n=len(names) - limit))
    return "\n".join(lines)
