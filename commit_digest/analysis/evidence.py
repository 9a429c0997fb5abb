"""What a commit says about its own type and importance before anyone reads the diff.

Three signals, strongest first (the rubric in ``rubric.<language>.md`` spells them out for the
model): the conventional-commit prefix of the subject, the kinds of paths touched, and the size.
``combine_evidence`` lets them settle what a small model gets wrong most often — a ``docs:``
commit touching only Markdown is docs and low, whatever the model says — and records which
signal decided each field.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from commit_digest.analysis.inputs import CommitInput
from commit_digest.analysis.paths import NOISE, PathKind, classify
from report.schema import Analysis, ChangeType, DecidedBy, Importance, Signal

CONVENTIONAL = re.compile(
    r"^(?P<type>[a-zA-Z]+)(\((?P<scope>[^)]*)\))?(?P<bang>!)?:\s*(?P<desc>.+)$"
)
PREFIX_TYPES = {
    "feat": ChangeType.FEATURE,
    "feature": ChangeType.FEATURE,
    "fix": ChangeType.BUGFIX,
    "bugfix": ChangeType.BUGFIX,
    "hotfix": ChangeType.BUGFIX,
    "refactor": ChangeType.REFACTOR,
    "perf": ChangeType.PERFORMANCE,
    "performance": ChangeType.PERFORMANCE,
    "docs": ChangeType.DOCS,
    "doc": ChangeType.DOCS,
    "test": ChangeType.TEST,
    "tests": ChangeType.TEST,
    "build": ChangeType.BUILD,
    "deps": ChangeType.BUILD,
    "ci": ChangeType.CI,
    "chore": ChangeType.CHORE,
    "security": ChangeType.SECURITY,
    "sec": ChangeType.SECURITY,
    "revert": ChangeType.REVERT,
    "style": ChangeType.STYLE,
}
# A commit that touches only files of one of these kinds is of that type and importance,
# whatever its message says (the rubric's second signal).
PATH_VERDICTS: dict[PathKind, tuple[ChangeType, Importance]] = {
    PathKind.DOCS: (ChangeType.DOCS, Importance.LOW),
    PathKind.TEST: (ChangeType.TEST, Importance.LOW),
    PathKind.CI: (ChangeType.CI, Importance.LOW),
    PathKind.BUILD: (ChangeType.BUILD, Importance.MEDIUM),
    PathKind.LOCKFILE: (ChangeType.BUILD, Importance.MEDIUM),
}
# Prefixes whose claim the paths must back: a ``docs:`` commit that changes source code is
# not only docs.
_CLAIMS_PATHS = {
    ChangeType.DOCS: frozenset({PathKind.DOCS}),
    ChangeType.TEST: frozenset({PathKind.TEST}),
    ChangeType.CI: frozenset({PathKind.CI}),
    ChangeType.STYLE: frozenset(PathKind),
}
# Types that change what the software does: high when they touch source code.
RUNTIME_TYPES = frozenset(
    {
        ChangeType.FEATURE,
        ChangeType.BUGFIX,
        ChangeType.PERFORMANCE,
        ChangeType.SECURITY,
        ChangeType.REVERT,
    }
)
# Words of the subject (after any ``area:`` label), first match wins: the narrow kinds of
# change before the broad ones, so "Fix typo in docs" is docs and "Fix flaky test" a test.
_KEYWORDS = (
    (re.compile(r"\b(security|cve-\d+|vulnerab|xss|csrf|injection)", re.I), ChangeType.SECURITY),
    (re.compile(r"^revert\b", re.I), ChangeType.REVERT),
    (
        re.compile(
            r"\b(reformat|formatting|whitespace|auto[- ]?fix(es)?|lint fixes|code style"
            r"|gofmt|rustfmt|prettier)\b",
            re.I,
        ),
        ChangeType.STYLE,
    ),
    (
        re.compile(
            r"\b(docs?|documentation|docstrings?|comments?|typos?|spelling|readme|changelog)\b",
            re.I,
        ),
        ChangeType.DOCS,
    ),
    (re.compile(r"\b(unit |integration )?tests?\b", re.I), ChangeType.TEST),
    (
        re.compile(
            r"\b(fix(es|ed)?|bugs?|crash(es)?|panics?|regression|broken|wrong|incorrect|errors?"
            r"|avoid|prevent|handle|missing|workaround|don'?t|doesn'?t)\b",
            re.I,
        ),
        ChangeType.BUGFIX,
    ),
    (re.compile(r"\b(perf|faster|speed ?up|optimi[sz]e|inline)", re.I), ChangeType.PERFORMANCE),
    (
        re.compile(
            r"\b(refactor|clean ?up|rename|simplif|replace .+ with|remove unused|dead code"
            r"|move|extract|split|tidy|reorgani[sz]e|misc)",
            re.I,
        ),
        ChangeType.REFACTOR,
    ),
    (
        re.compile(r"\b(add(s|ed)?|implement|introduce|support|new|allow|enable|improve)\b", re.I),
        ChangeType.FEATURE,
    ),
)
# A release commit: a version as the whole subject ("v2.8.1", "grep-0.4.0", "changelog: 14.1.1").
RELEASE = re.compile(
    r"^(release\b.*|bump version.*|(\S+[-: ]\s*)?v?\d+\.\d+(\.\d+)*([-.]?\w+)?)$", re.I
)
_AREA_LABEL = re.compile(r"^[\w./-]+:\s+")
# The answers a small model gives when it cannot tell.
_INDISCRIMINATE = frozenset({ChangeType.REFACTOR, ChangeType.CHORE})
# Types the rubric rates low whatever they touch.
_LOW_TYPES = frozenset({ChangeType.DOCS, ChangeType.TEST, ChangeType.STYLE, ChangeType.REFACTOR})
_SIGNAL_TEXT = {
    "en": {
        "prefix": "conventional prefix `{prefix}` ({type})",
        "no_prefix": "no conventional prefix",
        "breaking": "declares a breaking change",
        "paths": "paths: {kinds}",
        "no_paths": "paths: none listed",
        "size": "size: +{add} −{rm} in {files} file(s)",
    },
    "zh-CN": {
        "prefix": "约定式前缀 `{prefix}`（{type}）",
        "no_prefix": "没有约定式前缀",
        "breaking": "声明了不兼容变更",
        "paths": "路径：{kinds}",
        "no_paths": "路径：未列出",
        "size": "规模：{files} 个文件 +{add} −{rm}",
    },
}


@dataclass(frozen=True)
class Signals:
    """The prefix, path kinds and size of one commit."""

    prefix: str | None
    prefix_type: ChangeType | None
    breaking: bool
    kinds: Counter[PathKind]
    additions: int
    deletions: int
    files: int

    @property
    def touches_source(self) -> bool:
        return bool(self.kinds[PathKind.SOURCE])

    @property
    def path_verdict(self) -> tuple[ChangeType, Importance] | None:
        """Return the type and importance the paths alone settle, if they do."""
        # Generated, vendored and binary files ride along with whatever else changed; a
        # lockfile does not: it changes what is installed.
        riders = NOISE - {PathKind.LOCKFILE}
        telling = {kind for kind in self.kinds if kind not in riders} or set(self.kinds)
        if len(telling) == 1:
            return PATH_VERDICTS.get(next(iter(telling)))
        if telling == {PathKind.BUILD, PathKind.LOCKFILE}:
            return PATH_VERDICTS[PathKind.BUILD]
        return None


def read_signals(commit: CommitInput) -> Signals:
    """Read the prefix, the path kinds and the size of ``commit``."""
    message = commit.message
    breaking = "BREAKING CHANGE" in message or "BREAKING-CHANGE" in message
    prefix = prefix_type = None
    match = CONVENTIONAL.match(commit.subject)
    if match:
        breaking = breaking or bool(match["bang"])
        prefix_type = PREFIX_TYPES.get(match["type"].lower())
        if prefix_type is not None:
            prefix = match["type"].lower()
    elif commit.subject.lower().startswith("revert "):
        prefix, prefix_type = "revert", ChangeType.REVERT
    return Signals(
        prefix=prefix,
        prefix_type=prefix_type,
        breaking=breaking,
        kinds=Counter(classify(change.path) for change in commit.files),
        additions=sum(change.additions or 0 for change in commit.files),
        deletions=sum(change.deletions or 0 for change in commit.files),
        files=max(commit.files_total, len(commit.files)),
    )


def describe_signals(signals: Signals, language: str) -> str:
    """Spell the signals out in one line for the prompt."""
    text = _SIGNAL_TEXT[language]
    parts = [
        text["prefix"].format(prefix=signals.prefix, type=signals.prefix_type)
        if signals.prefix_type
        else text["no_prefix"]
    ]
    if signals.breaking:
        parts.append(text["breaking"])
    if signals.kinds:
        kinds = ", ".join(f"{count} {kind}" for kind, count in signals.kinds.most_common())
        parts.append(text["paths"].format(kinds=kinds))
    else:
        parts.append(text["no_paths"])
    parts.append(
        text["size"].format(add=signals.additions, rm=signals.deletions, files=signals.files)
    )
    return "; ".join(parts)


def prefix_backed(signals: Signals) -> ChangeType | None:
    """Return the prefix's type when the paths do not contradict it."""
    claimed = signals.prefix_type
    if claimed is None or claimed is ChangeType.CHORE:
        # ``chore:`` is used for anything from version bumps to rewrites: it names no type.
        return None
    allowed = _CLAIMS_PATHS.get(claimed)
    if allowed is not None and set(signals.kinds) - allowed - NOISE:
        return None
    return claimed


