"""Analyse a commit without an LLM: conventional-commit prefix, paths touched and size."""

from __future__ import annotations

from collections import Counter, defaultdict

from commit_digest.analysis.evidence import (
    CONVENTIONAL,
    GIT_MERGE,
    RESTYLE_PREFIXES,
    RUNTIME_TYPES,
    Signals,
    bump_type,
    changelog_type,
    diff_shape,
    directives_only,
    lints_only,
    machinery_type,
    names_ci,
    over_paths,
    prefix_type,
    read_signals,
    reformatted,
    words_type,
)
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.paths import PathKind, classify
from report.schema import (
    Analysis,
    ChangeType,
    DecidedBy,
    Importance,
    Insights,
    ScopeItem,
    Signal,
)

_RUNTIME_KINDS = frozenset({PathKind.SOURCE})
# Prefixes a comment-only diff does not contradict.
_COMMENT_PREFIXES = frozenset({ChangeType.DOCS, ChangeType.STYLE, ChangeType.CHORE})
LARGE_CHANGE_LINES = 800
LARGE_CHANGE_FILES = 40

_TEXT = {
    "zh-CN": {
        "summary": "{subject}。本提交共变更 {files} 个文件{lines}，主要涉及 {areas}。",
        "lines": "（+{add}/−{rm} 行）",
        "areas_none": "（无文件信息）",
        "note": "{total} 个文件：{parts}",
        "added": "新增 {n}",
        "modified": "修改 {n}",
        "removed": "删除 {n}",
        "renamed": "重命名 {n}",
        "breaking": "提交信息声明了不兼容变更（BREAKING CHANGE），依赖方需要相应调整。",
        "risk_large": "变更规模较大（{files} 个文件，{lines} 行），评审时容易遗漏问题。",
        "risk_no_tests": "修改了运行时代码但没有同时修改测试。",
        "risk_partial": "仅根据 webhook 携带的文件列表分析，未看到具体 diff。",
        "rec_tests": "为本次行为变更补充或更新测试。",
        "rec_split": "考虑将大型变更拆分为更小的提交以便评审。",
        "rec_breaking": "在发布说明中写明不兼容变更及迁移方式。",
    },
    "en": {
        "summary": "{subject}. The commit changes {files} file(s){lines}, mainly in {areas}.",
        "lines": " (+{add}/-{rm} lines)",
        "areas_none": "(no file information)",
        "note": "{total} file(s): {parts}",
        "added": "{n} added",
        "modified": "{n} modified",
        "removed": "{n} removed",
        "renamed": "{n} renamed",
        "breaking": "The message declares a breaking change; dependants must adapt.",
        "risk_large": "A large change ({files} files, {lines} lines) is easy to under-review.",
        "risk_no_tests": "Runtime code changed without any test changing with it.",
        "risk_partial": "Analysed from the webhook's file list only; the diff was not seen.",
        "rec_tests": "Add or update tests for the changed behaviour.",
        "rec_split": "Consider splitting large changes into smaller commits for review.",
        "rec_breaking": "Document the breaking change and the migration in the release notes.",
    },
}


def change_type_of(commit: CommitInput) -> tuple[ChangeType, bool]:
    """Return the change type and whether a breaking change is declared."""
    signals = read_signals(commit)
    return _change_type(commit, signals)[0], signals.breaking


def _change_type(commit: CommitInput, signals: Signals) -> tuple[ChangeType, Signal]:
    """Return the change type and the signal that settled it, strongest signal first."""
    subject = commit.subject
    if (released := signals.release) is not None:
        # a release: housekeeping whatever it touches (the changelog, the version's files)
        return ChangeType.CHORE, released
    shape = diff_shape(commit)
    if shape == "comments" and signals.prefix_type not in _COMMENT_PREFIXES:
        # only comments changed, in code or in build files: nothing that runs can change (a
        # linter's directive in one is style)
        linted = lints_only(subject) or directives_only(commit)
        return (ChangeType.STYLE if linted else ChangeType.DOCS), "diff"
    if signals.prefix_type in RESTYLE_PREFIXES and reformatted(commit):
        # only whitespace moved in code, tests included: formatting, whatever the paths say
        return ChangeType.STYLE, "diff"
    if (verdict := signals.path_verdict) is not None and not signals.breaking:
        if (said := over_paths(commit, signals)) is not None:
            return said, "message"
        return verdict[0], "paths"
    if (bumped := bump_type(signals)) is not None:
        return bumped, "message"
    if names_ci(commit, signals):
        return ChangeType.CI, "message"
    if (prefixed := prefix_type(signals)) is not None:
        return prefixed, "prefix"
    if GIT_MERGE.match(subject):
        return ChangeType.CHORE, "message"
    if (filed := changelog_type(commit, section_only=True)) is not None:
        return filed, "changelog"
    if (said := words_type(commit, signals)) is not None:
        return said, "message"
    if (filed := changelog_type(commit)) is not None:
        return filed, "changelog"
    if shape in ("moved", "removal"):
        return ChangeType.REFACTOR, "diff"
    if (built := machinery_type(signals)) is not None:
        # the build files changed, with their tests or CI, and nothing names the kind
        return built, "paths"
    if signals.touches_code:
        # Source code changed and nothing says how: by the rubric's first signal it changes
        # behaviour, and maintenance commits without a label are mostly fixes.
        return ChangeType.BUGFIX, "default"
    return ChangeType.CHORE, "default"


