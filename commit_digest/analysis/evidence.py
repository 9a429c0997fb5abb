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
from collections.abc import Iterator
from dataclasses import dataclass

from commit_digest.analysis.dependencies import CARGO_SECTION, dev_only, lines_by_section
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.paths import NOISE, PathKind, classify
from report.schema import Analysis, ChangeType, DecidedBy, Importance, Signal

# After a scope the colon may be missing ("fix(deps) serve-static@2.0.0"): the parentheses
# still mark the prefix.
CONVENTIONAL = re.compile(
    r"^(?P<type>[a-zA-Z]+)(\((?P<scope>[^)]*)\))?(?P<bang>!)?(?(scope)(:\s*|\s+)|:\s*)"
    r"(?P<desc>.+)$"
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
    "dep": ChangeType.BUILD,
    "ci": ChangeType.CI,
    "chore": ChangeType.CHORE,
    "security": ChangeType.SECURITY,
    "sec": ChangeType.SECURITY,
    "revert": ChangeType.REVERT,
    "style": ChangeType.STYLE,
}
# Scopes that name the kind of change whatever the type before them says: "chore(ci): …",
# "fix(deps): …", dependabot's "chore(deps-dev): …", "refactor(tests): …".
SCOPE_TYPES = {
    "ci": ChangeType.CI,
    "docs": ChangeType.DOCS,
    "doc": ChangeType.DOCS,
    "test": ChangeType.TEST,
    "tests": ChangeType.TEST,
    "deps": ChangeType.BUILD,
    "deps-dev": ChangeType.BUILD,
    "dev-deps": ChangeType.BUILD,
    "dependencies": ChangeType.BUILD,
}
# Types a scope does not override: what they say is never only about the scope's area.
_OVER_SCOPE = frozenset({ChangeType.REVERT, ChangeType.SECURITY, ChangeType.PERFORMANCE})
# A commit that touches only files of one of these kinds is of that type and importance,
# whatever its message says (the rubric's second signal).
PATH_VERDICTS: dict[PathKind, tuple[ChangeType, Importance]] = {
    PathKind.DOCS: (ChangeType.DOCS, Importance.LOW),
    PathKind.TEST: (ChangeType.TEST, Importance.LOW),
    PathKind.CI: (ChangeType.CI, Importance.LOW),
    PathKind.BUILD: (ChangeType.BUILD, Importance.MEDIUM),
    PathKind.LOCKFILE: (ChangeType.BUILD, Importance.MEDIUM),
    # the rubric: developer-tool updates are low
    PathKind.TOOLING: (ChangeType.BUILD, Importance.LOW),
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
_FORMATTING = re.compile(
    r"\b(reformat|formatting|whitespace|auto[- ]?fix(es)?|lint (fixes|issues|warnings)|code style"
    r"|coding standards?"
    r"|gofmt|gofumpt|goimports|rustfmt|cargo fmt|prettier|clang-format|isort"
    # punctuation the language does not need: "Remove unnecessary parentheses"
    r"|(unnecessary|redundant|superfluous|extra) (parenthes[ie]s|braces|brackets|semicolons?))\b"
    # PHP's word for its coding standard, a subject of its own: "CS", "Fix CS", "CS fixes"
    r"|(?-i:^((?i:apply|fix(es|ed)?|more) )?CS( (?i:fix(es|ed)?))?\.?$)",
    re.I,
)
# Linters by name: "Fix clippy warnings", "stop ignoring flake8 E402", "Configure new cops".
# Not the bare word "lint": in a linter's own repository "Add new lint" is a feature.
_LINTER = re.compile(
    r"\b(clippy|rubocop|cops|eslint|flake8|pylint|golangci-lint|ruff|ktlint|detekt|stylelint"
    # (not go vet: it reports suspicious code, and a test it fixes checks again)
    r"|golint|staticcheck|shellcheck|pyflakes|pycodestyle|clang-tidy|cppcheck|swiftlint"
    r"|phpcs|phpcbf|php-cs-fixer)\b",
    re.I,
)
_LINT = re.compile(r"\b(lints?|linters?)\b", re.I)
_ANNOTATION_FIX = re.compile(
    r"\b(fix(es|ed|ing)?|correct(s|ed|ing)?|wrong|incorrect)\b.*"
    r"\b(type (hints?|annotations?|signatures?)|(return|argument|parameter) types?|typings?)\b"
    # the nullability a Java or Kotlin caller sees: "Add some missing nullable annotations"
    r"|\b(fix(es|ed|ing)?|correct(s|ed|ing)?|wrong|incorrect|missing)\b.*"
    r"\b(nullab(le|ility)|non-?null(able)?)( \w+)? annotations?\b",
    re.I,
)
# What users see of a change, not what it computes: its type annotations, or log lines added.
SURFACE = re.compile(
    _ANNOTATION_FIX.pattern + r"|\b(add(s|ed|ing)?|more|better|improved?|extra)\s+(\S+\s+){0,2}?"
    r"(logging|log (messages?|output|lines?|records?))\b"
    # the wording of a message users read: "Fix error message (#2246)", "Improve the warning text"
    r"|\b(fix(es|ed)?|correct(s|ed)?|improve[sd]?|clarif(y|ies|ied)|reword(s|ed)?)\s+(the\s+)?"
    r"(\S+\s+)?(error|exception|warning|log)\s+(messages?|text|wording)\b",
    re.I,
)
# const-qualification, which changes no behaviour: "print_string: Add more const".
_CONST = re.compile(r"\b(add|more|declare[sd]?|mark|make)\b.*\bconst\b|\bconst[- ]correct", re.I)
# Tests named as what came with the change ("Add CLAIM option + unit tests"): not its kind.
# Tests named in a subject: "regex: add unit tests", "refactor(cli): convert tests to testify".
# "Use atomic test and set" names an atomic operation, not tests.
_TESTS_NAMED = re.compile(r"\b(unit |integration )?tests?\b(?![- ]and[- ]set\b)", re.I)
_WITH_TESTS = re.compile(r"\s*(\+|&|\band\b|\bwith\b)\s*(unit |integration )?tests?\b", re.I)
# What a subject calls a vulnerability ("fix: prototype pollution vulnerability in …"); not
# "security" alone, which also names things ("Use existing node security group").
_VULNERABILITY = re.compile(
    r"\b(cve-\d+|vulnerab|xss|csrf|injection|prototype pollution|path traversal|ssrf|redos"
    r"|smuggling)",
    re.I,
)
_KEYWORDS = (
    (re.compile(r"\bsecurity|" + _VULNERABILITY.pattern, re.I), ChangeType.SECURITY),
    (re.compile(r"^revert\b", re.I), ChangeType.REVERT),
    (_FORMATTING, ChangeType.STYLE),
    # a linter's rules and what they ask for ("Suppress a clippy eq_op", "Configure new cops")
    (_LINTER, ChangeType.STYLE),
    (
        re.compile(
            r"\b(docs?|documentation|docstrings?|comments?|typos?|spelling(?! out)|readme|changelog"
            r"|javadocs?|jsdoc|godoc|rustdoc|phpdoc|doxygen"
            r"|(broken|dead|outdated) links?)\b"
            # a subject that opens by documenting: "Document `BackgroundTasks` behaviour when …"
            r"|^document(s|ed|ing)?\b(?!.*\b(new|added)\b)",
            re.I,
        ),
        ChangeType.DOCS,
    ),
    (_TESTS_NAMED, ChangeType.TEST),
    # const-qualification changes no behaviour: "print_string: Add more const", "declare static
    # arrays const where possible"
    (_CONST, ChangeType.REFACTOR),
    # a fix of the type annotations users see ("Fix return types in json commands"): a bugfix,
    # rated medium (``SURFACE``), not the type checker's upkeep below
    (_ANNOTATION_FIX, ChangeType.BUGFIX),
    # type-checker upkeep ("Fixed mypy error"): nothing users run changes
    (
        re.compile(
            r"\b(mypy|pyright|phpstan|psalm|type[- ]check(er|ing)?|type hints?"
            r"|type annotations?)\b",
            re.I,
        ),
        ChangeType.CHORE,
    ),
    # the rubric's "avoid copying": fewer copies or allocations, the same results
    (
        re.compile(
            r"\b((avoid|reduce|fewer|less) (\S+ )?(cop(y|ying|ies)|clon\w+|allocat\w+)"
            # sized up front: "pre-alloc data", "preallocate the buffer", "presize the map"
            r"|over-?allocat\w*|pre-?alloc\w*|pre-?siz(e|es|ed|ing)\b|lazy[- ]?(alloc|init)\w*"
            # less memory for the same results: "reduce context struct size from 216 bytes"
            r"|(reduce[sd]?|shrinks?|smaller)\b.*\b(struct|memory|footprint)\b.*\b(size|usage|bytes)\b"
            r"|(reduce[sd]?|shrinks?) (the )?(memory|footprint))",
            re.I,
        ),
        ChangeType.PERFORMANCE,
    ),
    (
        re.compile(
            r"\b(fix(es|ed|up)?|bugs?|crash(es)?|panics?|regression|broken|wrong|incorrect|errors?"
            r"|avoid|prevent|handle|missing|workaround|don'?t|doesn'?t|do not|does not"
            # input rejected that was accepted ("Add additional RESP3 bool validation")
            r"|validation)\b",
            re.I,
        ),
        ChangeType.BUGFIX,
    ),
    # the toolchain and the dependencies: "Drop activesupport dependency", "Update MSRV to
    # 1.75", "examples: Update to diesel-async 0.6"
    (
        re.compile(
            r"\b(msrv|minimum (supported )?\w+ version)\b"
            r"|\b(drop|remove|add|bump|update|upgrade|replace)s?\b.*\bdependenc(y|ies)\b"
            r"|\b(update|upgrade|bump)s?\s+(\S+\s+)?to\s+(?!version\b)[\w.-]+\s+v?\d+(\.\d+)+\b",
            re.I,
        ),
        ChangeType.BUILD,
    ),
    (
        re.compile(
            r"\b(perf\b|performance|faster|speed ?up|optimi[sz](e|es|ed|ation)"
            r"|inlin(e|ed|es|ing)\b(?!-)(?!\s+\S+\s+into\b))",
            re.I,
        ),
        ChangeType.PERFORMANCE,
    ),
    (
        re.compile(
            r"\b(refactor|clean ?up|rename|simplif|replace .+ with|remove unused|replace deprecated"
            r"|dead (\S+ ){0,2}code|move|extract|split|tidy|reorgani[sz]e|misc|redundant"
            # the refactoring catalogue's names and aims: "Inline foo into bar", "rework for
            # readability"
            r"|inline[sd]? \S+ into|rework(s|ed)?|readability|early (exit|return)s?|leftovers?"
            # conditions consolidated: "Merge if statements with the same return value"
            r"|merge (\S+ ){0,2}(if|conditions?|conditionals?|statements?|checks|branches)\b)"
            # the same code in another language: "Convert ClassJsonAdapter to kotlin"
            r"|\b(convert|port|rewrite|migrate)s?\b.*\bto (kotlin|typescript|rust|go|java|swift"
            r"|c\+\+|python ?3|es ?modules|esm|es6)\b",
            re.I,
        ),
        ChangeType.REFACTOR,
    ),
    (
        re.compile(
            r"\b(add(s|ed)?|implement(s|ed)?|introduce[sd]?|supports?|new|allows?|enables?"
            r"|improve[sd]?|adding|implementing|introducing|supporting)\b"
            r"|^deprecates?\b|\bmark(s|ed)?\b.*\bdeprecated\b",
            re.I,
        ),
        ChangeType.FEATURE,
    ),
)
# A release commit: a version as the whole subject ("v2.8.1", "grep-0.4.0", "changelog: 14.1.1",
# "4.1.0 release (#2063)").
RELEASE = re.compile(
    r"^(release\b.*|bump(ed)? (to )?version.*"
    # "Version bump to 2.9.1", "Update version to 1.7.13"
    r"|version bump\b.*|(update[sd]?|set|change[sd]?) (the )?version (number )?to\b.*"
    # "Prepare for v1.0.2 GA", "Preparing release 2.3"
    r"|prepar(e|es|ed|ing) (for )?(the )?(\S+ )?(release|v?\d+\.\d+)\b.*"
    r"|(\S+[-: ]\s*)?v?\d+\.\d+(\.\d+)*([-.]?\w+)?(\s+release)?(\s+\(#\d+\))?)$",
    re.I,
)
# git's own subject for a merge: "Merge pull request #12 from …", "Merge branch 'x' into y" —
# not "Merge if statements with the same return value".
GIT_MERGE = re.compile(
    r"^merge (pull request|(remote-tracking )?branch|tag|commit|changes|'|\"|\S+ into )", re.I
)
# A release tool's own commit ("chore(release): version 1.2.0 [skip ci]", "release: 2.1.0").
RELEASE_COMMIT = re.compile(
    # a version as the scope too: "build(v10.0.0): release"
    r"^(\w+\((release|v?\d+\.\d+[\w.-]*)\)|release)!?:\s",
    re.I,
)
_AREA_LABEL = re.compile(r"^[\w./-]+:\s+")
# The answers a small model gives when it cannot tell.
_INDISCRIMINATE = frozenset({ChangeType.REFACTOR, ChangeType.CHORE})
# The signals that settle a commit's type from what it is, not from what its subject says.
STRONG_SIGNALS: frozenset[Signal] = frozenset({"paths", "prefix", "diff", "changelog"})
# Types a diff of comments only does not contradict.
_COMMENT_TYPES = frozenset({ChangeType.DOCS, ChangeType.STYLE})
# Types the rubric rates low whatever they touch.
# Prefixes a whitespace-only diff does not contradict (no prefix among them).
RESTYLE_PREFIXES = frozenset({None, ChangeType.STYLE, ChangeType.CHORE, ChangeType.REFACTOR})
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
    # every dependency it changes is for developing the project (dependencies.py)
    dev_only: bool = False
    # the subject names a dependency update and a manifest or lockfile changed
    bump: bool = False
    # the subject says the change is to what users see of it only (``SURFACE``)
    surface: bool = False
    # it removes deprecated API from the source: users still calling it break (``DROPS_API``)
    drops_api: bool = False
    # how many of its documentation files are changelogs (``_CHANGELOG``)
    changelogs: int = 0
    # what shows it is a release, if it is (``release_signal``): "message" or "diff"
    release: Signal | None = None

    @property
    def touches_source(self) -> bool:
        return bool(self.kinds[PathKind.SOURCE])

    @property
    def adapts_runtime(self) -> bool:
        """A runtime dependency update that changes the source to fit it: what runs changes."""
        return self.bump and not self.dev_only and self.touches_source

    @property
    def touches_code(self) -> bool:
        """Source or type declarations: what a fix or a feature is made in."""
        return bool(self.kinds[PathKind.SOURCE] or self.kinds[PathKind.TYPES])

    @property
    def path_verdict(self) -> tuple[ChangeType, Importance] | None:
        """Return the type and importance the paths alone settle, if they do."""
        # Generated, vendored and binary files ride along with whatever else changed; a
        # lockfile does not: it changes what is installed.
        riders = NOISE - {PathKind.LOCKFILE}
        telling = {kind for kind in self.kinds if kind not in riders} or set(self.kinds)
        if len(telling) > 1 and 0 < self.kinds[PathKind.DOCS] == self.changelogs:
            # the changelog's line rides along with the change it records
            telling.discard(PathKind.DOCS)
        if telling in ({PathKind.BUILD}, {PathKind.LOCKFILE}, {PathKind.BUILD, PathKind.LOCKFILE}):
            # the rubric: runtime dependencies medium, developer tools low
            return ChangeType.BUILD, Importance.LOW if self.dev_only else Importance.MEDIUM
        if len(telling) == 1:
            return PATH_VERDICTS.get(next(iter(telling)))
        if PathKind.CI in telling and telling <= {PathKind.CI, PathKind.TOOLING}:
            # workflows with the hooks they run (a pre-commit config): CI work
            return PATH_VERDICTS[PathKind.CI]
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
        scoped = SCOPE_TYPES.get((match["scope"] or "").strip().lower())
        if prefix_type is not None and scoped is not None and prefix_type not in _OVER_SCOPE:
            prefix_type = scoped
        if prefix_type is ChangeType.BUGFIX and _VULNERABILITY.search(match["desc"]):
            # a fix of what the subject calls a vulnerability is security work
            prefix_type = ChangeType.SECURITY
        if prefix_type is not None:
            prefix = match["type"].lower()
    elif commit.subject.lower().startswith("revert "):
        prefix, prefix_type = "revert", ChangeType.REVERT
    kinds = Counter(classify(change.path) for change in commit.files)
    builds = bool(kinds[PathKind.BUILD] or kinds[PathKind.LOCKFILE])
    # developer tools' pins (a pre-commit config) updated by name: a development dependency
    tools_bumped = not builds and bool(kinds[PathKind.TOOLING]) and names_bump(commit.subject)
    description = _AREA_LABEL.sub("", match["desc"] if match else commit.subject)
    return Signals(
        prefix=prefix,
        prefix_type=prefix_type,
        breaking=breaking,
        kinds=kinds,
        additions=sum(change.additions or 0 for change in commit.files),
        deletions=sum(change.deletions or 0 for change in commit.files),
        files=max(commit.files_total, len(commit.files)),
        dev_only=tools_bumped or ((builds or prefix_type is ChangeType.BUILD) and dev_only(commit)),
        bump=tools_bumped or (builds and names_bump(commit.subject)),
        surface=bool(SURFACE.search(commit.subject)),
        drops_api=bool(kinds[PathKind.SOURCE]) and bool(DROPS_API.match(description)),
        changelogs=sum(
            1
            for change in commit.files
            if classify(change.path) is PathKind.DOCS and _CHANGELOG.search(change.path)
        ),
        release=release_signal(commit, prefix_type),
    )


# A subject that opens by removing deprecated API: "Remove deprecated aliases", "chore: drop
# the deprecated `foo()`" — not "Remove use of deprecated X", which only stops calling it.
DROPS_API = re.compile(
    r"(remove[sd]?|drop(s|ped)?|delete[sd]?)\s+((the\s+|all\s+)?deprecated\b"
    # "Remove namespace_stackable_with_hash from public interface"
    r"|.+\bfrom (the )?public (interface|api)\b)",
    re.I,
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


# What the build and release machinery is made of, apart from the code it builds.
_INFRASTRUCTURE = frozenset({PathKind.BUILD, PathKind.LOCKFILE, PathKind.TOOLING, PathKind.CI})
# Prefixes that claim a change of behaviour.
_BEHAVIOUR_PREFIXES = frozenset({ChangeType.FEATURE, ChangeType.BUGFIX, ChangeType.PERFORMANCE})


def prefix_type(signals: Signals) -> ChangeType | None:
    """The prefix's type, or the machinery's when a behaviour prefix touches only that.

    "fix: address goreleaser build issues" on a Makefile and a release config changes how the
    software is built, not what it does: build (ci when only workflows and their hooks).
    """
    return on_machinery(signals.prefix_type, signals)


def on_machinery(claimed: ChangeType | None, signals: Signals) -> ChangeType | None:
    """``claimed``, or build (ci) when it claims behaviour and only the machinery changed: a
    "Fix #1264: use a versioned shade package" on the pom and its release notes is build."""
    if claimed not in _BEHAVIOUR_PREFIXES or signals.touches_code:
        return claimed
    telling = set(signals.kinds) - NOISE - {PathKind.DOCS}
    if not telling or not telling <= _INFRASTRUCTURE:
        return claimed
    if PathKind.CI in telling and not telling & {PathKind.BUILD, PathKind.LOCKFILE}:
        return ChangeType.CI
    return ChangeType.BUILD


# The CI service a subject names: "Use container-based Travis", "chore: adds updated codecov".
_NAMES_CI = re.compile(
    r"\b(ci|codecov|coveralls|workflows?|github actions|gha|travis|appveyor|circleci|dependabot)\b",
    re.I,
)
_TAGS = re.compile(r"\[[^\]]*\]")  # "[skip ci]", "[pre-commit.ci]"


def names_ci(commit: CommitInput, signals: Signals) -> bool:
    """Whether a commit without a telling prefix is CI work by what it says and touches: its
    subject names the CI service, a CI file changed, and no code did."""
    return (
        signals.prefix_type in (None, ChangeType.CHORE)
        and bool(signals.kinds[PathKind.CI])
        and not signals.touches_code
        and bool(_NAMES_CI.search(_TAGS.sub("", commit.subject)))
    )


# The machinery, and tests of it (a test project for the build's exported targets).
_TESTED_MACHINERY = _INFRASTRUCTURE | {PathKind.TEST}


def machinery_type(signals: Signals) -> ChangeType | None:
    """Build for a commit that changes the build files, maybe with tests of them or the CI that
    runs them, and no code, when nothing else names its kind: "Generate CMake export set
    regardless of FMT_INSTALL" on CMakeLists.txt and a test project."""
    telling = set(signals.kinds) - (NOISE - {PathKind.LOCKFILE}) - {PathKind.DOCS}
    builds = telling & {PathKind.BUILD, PathKind.LOCKFILE}
    return ChangeType.BUILD if builds and telling <= _TESTED_MACHINERY else None


def prefix_backed(signals: Signals) -> ChangeType | None:
    """Return the prefix's type when the paths do not contradict it."""
    claimed = prefix_type(signals)
    if claimed is None or claimed is ChangeType.CHORE:
        # ``chore:`` is used for anything from version bumps to rewrites: it names no type.
        return None
    allowed = _CLAIMS_PATHS.get(claimed)
    if allowed is not None and set(signals.kinds) - allowed - NOISE:
        return None
    return claimed


_BUMP = re.compile(r"\b(bump|update|upgrade|downgrade)s?\b", re.I)


def formatting_only(subject: str) -> bool:
    """Whether ``subject`` says the commit only formats ("[pre-commit.ci] auto fixes").

    That holds whatever files it touches; a bump of a formatter ("Bump prettier") does not.
    """
    return (
        message_type(subject) is ChangeType.STYLE
        and bool(_FORMATTING.search(subject))
        and not _BUMP.search(subject)
    )


# A comment addressed to a linter, type checker or coverage tool, not to a reader.
_DIRECTIVE = re.compile(
    r"eslint-(disable|enable)|\bnoqa\b|rubocop:(disable|enable|todo)|\bnolint\b"
    r"|pylint:\s*disable|type:\s*ignore|pyright:\s*ignore|(istanbul|c8) ignore|prettier-ignore"
    r"|@ts-(ignore|expect-error|nocheck)|clang-format (off|on)|pragma: no cover|biome-ignore"
    r"|deno-lint-ignore|swiftlint:disable",
    re.I,
)


def directives_only(commit: CommitInput) -> bool:
    """Whether every changed line (of a comment-only diff) speaks to a tool: a linter's
    directive added or removed ("// eslint-disable-next-line unicorn/no-unsafe-regex")."""
    lines = [text for change in commit.files for _, text in changed_lines(change.patch)]
    return bool(lines) and all(_DIRECTIVE.search(text) for text in lines)


def lints_only(subject: str) -> bool:
    """Whether ``subject`` is about a linter's rules ("remove unused ruff check rule"), not an
    update of the linter ("Bump ruff to 0.5")."""
    return bool(_LINTER.search(subject)) and not _BUMP.search(subject)


def over_paths(commit: CommitInput, signals: Signals) -> ChangeType | None:
    """The type the message names where it beats the paths' verdict, else None.

    A formatter's autofix of build files is style; a runtime dependency raised for a published
    advisory ("fix(security): CVE-2021-28834" on a gemspec) is security, a development-only one
    stays build; a linter's rule silenced or applied in tests is style; a ``chore:`` that only
    writes the changelog is a chore (release notes, in the rubric), and so is one whose subject
    names the version; a revert is a revert whatever it touches; a ``style:`` commit on tests is
    style, and so is a ``refactor:`` one that does not say it is about the tests
    ("refactor(pkg): convert tests to testify" is).
    """
    verdict = signals.path_verdict
    if verdict is None:
        return None
    if signals.prefix_type is ChangeType.REVERT:
        return ChangeType.REVERT
    if (
        verdict[0] is ChangeType.DOCS
        and (signals.prefix_type is ChangeType.CHORE or _VERSION_NUMBER.search(commit.subject))
        and all(_CHANGELOG.search(change.path) for change in commit.files)
    ):
        # the rubric: release notes are a chore, when it says so or names the release
        # ("Update Changelog for version 1.7")
        return ChangeType.CHORE
    if verdict[0] is ChangeType.BUILD:
        if formatting_only(commit.subject) or lints_only(commit.subject):
            return ChangeType.STYLE
        if _ADVISORY.search(commit.message) and not signals.dev_only:
            return ChangeType.SECURITY
    if verdict[0] is ChangeType.TEST:
        if _LINTER.search(commit.subject) or _LINT.search(commit.subject):
            return ChangeType.STYLE
        if formatting_only(commit.subject) and not _TESTS_NAMED.search(commit.subject):
            # "[pre-commit.ci] auto fixes" in the tests; not "add test … checking the formatting"
            return ChangeType.STYLE
        if signals.prefix_type is ChangeType.STYLE:
            return ChangeType.STYLE
        if signals.prefix_type is ChangeType.REFACTOR and not _TESTS_NAMED.search(commit.subject):
            return ChangeType.REFACTOR
    return None


# A dependency update named by the subject (after any prefix): "update werkzeug", "dep: upgrade
# cel-go", "chore: update quic-go to v0.48.0" — not "Update version", "Update docs".
_BUMP_SUBJECT = re.compile(
    r"^(update|upgrade|downgrade|bump)s?\s+(?:the\s+)?+(?:dependency\s+|dependencies\s+)?+"
    r"(?!(version|docs?|readme|changelog|copyright|licen[cs]e|tests?|ci|examples?)\b)"
    r"[@\w`][\w@./`-]*"
    # a tool's own update of its pins: "[pre-commit.ci] pre-commit autoupdate"
    r"|^([\w.-]+\s+)?auto-?update\b",
    re.I,
)
# Prefixes a dependency update's own subject overrides: none, or ones that name no other kind.
_BUMP_PREFIXES = frozenset({None, ChangeType.CHORE, ChangeType.BUILD})


def names_bump(subject: str) -> bool:
    """Whether ``subject`` says the commit updates a dependency."""
    match = CONVENTIONAL.match(subject)
    return bool(_BUMP_SUBJECT.match(_TAGS.sub("", match["desc"] if match else subject).strip()))


def bump_type(signals: Signals) -> ChangeType | None:
    """Build for a dependency update that also adapts the code to it, unless a prefix says more.

    The paths alone do not settle it (source changed with the manifest); the subject and the
    manifest together do: "chore: update quic-go to v0.48.0" on go.mod and the proxy's code.
    """
    return ChangeType.BUILD if signals.bump and signals.prefix_type in _BUMP_PREFIXES else None


# A version number in a file that holds nothing else: version.rb, _version.py, VERSION.
_VERSION_FILE = re.compile(r"(^|/)(_{0,2}version(\.\w+)?|version\.txt)$", re.I)
_VERSION_NUMBER = re.compile(r"\d+\.\d+(\.\d+)?")


def release_signal(commit: CommitInput, prefix_type: ChangeType | None) -> Signal | None:
    """What shows the commit is a release, if it is: its subject ("message": a version as the
    whole subject, a release tool's "chore(release): 1.2.0") or its diff ("diff": a release by
    hand, or the release tool's version bump in the manifest). A release is housekeeping, low,
    whatever it touches. Read once per commit, into ``Signals.release``."""
    subject = commit.subject
    if RELEASE_COMMIT.match(subject) or (prefix_type is None and RELEASE.match(subject)):
        return "message"
    return "diff" if release_by_diff(commit) else None


def release_by_diff(commit: CommitInput) -> bool:
    """Whether the diff is a release made by hand: a version file's number moves, a changelog
    records it, and everything else is documentation (the release post, the docs' version) —
    or the project's own version moves in its manifests and nothing else does."""
    if own_version_only(commit):
        return True
    if not any(_CHANGELOG.search(change.path) for change in commit.files):
        return False
    versions = 0
    for change in commit.files:
        if _own_version_moves(change):
            versions += 1  # "start version 3.2.0": pyproject's version and the changelog's section
        elif _VERSION_FILE.search(change.path):
            lines = [text for _, text in changed_lines(change.patch)]
            if not lines or len(lines) > 4 or not all(_VERSION_NUMBER.search(t) for t in lines):
                return False
            versions += 1
        elif classify(change.path) is not PathKind.DOCS:
            return False
    return versions > 0


# The lines a release tool moves in a manifest: package.json's "version"; Maven's <version>
# beside the scm tag and the reproducible-build timestamp; a TOML manifest's version key.
_JSON_VERSION = re.compile(r'^"version"\s*:\s*"[^"]*",?$')
_POM_RELEASE = re.compile(r"^<(version|tag|project\.build\.outputTimestamp)>[^<]*</\1>$")
_MANIFESTS = frozenset({"package.json", "pom.xml", "cargo.toml", "pyproject.toml"})
_TOML_VERSION = re.compile(r'^version\s*=\s*"[^"]*"$')
_TOML_PACKAGES = frozenset({"package", "workspace.package", "project", "tool.poetry"})


def own_version_only(commit: CommitInput) -> bool:
    """Whether the diff only moves the project's own version in its manifests ("[maven-release-
    plugin] prepare for next development iteration", ``npm version``, "Bump version to 2.1").

    Maven's ``<version>`` lines count when one side is a ``-SNAPSHOT`` (the release cycle's
    development version; a dependency's version is not); a TOML ``version`` key when the hunk
    shows it under ``[package]`` or ``[project]``.
    """
    return bool(commit.files) and all(_own_version_moves(change) for change in commit.files)


def _own_version_moves(change: FileChange) -> bool:
    """Whether ``change`` is a manifest whose only change is the project's own version."""
    name = change.path.rsplit("/", 1)[-1].lower()
    if change.patch is None or name not in _MANIFESTS:
        return False
    lines = [text for _, text in changed_lines(change.patch)]
    if not lines:
        return False
    if name == "package.json":
        return all(_JSON_VERSION.match(t) for t in lines)
    if name == "pom.xml":
        return all(_POM_RELEASE.match(t) for t in lines) and any(
            "-SNAPSHOT<" in t for t in lines if t.startswith("<version>")
        )
    return _toml_package_version(change.patch)


def _toml_package_version(patch: str) -> bool:
    """Whether every changed line is a ``version = "…"`` under a package table the hunk shows."""
    lines = list(lines_by_section(patch, CARGO_SECTION))
    return bool(lines) and all(
        table in _TOML_PACKAGES and _TOML_VERSION.match(text.strip()) for table, text in lines
    )


def changed_lines(patch: str | None) -> Iterator[tuple[str, str]]:
    """Each added or removed line of a patch that is not blank: its marker and its stripped text."""
    for line in (patch or "").splitlines():
        if line[:1] not in ("+", "-") or line.startswith(("+++", "---")):
            continue
        if text := line[1:].strip():
            yield line[0], text


# A published vulnerability's id, anywhere in the message ("… fixing CVE-2026-4312").
_ADVISORY = re.compile(r"\b(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3})\b", re.I)


# What a message says when the change defends against someone: "a maliciously crafted payload
# could cause a stack overflow", "classes can potentially participate in exploits".
_THREAT = re.compile(r"\b(malicious(ly)?|exploits?|attackers?)\b", re.I)


def words_type(commit: CommitInput, signals: Signals) -> ChangeType | None:
    """Return the type the message names: an advisory or a threat anywhere in it, a build file
    the subject opens with, else the subject's words (a fix or a feature of the build machinery
    alone is build work)."""
    if _ADVISORY.search(commit.message) or _THREAT.search(commit.message):
        return ChangeType.SECURITY
    if names_manifest(commit):
        return ChangeType.BUILD
    if (said := message_type(commit.subject)) is not None:
        return on_machinery(said, signals)
    if _USE_INSTEAD.match(_AREA_LABEL.sub("", commit.subject)) and any(
        classify(change.path) in _CODE_KINDS for change in commit.files
    ):
        # one way of doing the same swapped for another in the code: "Use next_back() instead
        # of last()", "Use existing helpers for …", "A -> B"; on build files it is a change of
        # tooling
        return ChangeType.REFACTOR
    return None


_USE_INSTEAD = re.compile(
    r"use\b.+\b(instead of|rather than)\b|use (the )?existing\b|(make use of|re-?use)\b"
    # a subject that is only a swap: "RawValue -> repr(transparent)", "`A` → `B` (#1584)"
    r"|[^\s]+\s*(->|→)\s*[^\s]+(\s+\(#\d+\))?$",
    re.I,
)


# Text a subject quotes: what it talks about, not what it says ('"broken" instead of "illegal"').
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”')


def message_type(subject: str) -> ChangeType | None:
    """Return the type the words of ``subject`` name, if any (the rubric's third signal)."""
    area = _AREA_LABEL.match(subject)
    if area is not None and _LINTER.search(area[0]) and not _BUMP.search(subject):
        # the area is a linter: what is done there pleases it ("golangci-lint: silence errors")
        return ChangeType.STYLE
    words = _QUOTED.sub('""', _WITH_TESTS.sub("", _AREA_LABEL.sub("", subject)))
    for pattern, change_type in _KEYWORDS:
        if pattern.search(words):
            if change_type is ChangeType.REFACTOR and _ADDS.match(words) and pattern is not _CONST:
                # "Add hooks for read/write/cleanup": the clean-up is what is added ("Add more
                # const" adds no capability)
                return ChangeType.FEATURE
            return change_type
    return None


# A subject that opens by adding something.
_ADDS = re.compile(r"(add(s|ed)?|implement(s|ed)?|introduce[sd]?)\b", re.I)


def names_manifest(commit: CommitInput) -> bool:
    """Whether the subject opens by naming a build file of the diff as what it changes:
    "Fix go.mod and add comments", "Tidy Cargo.toml"."""
    match = _MANIFEST_SUBJECT.match(commit.subject)
    if match is None:
        return False
    named = match["name"].lower()
    return any(
        change.path.rsplit("/", 1)[-1].lower() == named
        and classify(change.path) in (PathKind.BUILD, PathKind.LOCKFILE)
        for change in commit.files
    )


_MANIFEST_SUBJECT = re.compile(
    r"^(fix|tidy|clean ?up|correct|sort|update)(es|ed|s)?\s+(the\s+)?`?(?P<name>[\w.-]+\.\w+"
    r"|makefile|gemfile)`?\b",
    re.I,
)


# The project's own record of the change: a changelog or "what's new" page in the diff.
_CHANGELOG = re.compile(
    r"(^|/)(CHANGELOG|CHANGES|NEWS|HISTORY|RELEASE[-_]?NOTES|whats-?new)[^/]*$"
    r"|(^|/)release[-_]?notes/",  # jackson's release-notes/VERSION-2.x
    re.IGNORECASE,
)
# The sections changelogs file entries under (Keep a Changelog's, towncrier's, Sphinx pages').
_SECTIONS = (
    (re.compile(r"\bsecurity\b", re.I), ChangeType.SECURITY),
    (re.compile(r"\b(bug ?fix(es)?|fixe[sd]|fix)\b", re.I), ChangeType.BUGFIX),
    (re.compile(r"\b(performance|speed ?ups?)\b", re.I), ChangeType.PERFORMANCE),
    (re.compile(r"\b(documentation|docs)\b", re.I), ChangeType.DOCS),
    (
        re.compile(r"\b(internal changes|internals|refactor(ing)?s?|maintenance)\b", re.I),
        ChangeType.REFACTOR,
    ),
    (
        re.compile(r"\b(new features?|features?|added|enhancements?|new)\b", re.I),
        ChangeType.FEATURE,
    ),
)
_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
_RST_UNDERLINE = re.compile(r"^\s*([=\-~^\"'`#*+])\1{2,}\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")


@dataclass(frozen=True)
class ChangelogEntry:
    """What the commit adds to a changelog: the section it files the entry under, its text."""

    section: ChangeType | None
    text: str


def changelog_entry(commit: CommitInput) -> ChangelogEntry | None:
    """The first entry ``commit`` adds to a changelog file, with the section it sits in.

    The section is the nearest heading above the added lines in the hunk (``### Fixed``,
    ``Bug fixes`` over an rst underline); a heading that names no kind of change (a version,
    a date) gives no section, and the entry's own words are left to the caller.
    """
    for change in commit.files:
        if change.patch is None or not _CHANGELOG.search(change.path):
            continue
        heading: str | None = None
        previous = ""
        for line in change.patch.splitlines():
            if line.startswith("@@"):
                heading, previous = None, ""
                continue
            marker, text = line[:1], line[1:]
            if marker == "+" and text.strip() and not _RST_UNDERLINE.match(text):
                entry = _BULLET.sub("", text).strip()
                if (found := _MARKDOWN_HEADING.match(text)) is not None:
                    heading = found["title"]  # a heading the commit adds: its entries follow
                    continue
                return ChangelogEntry(_section_type(heading), entry)
            if marker in (" ", "-") or not marker:
                if (found := _MARKDOWN_HEADING.match(text)) is not None:
                    heading = found["title"]
                elif _RST_UNDERLINE.match(text) and previous.strip():
                    heading = previous.strip()
                previous = text if marker != "-" else previous
    return None


def changelog_type(commit: CommitInput, *, section_only: bool = False) -> ChangeType | None:
    """The type the commit's changelog entry names: its section, else (unless ``section_only``)
    the entry's own words — only for a commit that changes more than its changelog."""
    if not any(not _CHANGELOG.search(change.path) for change in commit.files):
        return None
    entry = changelog_entry(commit)
    if entry is None:
        return None
    if entry.section is not None or section_only:
        return entry.section
    return message_type(entry.text)


def _section_type(heading: str | None) -> ChangeType | None:
    if heading is None:
        return None
    for pattern, change_type in _SECTIONS:
        if pattern.search(heading):
            return change_type
    return None


# Line comments by file extension; a changed line that is one of these cannot change behaviour.
_HASH = ("#",)
_SLASH = ("//", "/*", "*", "*/")
_COMMENTS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("py", "pyi", "sh", "bash", "rb", "pl", "r", "jl", "nim", "ex", "exs"), _HASH),
    **dict.fromkeys(
        ("js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx", "c", "h", "cc", "cpp", "hpp", "cxx",
         "java", "kt", "kts", "scala", "go", "rs", "swift", "cs", "php", "dart", "zig", "m", "mm"),
        _SLASH,
    ),
    **dict.fromkeys(("lua", "sql", "hs"), ("--",)),
}  # fmt: skip
# Settings and build files with ``#`` comments, by extension or by name.
_HASH_EXTENSIONS = frozenset(
    {
        "toml",
        "yaml",
        "yml",
        "cfg",
        "ini",
        "conf",
        "properties",
        "mk",
        "mak",
        "cmake",
        "gemspec",
        "podspec",
        "rake",
    }
)
_HASH_NAMES = frozenset(
    {
        "makefile",
        "justfile",
        "dockerfile",
        "containerfile",
        ".gitignore",
        "cmakelists.txt",
        "gemfile",
        "rakefile",
        "podfile",
    }
)
# Makefiles for one compiler or platform (Makefile.msc, GNUmakefile) and Dockerfile variants.
_HASH_NAME_STARTS = ("dockerfile", "makefile", "gnumakefile")
# Rust attributes that only shape the documentation: ``#[doc = "..."]``, ``#![doc(...)]``,
# ``#[cfg_attr(docsrs, doc(cfg(...)))]`` (docs.rs shows which feature an item needs).
_RUST_DOC_ATTRIBUTE = re.compile(r"#!?\[(doc\b|cfg_attr\(docsrs\s*,\s*doc\b)")
# Files whose diff is code (type declarations have comments and code too).
_CODE_KINDS = frozenset({PathKind.SOURCE, PathKind.TYPES})
# Files whose comments are worth a look when no code changed: a comment in a Justfile, a
# pyproject.toml or a workflow changes nothing that runs either.
_SETTINGS_KINDS = frozenset({PathKind.BUILD, PathKind.TOOLING, PathKind.CONFIG, PathKind.CI})
# Moved code: at least this many removed lines, and this share of them added back elsewhere.
_MOVED_MIN_LINES = 4
_MOVED_SHARE = 0.6


