"""Classify changed paths: what a file is tells how much its diff is worth to a reader."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache


class PathKind(StrEnum):
    LOCKFILE = "lockfile"
    VENDORED = "vendored"
    GENERATED = "generated"
    MINIFIED = "minified"
    BINARY = "binary"
    SOURCE = "source"
    TYPES = "types"  # type declarations only (TypeScript .d.ts, Python .pyi): nothing runs
    TEST = "test"
    DOCS = "docs"
    CI = "ci"
    BUILD = "build"
    EXAMPLE = "example"
    CONFIG = "config"
    TOOLING = "tooling"  # developer tools' settings: linters, formatters, test runners, hooks


# Kinds whose diff is noise to a reviewer; dropped first when the prompt is over budget.
NOISE = frozenset(
    {PathKind.LOCKFILE, PathKind.VENDORED, PathKind.GENERATED, PathKind.MINIFIED, PathKind.BINARY}
)

LOCKFILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "poetry.lock",
        "pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "cargo.lock",
        "gemfile.lock",
        "composer.lock",
        "go.sum",
        "mix.lock",
        "podfile.lock",
        "pubspec.lock",
        "flake.lock",
        "packages.lock.json",
        "gradle.lockfile",
        "package.resolved",
        "conda-lock.yml",
    }
)
BUILD_FILES = frozenset(
    {
        "makefile",
        "cmakelists.txt",
        "dockerfile",
        "containerfile",
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "package.json",
        "cargo.toml",
        "go.mod",
        "build.gradle",
        "build.gradle.kts",
        "pom.xml",
        "gemfile",
        "requirements.txt",
        "meson.build",
        "build.bazel",
        "workspace",
        "justfile",
        "manifest.in",
        "compose.yaml",
        "docker-compose.yml",
        # autotools, CMake modules, Bazel, and the other ecosystems' manifests
        "configure.ac",
        "configure.in",
        "makefile.am",
        "makefile.in",
        "module.bazel",
        "workspace.bazel",
        "settings.gradle",
        "settings.gradle.kts",
        "build.sbt",
        "package.swift",
        "podfile",
        "rakefile",
        "composer.json",
        "pubspec.yaml",
        "mix.exs",
        "deno.json",
        "vcpkg.json",
        "conanfile.txt",
        "conanfile.py",
        "meson_options.txt",
        "meson.options",
        ".goreleaser.yml",
        ".goreleaser.yaml",
        "libs.versions.toml",  # Gradle's version catalog
        "magefile.go",  # Go's make: mage's targets, and its zero-install bootstrap
        "mage.go",
    }
)
# Build files by extension: package specs, project files, autoconf and CMake macros.
BUILD_EXTENSIONS = frozenset(
    {"gemspec", "cabal", "nimble", "csproj", "fsproj", "vbproj", "props", "m4", "cmake", "mak"}
)
# A makefile for one compiler or platform: win32/Makefile.msc, Makefile.bor, GNUmakefile.
_MAKEFILE = re.compile(r"^(gnu)?makefile(\.[\w-]+)?$")
# Unix manual pages in roff, by section: zlib.3, git.1, man/foo.8.
_MAN_PAGE = re.compile(r"(^|/)man\d?/|(^|/)[a-z][\w+-]*\.([1-9][a-z]{0,3}|man)$")
BINARY_EXTENSIONS = frozenset(
    {
        "png",
        "jpg",
        "jpeg",
        "gif",
        "bmp",
        "ico",
        "webp",
        "tiff",
        "psd",
        "pdf",
        "zip",
        "gz",
        "tgz",
        "bz2",
        "xz",
        "7z",
        "rar",
        "jar",
        "war",
        "ear",
        "whl",
        "egg",
        "so",
        "dylib",
        "dll",
        "exe",
        "bin",
        "o",
        "a",
        "lib",
        "class",
        "pyc",
        "pyo",
        "wasm",
        "woff",
        "woff2",
        "ttf",
        "otf",
        "eot",
        "mp3",
        "mp4",
        "wav",
        "ogg",
        "flac",
        "mov",
        "avi",
        "mkv",
        "webm",
        "sqlite",
        "db",
        "onnx",
        "pt",
        "pth",
        "safetensors",
        "h5",
        "pkl",
        "npy",
        "npz",
        "parquet",
    }
)
# Markup that only documents: Markdown, reStructuredText, AsciiDoc, Ruby's RDoc, plain text.
DOC_EXTENSIONS = frozenset({"md", "mdx", "rst", "adoc", "asciidoc", "rdoc", "txt"})
CONFIG_EXTENSIONS = frozenset(
    {"yaml", "yml", "toml", "ini", "cfg", "conf", "json", "env", "properties"}
)
_TEST = re.compile(
    r"(^|/)(tests?|__tests__|spec|specs|testing|testdata|e2e)(/|$)|(^|/)test_[^/]*$|_test\.\w+$"
    r"|\.(test|spec)\.\w+$|(^|/)conftest\.py$"
    # a C project's test program by its bare name: test.c, tests.c
    r"|(^|/)tests?\.(c|h|cc|cpp)$"
)
# Kotlin and Gradle test source sets, by their camel-cased names: src/commonTest/, src/jvmTest/,
# src/androidUnitTest/ (not src/latest/).
_TEST_SOURCE_SET = re.compile(r"(^|/)src/[a-z][A-Za-z0-9]*Test/")
_VENDORED = re.compile(
    r"(^|/)(vendor|vendored|third_party|third-party|node_modules|external|deps)/"
)
_GENERATED = re.compile(
    r"(\.pb\.go|_pb2\.pyi?|_pb2_grpc\.py|\.pb\.(cc|h)|\.generated\.\w+|\.gen\.\w+|_generated\.\w+"
    r"|\.snap|\.svg)$|(^|/)(dist|build|gen|generated|__generated__)/"
)
_MINIFIED = re.compile(r"\.min\.(js|css)$|\.(js|css)\.map$|-bundle\.js$")
_TYPES = re.compile(r"\.d\.[cm]?ts$|\.pyi$|\.js\.flow$")
_CI = re.compile(
    r"^ci/|^\.github/(workflows|actions|scripts)/|^\.?travis/|^\.gitlab-ci\.yml$|^\.circleci/|^\.buildkite/|^Jenkinsfile$|^\.ci/|^\.?azure-pipelines(\.ya?ml$|/)|^\.travis\.yml$"
    # the other hosted CI services' settings, by the names they read
    r"|^\.?appveyor\.ya?ml$|^\.drone\.ya?ml$|^bitbucket-pipelines\.yml$|^\.cirrus\.ya?ml$"
    r"|^\.woodpecker(\.ya?ml$|/)|^\.semaphore/"
    # the coverage service the CI reports to
    r"|^(\.github/)?\.?codecov\.ya?ml$"
)
_DOCS = re.compile(
    r"(^|/)(docs?|documentation|site|release[-_]?notes)/"
    # what a repository shows people: funding, issue and pull-request templates
    r"|^\.github/(funding\.ya?ml|issue_template/|pull_request_template)"
    # instructions for AI coding assistants are prose: CLAUDE.md, AGENTS.md, .cursorrules
    r"|(^|/)(\.claude|\.cursor)/|(^|/)\.cursorrules$|^\.github/copilot-instructions\.md$"
    r"|(^|/)(README|CHANGELOG|CHANGES|NEWS|HISTORY|RELEASE[-_]?NOTES|CONTRIBUTING|LICENSE|NOTICE"
    r"|AUTHORS|CODEOWNERS)[^/]*$",
    re.IGNORECASE,
)
# Developer tools' own settings: what they check or how they run, not what the software does.
_TOOLING = re.compile(
    r"(^|/)(\.pre-commit-config\.yaml|\.flake8|\.pylintrc|pylintrc|\.?mypy\.ini|\.?ruff\.toml"
    r"|\.editorconfig|\.gitignore|\.gitattributes|\.gitmodules|\.mailmap|\.git-blame-ignore-revs"
    r"|\.(prettier|eslint|stylelint|markdownlint|yamllint|mocha|nyc|babel|lintstaged)rc[^/]*"
    r"|\.(prettier|eslint)ignore|eslint\.config\.[cm]?[jt]s|biome\.jsonc?|\.clang-(format|tidy)"
    r"|\.?rustfmt\.toml|\.?clippy\.toml|\.golangci\.ya?ml|\.codespellrc|\.coveragerc"
    r"|pytest\.ini|tox\.ini|noxfile\.py|karma\.conf\.[cm]?js"
    r"|(jest|vitest|playwright|cypress)\.config\.[cm]?[jt]s|\.readthedocs\.ya?ml|\.yamllint(\.ya?ml)?"
    r"|(phpstan|psalm)(-baseline)?\.(neon|xml)(\.dist)?|phpunit\.xml(\.dist)?|\.php-cs-fixer(\.dist)?\.php"
    r"|\.php_cs(\.dist)?|\.styleci\.ya?ml"
    r"|gradlew(\.bat)?|mvnw(\.cmd)?"
    # package managers' and toolchain pins for working in the repository (not what installs it)
    r"|\.npmrc|\.yarnrc(\.ya?ml)?|\.pnpmfile\.c?js|\.nvmrc|\.node-version|\.tool-versions"
    r"|\.python-version|\.ruby-version|rust-toolchain(\.toml)?)$"
    r"|(^|/)\.(vscode|idea|devcontainer)/"
    # the build tool's own launcher, pinned in the repository (gradle wrapper, maven wrapper)
    r"|(^|/)(gradle|\.mvn)/wrapper/"
)
# Automation of the repository itself: dependency bots are configured beside the workflows.
_REPO_BOTS = re.compile(r"^\.github/(dependabot\.ya?ml|renovate\.json5?)$|^renovate\.json5?$")
# Dependency pins kept in requirement files and folders (requirements/dev.txt, tests-min.in).
_REQUIREMENTS = re.compile(
    r"(^|/)(requirements[^/]*/[^/]+\.(txt|in)|([\w.]+[-_])?(requirements|constraints)[^/]*\.(txt|in)"
    r"|environment\.ya?ml)$"
)
# Pins for developing, testing or documenting the project, not for running it.
_DEV_REQUIREMENTS = re.compile(
    r"(^|/)requirements[^/]*/([^/]*[-_.])?(dev|develop|tests?|docs?|typing|lint|style|ci|check)"
    r"(\d*|[-_.][^/]*)\.(txt|in)$|(^|/)requirements[-_.](dev|tests?|docs?|typing|lint)[^/]*\.(txt|in)$"
    # named before: dev-requirements.txt, test_requirements.txt, mkdocs-requirements.txt
    r"|(^|/)(dev|develop|tests?|docs?|mkdocs|sphinx|typing|lint)[-_]requirements[^/]*\.(txt|in)$"
    # the docs' own pins, beside them: docs/requirements.txt (Read the Docs builds with it)
    r"|(^|/)docs?/requirements[^/]*\.(txt|in)$"
)
# A Helm chart's templates and values are what the chart deploys: its runtime.
_CHART_RUNTIME = re.compile(r"(^|/)charts?/[^/]+/(templates/.+|values\.ya?ml)$")
_CHART_META = re.compile(r"(^|/)charts?/[^/]+/Chart\.(yaml|lock)$")
# Cargo's build script sits beside Cargo.toml, never inside src/ (where build.rs is a module).
_CARGO_BUILD_SCRIPT = re.compile(r"^(?!(.*/)?src/)(.*/)?build\.rs$")
# Build logic compiled before the build and never shipped: Gradle's buildSrc, mage's targets.
_BUILD_LOGIC = re.compile(r"(^|/)(buildSrc|magefiles)/")
_EXAMPLE = re.compile(r"(^|/)_?(examples?|samples?|demos?|recipes|benchmarks?)/")


@lru_cache(maxsize=65536)
def classify(path: str) -> PathKind:
    """The kind of file ``path`` is, judged from its name alone."""
    lower = path.lower()
    name = lower.rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if name in LOCKFILES or name.endswith(".lock"):
        return PathKind.LOCKFILE
    if _VENDORED.search(lower):
        return PathKind.VENDORED
    if extension in BINARY_EXTENSIONS:
        return PathKind.BINARY
    if _MINIFIED.search(lower):
        return PathKind.MINIFIED
    if _GENERATED.search(lower):
        return PathKind.GENERATED
    if _CI.search(path) or _REPO_BOTS.search(lower):
        return PathKind.CI
    if _TOOLING.search(lower) or _DEV_REQUIREMENTS.search(lower):
        return PathKind.TOOLING
    if _CHART_RUNTIME.search(lower):
        return PathKind.SOURCE
    if _CHART_META.search(path) or _REQUIREMENTS.search(lower):
        return PathKind.BUILD
    if _TEST.search(lower) or _TEST_SOURCE_SET.search(path):
        return PathKind.TEST
    if _DOCS.search(path):
        return PathKind.DOCS
    if _BUILD_LOGIC.search(path):
        return PathKind.BUILD
    if name in BUILD_FILES or extension in BUILD_EXTENSIONS or _CARGO_BUILD_SCRIPT.search(lower):
        return PathKind.BUILD  # before the extensions: CMakeLists.txt is not a text document
    if extension in DOC_EXTENSIONS or _MAN_PAGE.search(lower):
        return PathKind.DOCS
    if name.startswith("dockerfile") or name.startswith("requirements") or _MAKEFILE.match(name):
        return PathKind.BUILD
    if _EXAMPLE.search(lower):
        return PathKind.EXAMPLE
    if _TYPES.search(lower):
        return PathKind.TYPES
    if extension in CONFIG_EXTENSIONS or name.startswith("."):
        return PathKind.CONFIG
    return PathKind.SOURCE