def importance_of(change_type: ChangeType, breaking: bool, commit: CommitInput) -> Importance:
    """Apply the importance rubric of the prompt to what the heuristics can see."""
    signals = read_signals(commit)
    return _importance(change_type, signals, commit)


def _importance(change_type: ChangeType, signals: Signals, commit: CommitInput) -> Importance:
    kinds = set(signals.kinds)
    touches_runtime = bool(kinds & _RUNTIME_KINDS) or not commit.files
    if signals.release is not None:
        # the rubric's release version bump, whatever it touches (a component.json as well)
        return Importance.LOW
    if signals.breaking or signals.drops_api or change_type is ChangeType.SECURITY:
        return Importance.HIGH
    if (verdict := signals.path_verdict) is not None and (
        verdict[0] is change_type or change_type is ChangeType.REVERT
    ):
        # the paths' own weight; a revert weighs what it undoes
        return verdict[1]
    if change_type is ChangeType.CI or (change_type is ChangeType.BUILD and signals.dev_only):
        return Importance.LOW
    if change_type is ChangeType.BUILD and signals.adapts_runtime:
        return Importance.HIGH
    if change_type in (ChangeType.BUILD, ChangeType.PERFORMANCE):
        return Importance.MEDIUM
    if change_type in RUNTIME_TYPES:
        # annotations or log lines only (``SURFACE``): what users see changes, not what runs
        return Importance.HIGH if touches_runtime and not signals.surface else Importance.MEDIUM
    if (
        kinds & {PathKind.EXAMPLE, PathKind.CONFIG}
        and not kinds & _RUNTIME_KINDS
        and change_type is ChangeType.CHORE
    ):
        return Importance.MEDIUM
    return Importance.LOW


def with_heuristic_labels(analysis: Analysis, commit: CommitInput) -> Analysis:
    """Return the model's ``analysis`` with the heuristics' type, importance and breaking flag.

    For a model that has not earned its labels (``trust.py``): it writes the analysis, the
    commit's evidence rates it, as it would without a model.
    """
    signals = read_signals(commit)
    change_type, decided = _change_type(commit, signals)
    return analysis.model_copy(
        update={
            "change_type": change_type,
            "importance": _importance(change_type, signals, commit),
            "breaking_change": analysis.breaking_change or signals.breaking,
            "decided_by": DecidedBy(change_type=decided, importance=decided),
        }
    )


def heuristic_analysis(commit: CommitInput, language: str) -> Analysis:
    """A complete, schema-valid analysis from the message, paths and size alone."""
    text = _TEXT[language]
    signals = read_signals(commit)
    breaking = signals.breaking
    change_type, decided = _change_type(commit, signals)
    importance = _importance(change_type, signals, commit)
    additions = sum(f.additions or 0 for f in commit.files)
    deletions = sum(f.deletions or 0 for f in commit.files)
    has_counts = any(f.additions is not None for f in commit.files)
    scope = _scope(commit.files, text)
    areas = (
        "、".join(f"`{s.area}`" for s in scope[:4])
        if language == "zh-CN"
        else ", ".join(f"`{s.area}`" for s in scope[:4])
    )
    subject = (
        CONVENTIONAL.sub(lambda m: m["desc"], commit.subject).strip().rstrip("。.")
        or commit.sha[:7]
    )
    summary = text["summary"].format(
        subject=subject,
        files=max(commit.files_total, len(commit.files)),
        lines=text["lines"].format(add=additions, rm=deletions) if has_counts else "",
        areas=areas or text["areas_none"],
    )
    kinds = Counter(classify(f.path) for f in commit.files)
    risks: list[str] = []
    recommendations: list[str] = []
    if additions + deletions > LARGE_CHANGE_LINES or len(commit.files) > LARGE_CHANGE_FILES:
        risks.append(
            text["risk_large"].format(files=len(commit.files), lines=additions + deletions)
        )
        recommendations.append(text["rec_split"])
    if (
        kinds[PathKind.SOURCE]
        and not kinds[PathKind.TEST]
        and change_type in (ChangeType.FEATURE, ChangeType.BUGFIX, ChangeType.PERFORMANCE)
    ):
        risks.append(text["risk_no_tests"])
        recommendations.append(text["rec_tests"])
    if commit.source == "delivery":
        risks.append(text["risk_partial"])
    if breaking:
        recommendations.append(text["rec_breaking"])
    return Analysis(
        change_type=change_type,
        importance=importance,
        summary=summary[:4000],
        impact_scope=scope,
        insights=Insights(
            architecture="",
            performance="",
            security="",
            compatibility=text["breaking"] if breaking else "",
        ),
        risks=risks,
        recommendations=recommendations,
        breaking_change=breaking,
        decided_by=DecidedBy(change_type=decided, importance=decided),
    )


def _scope(files: tuple[FileChange, ...], text: dict[str, str]) -> list[ScopeItem]:
    """Group changed files by area (their first two directories), largest areas first."""
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for change in files:
        area = _area(change.path)
        status = change.status if change.status in ("added", "removed", "renamed") else "modified"
        groups[area][status] += 1
    ordered = sorted(groups.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    items = []
    for area, counts in ordered[:12]:
        parts = [
            text[s].format(n=counts[s])
            for s in ("added", "modified", "removed", "renamed")
            if counts[s]
        ]
        items.append(
            ScopeItem(
                area=area,
                note=text["note"].format(total=sum(counts.values()), parts=", ".join(parts)),
            )
        )
    return items


def _area(path: str) -> str:
    parts = path.split("/")
    if len(parts) == 1:
        return path
    return "/".join(parts[: min(2, len(parts) - 1)]) + "/"