def _comment_markers(path: str) -> tuple[str, ...] | None:
    name = path.rsplit("/", 1)[-1].lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if markers := _COMMENTS.get(extension):
        return markers
    if extension in _HASH_EXTENSIONS or name in _HASH_NAMES or name.startswith(_HASH_NAME_STARTS):
        return _HASH
    return None


def diff_shape(commit: CommitInput) -> str | None:
    """What the diff of the source files looks like when that alone says what kind it is.

    ``"comments"``: every changed line of source is a comment, a docstring or blank, and the
    other files are documentation or comments too (behaviour cannot change) — or, when no
    source changed, every changed line of the build and settings files;
    ``"moved"``: most removed lines come back elsewhere in the diff (code moved or
    extracted); ``"removal"``: source lines only removed, none added (dead code dropped).
    None when there is no source, a source file has no patch, or the shape says nothing.
    """
    sources = [change for change in commit.files if classify(change.path) in _CODE_KINDS]
    if not sources:
        settings = [c for c in commit.files if classify(c.path) in _SETTINGS_KINDS]
        if settings and len(settings) == len(commit.files):
            return "comments" if _only_comments(settings) else None
        return None
    if any(change.patch is None for change in sources):
        return None
    if _only_comments(sources):
        # and the rest is documentation, or comments too: a new CI job is not docs
        rest = [c for c in commit.files if classify(c.path) not in _CODE_KINDS]
        settings = [c for c in rest if classify(c.path) is not PathKind.DOCS]
        return "comments" if not settings or _only_comments(settings) else None
    added: list[str] = []
    removed: list[str] = []
    for change in sources:
        for marker, text in changed_lines(change.patch):
            (added if marker == "+" else removed).append(text)
    if removed and not added:
        return "removal"
    if len(removed) >= _MOVED_MIN_LINES:
        pool = Counter(added)
        back = 0
        for text in removed:
            if pool[text] > 0:
                pool[text] -= 1
                back += 1
        if back >= _MOVED_SHARE * len(removed) and back >= _MOVED_SHARE * len(added):
            return "moved"
    return None