def message_type(subject: str) -> ChangeType | None:
    """Return the type the words of ``subject`` name, if any (the rubric's third signal)."""
    words = _AREA_LABEL.sub("", subject)
    for pattern, change_type in _KEYWORDS:
        if pattern.search(words):
            return change_type
    return None


def rubric_importance(change_type: ChangeType, signals: Signals) -> Importance | None:
    """Return the importance the rubric gives ``change_type`` on these paths, if it settles it."""
    if signals.breaking or change_type is ChangeType.SECURITY:
        return Importance.HIGH
    if change_type in _LOW_TYPES:
        return Importance.LOW
    if change_type is ChangeType.CI:
        return Importance.LOW
    if change_type in (ChangeType.BUILD, ChangeType.PERFORMANCE):
        return Importance.MEDIUM
    if change_type in RUNTIME_TYPES:
        return Importance.HIGH if signals.touches_source else Importance.MEDIUM
    return None  # a chore: the model's reading of the diff decides


def combine_evidence(analysis: Analysis, commit: CommitInput) -> Analysis:
    """Return the model's ``analysis`` with type and importance settled by strong signals.

    The type comes from the paths when they are all of one telling kind, else from a prefix
    the paths do not contradict, else from the model. The importance then follows from the
    type by the rubric (a fix in source code is high, a test low), except for chores, where
    the model's reading of the diff stands.
    """
    signals = read_signals(commit)
    change_type: ChangeType = analysis.change_type
    type_signal: Signal = "model"
    if (verdict := signals.path_verdict) is not None and not signals.breaking:
        change_type, type_signal = verdict[0], "paths"
    elif (backed := prefix_backed(signals)) is not None:
        change_type, type_signal = backed, "prefix"
    elif signals.prefix_type is None and RELEASE.match(commit.subject):
        change_type, type_signal = ChangeType.CHORE, "message"
    elif (said := message_type(commit.subject)) is not None:
        change_type, type_signal = said, "message"
    elif signals.touches_source and change_type in _INDISCRIMINATE:
        # Nothing in the commit names its kind and the model said refactor or chore, which a
        # small model says of most commits (benchmarks/EVAL.md: mostly wrong); by the rubric's
        # first signal a change to source code changes behaviour.
        change_type, type_signal = ChangeType.BUGFIX, "default"
    importance = rubric_importance(change_type, signals)
    importance_signal: Signal = "rubric" if type_signal in ("model", "default") else type_signal
    if importance is None:
        importance, importance_signal = analysis.importance, "model"
    return analysis.model_copy(
        update={
            "change_type": change_type,
            "importance": importance,
            "breaking_change": analysis.breaking_change or signals.breaking,
            "decided_by": DecidedBy(change_type=type_signal, importance=importance_signal),
        }
    )
