"""Whether a dependency change is for developing the project only, not for running it.

The rubric rates updates of runtime dependencies medium and developer-tool updates low. A
manifest says which is which: ``devDependencies`` in ``package.json``, ``[dev-dependencies]``
in ``Cargo.toml``; so do dependabot's messages (``dependency-type: direct:development``) and
the names of the tools every ecosystem tests, lints and type-checks with. Anything this module
cannot place is treated as a runtime dependency: the safe side is the higher importance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from commit_digest.analysis.inputs import CommitInput

# dependabot's trailer, one per updated dependency
_DEPENDENCY_TYPE = re.compile(r"dependency-type:\s*(?P<kind>[\w:-]+)", re.I)
# "upgrade dev deps", "Bump the dev-dependencies group", "update devDependencies"
_DEV_WORDS = re.compile(
    r"\bdev(elopment)?[- ]?(deps?|dependenc(y|ies))\b|\bdevDependencies\b"
    # renovate's group of them: "chore(deps): Update compatible (dev)"
    r"|\(dev\)",
    re.I,
)
# The names a bump message gives: "Bump pytest from 7 to 8", "Bumps [eslint](…) from",
# "Updates `com.google.truth:truth` from 1.1.5 to 1.2.0".
_BUMPED = re.compile(
    r"\b(?:bumps?|updates?|upgrades?|downgrades?)\s+(?:the\s+)?\[?`?(?P<name>[@\w./:-]+?)`?\]?(?:\([^)]*\))?"
    r"\s+from\s"
    # renovate's: "Update dependency com.google.devtools.ksp:symbol-processing-gradle-plugin to v2"
    r"|\bupdate dependency\s+`?(?P<renovated>[@\w./:-]+?)`?\s+to\s"
    # by hand: "Bump RuboCop to `1.36.x`", "Bump cucumber to v9", "Upgrade mypy to version 1.9"
    r"|^(?:bump|update|upgrade)s?\s+`?(?P<by_hand>[@\w./:-]+?)`?\s+to\s+(?:version\s+)?`?v?\d"
    # the target first: "Upgrade to phpunit 10 (#1806)"
    r"|^(?:bump|update|upgrade)s?\s+to\s+`?(?P<target>[@\w./:-]+?)`?\s+v?\d"
    # renovate's for a Gradle plugin: "Update plugin mavenPublish to v0.29.0" (a build plugin)
    r"|\bupdate plugin\s+`?(?P<plugin>[@\w./:-]+?)`?\s+to\s",
    re.I | re.M,
)
# Tools for testing, linting, formatting and type-checking, and build plugins: what a developer
# runs, never what a user installs. Matched against the dependency's last name part.
_DEV_TOOL = re.compile(
    r"^(@types/.+|pytest(-.+)?|coverage|tox|nox|hypothesis|mypy|pyright|ruff|black|isort|flake8"
    r"(-.+)?|pylint|pre-commit|junit(-.+)?|junit-jupiter.*|truth|mockito(-.+)?|assertj(-.+)?"
    r"|hamcrest(-.+)?|jest|vitest|mocha|chai|sinon|karma(-.+)?|eslint(-.+)?|@?typescript-eslint/.+"
    r"|prettier|husky|lint-staged|typescript|rubocop(-.+)?|rspec(-.+)?|golangci-lint"
    r"|cucumber(-.+)?|minitest(-.+)?|simplecov(-.+)?|phpunit|phpstan|psalm|nyc|supertest"
    r"|maven-[\w-]+-plugin|[\w-]+-maven-plugin|[\w-]+-gradle-plugin|gradle-[\w-]+-plugin"
    # documentation generators: they build the docs, never the package
    r"|sphinx(-.+)?|mkdocs(-.+)?|alabaster|furo|pdoc|docutils"
    # the JVM's formatters, linters, coverage and API checkers
    r"|ktfmt|ktlint|detekt(-.+)?|spotless(-.+)?|google-java-format|checkstyle|spotbugs(-.+)?"
    r"|error_?prone(-.+)?|jacoco(-.+)?|kover(-.+)?|dokka(-.+)?|japicmp(-.+)?)$",
    re.I,
)
# package.json keys for developing the package; "scripts" minus the install hooks users run;
# composer.json's "require-dev" and "autoload-dev".
_PACKAGE_SECTION = re.compile(r'^\s{1,8}"(?P<section>[^"]+)"\s*:\s*[{\[]')
_DEV_PACKAGE_SECTIONS = frozenset({"devDependencies", "scripts", "require-dev", "autoload-dev"})
_INSTALL_HOOK = re.compile(r'"(pre|post)?install"\s*:')
CARGO_SECTION = re.compile(r"^\s*\[(?P<section>[^\]]+)\]\s*$")


def dev_only(commit: CommitInput) -> bool:
    """Whether every dependency ``commit`` changes is one for developing the project only."""
    message = commit.message
    kinds = [match["kind"].lower() for match in _DEPENDENCY_TYPE.finditer(message)]
    if kinds:
        return all(kind == "direct:development" for kind in kinds) or _all_dev_tools(message)
    if _DEV_WORDS.search(commit.subject) or _all_dev_tools(message):
        return True
    manifests = [
        change for change in commit.files if change.path.rsplit("/", 1)[-1] in _SECTIONED_MANIFESTS
    ]
    return bool(manifests) and all(
        change.patch is not None and _dev_lines_only(change.path, change.patch)
        for change in manifests
    )


def _all_dev_tools(message: str) -> bool:
    """Whether the message names what it bumps, and every name is a developer tool."""
    matches = list(_BUMPED.finditer(message))
    names = [
        match["name"] or match["renovated"] or match["by_hand"] or match["target"]
        for match in matches
        if not match["plugin"]
    ]
    return bool(matches) and all(
        _DEV_TOOL.match(name.rsplit(":", 1)[-1]) or _GRADLE_PLUGIN_GROUP.search(name)
        for name in names
    )


# A Gradle plugin by its Maven group: "de.mannodermaus.gradle.plugins:android-junit5"; the
# Android Gradle plugin, "com.android.tools.build:gradle".
_GRADLE_PLUGIN_GROUP = re.compile(
    r"(^|\.)gradle\.plugins?(\.|:)|^com\.android\.tools\.build:gradle$", re.I
)


def lines_by_section(patch: str, header: re.Pattern[str]) -> Iterator[tuple[str | None, str]]:
    """Each changed line of a manifest's patch that is not blank, with the section it lies in.

    ``header`` matches a section's header line and names it (group ``section``). A hunk
    starts wherever the change is: a line before any header the hunk shows is in an unknown
    section, None.
    """
    section: str | None = None
    for line in patch.splitlines():
        if line.startswith("@@"):
            section = None
            continue
        text = line[1:]
        if match := header.match(text):
            section = match["section"].strip()
        if line[:1] in ("+", "-") and text.strip():
            yield section, text


_SECTIONED_MANIFESTS = frozenset(
    {"package.json", "composer.json", "Cargo.toml", "setup.py", "pyproject.toml"}
)
# Python's extras and dependency groups for developing the project: setup.py's
# ``"docs": [...]`` in extras_require, pyproject's ``test = [...]`` under
# [project.optional-dependencies] or [dependency-groups], Poetry's dev groups.
_PYTHON_LIST = re.compile(r"""^\s*["']?(?P<key>[\w.-]+)["']?\s*[:=]\s*\[""")
_DEV_EXTRAS = frozenset(
    {
        "dev",
        "develop",
        "development",
        "doc",
        "docs",
        "documentation",
        "lint",
        "linting",
        "linters",
        "style",
        "test",
        "tests",
        "testing",
        "typing",
        "mypy",
        "tests_require",
        "benchmark",
        "benchmarks",
    }
)
_POETRY_DEV_SECTION = re.compile(r"^tool\.poetry\.(dev-dependencies|group\.(?P<group>[\w-]+)\.)")


def _python_dev_lines_only(patch: str) -> bool:
    """Whether every changed line of setup.py's or pyproject.toml's patch is a pin in a list
    for development (an extra or a group named like ``docs``, ``test`` or ``dev``) or in a
    Poetry dev group; a line whose list or table the hunk does not show is a runtime one."""
    changed = False
    table = ""  # the TOML table the line lies in ("" before any header the hunk shows)
    key: str | None = None  # the list it lies in
    for line in patch.splitlines():
        if line.startswith("@@"):
            table, key = "", None
            continue
        text = line[1:]
        opened = _PYTHON_LIST.match(text)
        if header := CARGO_SECTION.match(text):
            table, key = header["section"].strip(), None
        elif opened:
            key = opened["key"].lower()
        if line[:1] in ("+", "-") and text.strip():
            changed = True
            poetry = _POETRY_DEV_SECTION.match(table)
            dev_group = poetry is not None and (
                poetry["group"] is None or poetry["group"] in _DEV_EXTRAS
            )
            if not dev_group and key not in _DEV_EXTRAS:
                return False
        if text.strip().startswith("]") or (opened and text.rstrip(" ,").endswith("]")):
            key = None  # the list closes (a list on one line closes where it opens)
    return changed


def _dev_lines_only(path: str, patch: str) -> bool:
    """Whether every changed line of a manifest's patch lies in a section for development
    (a line in an unknown section counts as a runtime one)."""
    if path.endswith(("setup.py", "pyproject.toml")):
        return _python_dev_lines_only(patch)
    cargo = path.endswith("Cargo.toml")
    changed = False
    for section, text in lines_by_section(patch, CARGO_SECTION if cargo else _PACKAGE_SECTION):
        changed = True
        if cargo:
            dev = section is not None and section.endswith(
                ("dev-dependencies", "build-dependencies")
            )
        else:
            dev = section in _DEV_PACKAGE_SECTIONS and not _INSTALL_HOOK.search(text)
        if not dev:
            return False
    return changed