def _only_comments(changes: list[FileChange]) -> bool:
    """Whether the changes have a changed line, and every one is a comment or blank.

    In Python a docstring is prose too: a line inside one counts as a comment, and so does a
    Rust attribute that only shapes the documentation.
    """
    changed = False
    for change in changes:
        markers = _comment_markers(change.path)
        if change.patch is None or markers is None:
            return False
        prose: frozenset[int] | None = None  # read when a line is not a comment
        rust = change.path.endswith(".rs")
        for number, line in enumerate(change.patch.splitlines()):
            if line[:1] not in ("+", "-") or line.startswith(("+++", "---")):
                continue
            text = line[1:].strip()
            if text.startswith("#!") and markers == _HASH:
                return False  # a shebang names the interpreter: it is not a comment
            if not text or text.startswith(markers) or (rust and _RUST_DOC_ATTRIBUTE.match(text)):
                changed = changed or bool(text)
                continue
            if prose is None:
                prose = _docstring_lines(change.patch) if _reads_docstrings(change) else frozenset()
            if number not in prose:
                return False
            changed = True
    return changed


# Languages whose leading whitespace is syntax: re-indenting a block there changes what runs.
_INDENTED = frozenset({"py", "pyi", "nim", "hs", "coffee", "pug", "sass", "yaml", "yml"})
_SPACE = re.compile(r"\s+")
# What a formatter adds or drops at a line's end: a semicolon, a trailing comma (not in Python,
# where a trailing comma makes a tuple).
_END_PUNCTUATION = re.compile(r"[;,]+$")


def reformatted(commit: CommitInput) -> bool:
    """Whether the commit only moves whitespace around in code: every run of changed lines
    removes the same tokens it adds, in the same order, and blank lines may come or go; a
    semicolon or a trailing comma at a line's end is a formatter's too, and so are lines
    wrapped or joined where line breaks mean nothing (a condition split over three lines).

    Only code files (a language with comments of its own, tests included) count; a line that
    moved elsewhere is not whitespace, and neither is a change of indentation where the
    language reads it (Python, YAML).
    """
    if not commit.files:
        return False
    changed = False
    for change in commit.files:
        name = change.path.rsplit("/", 1)[-1].lower()
        extension = name.rsplit(".", 1)[-1] if "." in name else ""
        if change.patch is None or extension not in _COMMENTS:
            return False
        indented = extension in _INDENTED
        removed: list[str] = []
        added: list[str] = []
        for line in (*change.patch.splitlines(), " "):
            if line[:1] in ("+", "-") and not line.startswith(("+++", "---")):
                changed = True
                if text := line[1:].rstrip():
                    stripped = text.lstrip()
                    lead = text[: len(text) - len(stripped)] if indented else ""
                    token = _SPACE.sub("", stripped)
                    if not indented:
                        token = _END_PUNCTUATION.sub("", token)
                    (added if line[0] == "+" else removed).append(lead + token)
                continue
            # the run of changed lines ends here; where line breaks mean nothing, compare the
            # run's tokens joined, so that a wrapped line equals its pieces
            same = removed == added if indented else "".join(removed) == "".join(added)
            if not same:
                return False
            removed, added = [], []
    return changed


# Past this size a patch is not read for docstrings: no one rewrites a megabyte of them.
_DOCSTRING_PATCH_BYTES = 1 << 20


def _reads_docstrings(change: FileChange) -> bool:
    return (
        change.path.lower().endswith((".py", ".pyi"))
        and len(change.patch or "") <= _DOCSTRING_PATCH_BYTES
    )


_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_TRIPLE = re.compile(r"\"\"\"|'''")
_QUOTES = ('"""', "'''")
# A string that opens a line, after any of Python's string prefixes.
_OPENS_WITH_STRING = re.compile(r"^[rRuUbBfF]{0,2}(\"\"\"|''')")
# What a line of code ends with when a string on the next line continues it (an argument, a
# value): such a string is data, never a docstring.
_CONTINUED = ("(", "[", "{", ",", "=", "+", "\\")
# A line that ends by opening a string after code: ``x = """``, ``call(r'''``, ``return """``.
_OPENS_DATA = re.compile(r"(?:[=(\[{,+:]|\breturn)\s*[rRuUbBfF]{0,2}(\"\"\"|''')$")


def _docstring_lines(patch: str) -> frozenset[int]:
    """The numbers of the patch's lines that are inside a docstring, with its quotes.

    Each hunk is read twice, as the old file (context and removed lines) and as the new one
    (context and added lines), following triple quotes. A docstring opens on the line after
    a ``def``/``class`` header (a line ending in ``:``); a string after anything else is data.
    A hunk that starts inside a string tells by its first odd triple quote: one that closes
    prose closes a docstring; when it cannot tell, none of the hunk's lines count.
    """
    prose: set[int] = set()
    hunk: list[tuple[int, str]] = []
    from_top = (False, False)
    for number, line in enumerate([*patch.splitlines(), "@@"]):
        if line.startswith("@@"):
            for side, marker in enumerate("-+"):
                view = [(n, text[1:]) for n, text in hunk if text[:1] in (" ", marker, "")]
                prose |= _docstrings_in(view, from_top=from_top[side])
            hunk = []
            if match := _HUNK.match(line):
                from_top = (match[1] in ("0", "1"), match[2] in ("0", "1"))
            continue
        hunk.append((number, line))
    return frozenset(prose)


def _docstrings_in(view: list[tuple[int, str]], *, from_top: bool) -> set[int]:
    """The docstring lines of one side of a hunk (see :func:`_docstring_lines`)."""
    texts = [text.strip() for _, text in view]
    quotes = [len(_TRIPLE.findall(text)) for text in texts]

    def before(index: int) -> str:
        """The last non-blank line before ``index`` ("" at the start of the view)."""
        return next((texts[i] for i in range(index - 1, -1, -1) if texts[i]), "")

    def opens_docstring(index: int) -> bool:
        header = before(index).split("#")[0].rstrip()
        return header.endswith(":") and bool(_OPENS_WITH_STRING.match(texts[index]))

    state = "code"  # or "docstring", "string"
    if not from_top:
        first = next((i for i, count in enumerate(quotes) if count % 2), None)
        line, previous = ("", "") if first is None else (texts[first], before(first))
        if first is None or opens_docstring(first):
            # no string crosses the hunk's lines (or the whole hunk is inside one, and then
            # its lines are not counted: it could be data)
            state = "code"
        elif line in _QUOTES:
            # a lone closing quote after prose; after code that continues, or at the top of the
            # hunk, it cannot be told from an opening one
            if not previous or previous.endswith(_CONTINUED):
                return set()
            state = "docstring"
        elif _OPENS_DATA.search(line):
            state = "code"  # x = """: data opens here, the lines before were code
        elif line.endswith(_QUOTES) and not _OPENS_WITH_STRING.match(line):
            state = "docstring"  # "…the last sentence.\"\"\""
        elif not _OPENS_WITH_STRING.match(line):
            state = "code"  # x = """…: data opens here, the lines before were code
        else:
            return set()
    prose: set[int] = set()
    for index, (number, _) in enumerate(view):
        count = quotes[index]
        if state == "code":
            if count % 2:
                state = "docstring" if opens_docstring(index) else "string"
                if state == "docstring":
                    prose.add(number)
            elif count and opens_docstring(index) and texts[index].endswith(_QUOTES):
                prose.add(number)  # a docstring on one line
        else:
            if state == "docstring":
                prose.add(number)
            if count % 2:
                state = "code"
    return prose


def rubric_importance(change_type: ChangeType, signals: Signals) -> Importance | None:
    """Return the importance the rubric gives ``change_type`` on these paths, if it settles it."""
    if signals.breaking or signals.drops_api or change_type is ChangeType.SECURITY:
        return Importance.HIGH
    if change_type in _LOW_TYPES:
        return Importance.LOW
    if change_type is ChangeType.CI:
        return Importance.LOW
    if change_type is ChangeType.BUILD and signals.dev_only:
        return Importance.LOW
    if change_type is ChangeType.BUILD and signals.adapts_runtime:
        return Importance.HIGH
    if change_type in (ChangeType.BUILD, ChangeType.PERFORMANCE):
        return Importance.MEDIUM
    if change_type is ChangeType.REVERT and (verdict := signals.path_verdict) is not None:
        return verdict[1]  # undoing a test change matters as much as the change did
    if change_type in RUNTIME_TYPES:
        return (
            Importance.HIGH if signals.touches_source and not signals.surface else Importance.MEDIUM
        )
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
    shape = diff_shape(commit)
    verdict = signals.path_verdict
    released = signals.release
    if released is not None:
        # housekeeping whatever it touches, and low: the rubric's release version bump
        change_type, type_signal = ChangeType.CHORE, released
    elif shape == "comments" and prefix_backed(signals) not in _COMMENT_TYPES:
        # only comments changed, in code or in build files: whatever the prefix or the model
        # says, no behaviour can have changed (a linter's directive in one is style)
        linted = lints_only(commit.subject) or directives_only(commit)
        change_type = ChangeType.STYLE if linted else ChangeType.DOCS
        type_signal = "diff"
    elif signals.prefix_type in RESTYLE_PREFIXES and reformatted(commit):
        # only whitespace moved in code, tests included: formatting, whatever the paths say
        change_type, type_signal = ChangeType.STYLE, "diff"
    elif verdict is not None and not signals.breaking:
        if (said := over_paths(commit, signals)) is not None:
            change_type, type_signal = said, "message"
        else:
            change_type, type_signal = verdict[0], "paths"
    elif (bumped := bump_type(signals)) is not None:
        change_type, type_signal = bumped, "message"
    elif names_ci(commit, signals):
        change_type, type_signal = ChangeType.CI, "message"
    elif (backed := prefix_backed(signals)) is not None:
        change_type, type_signal = backed, "prefix"
    elif (filed := changelog_type(commit, section_only=True)) is not None:
        change_type, type_signal = filed, "changelog"
    elif (said := words_type(commit, signals)) is not None:
        change_type, type_signal = said, "message"
    elif (filed := changelog_type(commit)) is not None:
        change_type, type_signal = filed, "changelog"
    elif (built := machinery_type(signals)) is not None and change_type in _INDISCRIMINATE:
        # the build files changed, with their tests or CI, and nothing names the kind
        change_type, type_signal = built, "paths"
    elif shape in ("moved", "removal") and change_type in _INDISCRIMINATE:
        # code moved or only removed, and the model says so too: a refactor
        change_type, type_signal = ChangeType.REFACTOR, "diff"
    elif signals.touches_code and change_type in _INDISCRIMINATE:
        # Nothing in the commit names its kind and the model said refactor or chore, which a
        # small model says of most commits (benchmarks/EVAL.md: mostly wrong); by the rubric's
        # first signal a change to source code changes behaviour.
        change_type, type_signal = ChangeType.BUGFIX, "default"
    importance = (
        Importance.LOW
        if released is not None
        else verdict[1]  # the paths settle the importance with the type (tooling: build, low)
        if type_signal == "paths" and verdict is not None
        else rubric_importance(change_type, signals)
    )
    importance_signal: Signal = (
        "rubric" if type_signal in ("model", "default", "diff") else type_signal
    )
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
