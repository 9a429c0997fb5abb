"""The heuristic analyzer: type and importance from the prefix, the paths and the size."""

from __future__ import annotations

import pytest

from commit_digest.analysis.evidence import names_bump
from commit_digest.analysis.heuristic import heuristic_analysis
from commit_digest.analysis.inputs import CommitInput, FileChange
from report.schema import Analysis, ChangeType, Importance


def commit(message: str, *paths: str, additions: int | None = None) -> CommitInput:
    files = tuple(
        FileChange(
            path=p,
            status="modified",
            additions=additions,
            deletions=0 if additions is not None else None,
        )
        for p in paths
    )
    return CommitInput("acme/app", "a" * 40, message, "Alice", files, len(files), "delivery")


@pytest.mark.parametrize(
    ("message", "paths", "change_type", "importance"),
    [
        ("feat(api): add paging", ["src/api.py"], ChangeType.FEATURE, Importance.HIGH),
        (
            "fix: crash on empty input",
            ["src/parse.py", "tests/test_parse.py"],
            ChangeType.BUGFIX,
            Importance.HIGH,
        ),
        ("fix: typo in example", ["examples/demo.py"], ChangeType.BUGFIX, Importance.MEDIUM),
        ("perf: cache lookups", ["lib/cache.rs"], ChangeType.PERFORMANCE, Importance.MEDIUM),
        ("docs: explain paging", ["docs/paging.md"], ChangeType.DOCS, Importance.LOW),
        ("refactor: split module", ["src/a.py", "src/b.py"], ChangeType.REFACTOR, Importance.LOW),
        ("test: cover paging", ["tests/test_paging.py"], ChangeType.TEST, Importance.LOW),
        ("ci: cache pip", [".github/workflows/ci.yml"], ChangeType.CI, Importance.LOW),
        ("build(deps): bump flask", ["pyproject.toml"], ChangeType.BUILD, Importance.MEDIUM),
        ("chore: tidy", ["src/a.py"], ChangeType.CHORE, Importance.LOW),
        ("style: format", ["src/a.py"], ChangeType.STYLE, Importance.LOW),
        ('revert: "feat: x"', ["src/a.py"], ChangeType.REVERT, Importance.HIGH),
        ("security: escape output", ["src/render.py"], ChangeType.SECURITY, Importance.HIGH),
        ("refactor!: drop the v1 API", ["src/api.py"], ChangeType.REFACTOR, Importance.HIGH),
        ("Update README.md", ["README.md"], ChangeType.DOCS, Importance.LOW),
        ("Add retry to the uploader", ["src/upload.py"], ChangeType.FEATURE, Importance.HIGH),
        ("Fix the flaky login", ["src/login.py"], ChangeType.BUGFIX, Importance.HIGH),
        ("Merge pull request #12 from acme/x", ["src/a.py"], ChangeType.CHORE, Importance.LOW),
        ("wip", ["tests/test_a.py", "tests/test_b.py"], ChangeType.TEST, Importance.LOW),
        ("tweak settings", ["config/app.yaml"], ChangeType.CHORE, Importance.MEDIUM),
        ("v2.8.1", ["setup.cfg", "CHANGELOG.md"], ChangeType.CHORE, Importance.LOW),
        ("grep-0.4.0", ["Cargo.toml", "Cargo.lock"], ChangeType.CHORE, Importance.LOW),
        ("Fix typos in docstrings", ["src/api.py"], ChangeType.DOCS, Importance.LOW),
        ("regex: add unit tests for anchors", ["src/regex.rs"], ChangeType.TEST, Importance.LOW),
        ("Avoid storing a nil pointer", ["cmd/root.go"], ChangeType.BUGFIX, Importance.HIGH),
        ("Pass the color flag through", ["src/run.py"], ChangeType.BUGFIX, Importance.HIGH),
        # a release tool's commit is housekeeping, though it touches only the changelog
        (
            "chore(release): version 20.10.0 [skip ci]",
            ["CHANGELOG.md"],
            ChangeType.CHORE,
            Importance.LOW,
        ),
        ("release: 2.1.0", ["package.json", "CHANGELOG.md"], ChangeType.CHORE, Importance.LOW),
        # type-checker upkeep changes nothing users run
        ("Fixed mypy error, refs #568", ["src/db.py"], ChangeType.CHORE, Importance.LOW),
        ("Fix pyright complaints", ["src/db.py"], ChangeType.CHORE, Importance.LOW),
        # the annotations users read are fixed: a bugfix, medium (what runs is the same)
        (
            "Fix return types in json commands",
            ["redis/json.py"],
            ChangeType.BUGFIX,
            Importance.MEDIUM,
        ),
        (
            "Fixing argument type hints for eval",
            ["redis/core.py"],
            ChangeType.BUGFIX,
            Importance.MEDIUM,
        ),
        # log lines added: what users see, not what runs
        (
            "Added logging for MultiDBClients",
            ["redis/client.py"],
            ChangeType.FEATURE,
            Importance.MEDIUM,
        ),
        # tests that came with the change do not name its kind; a deprecation notice is a feature
        (
            "Adding CLAIM option + unit tests",
            ["redis/core.py", "tests/test_core.py"],
            ChangeType.FEATURE,
            Importance.HIGH,
        ),
        (
            "Mark `Rack::File` as deprecated.",
            ["lib/rack/file.rb"],
            ChangeType.FEATURE,
            Importance.HIGH,
        ),
        # fewer copies or allocations: the rubric's "avoid copying"
        (
            "Avoid over-allocation in ToChars",
            ["src/chars.go"],
            ChangeType.PERFORMANCE,
            Importance.MEDIUM,
        ),
        (
            "Avoid copying the buffer twice",
            ["src/io.rs"],
            ChangeType.PERFORMANCE,
            Importance.MEDIUM,
        ),
        # "Perform" is not "perf"; "supports" is "support"
        (
            "Perform numeric conversion for adapters",
            ["src/Gson.java"],
            ChangeType.BUGFIX,
            Importance.HIGH,
        ),
        (
            "create-table now supports multiple --pk",
            ["src/cli.py"],
            ChangeType.FEATURE,
            Importance.HIGH,
        ),
        # a scope naming the area names the type: CI work, dependencies, tests
        (
            "chore(ci): add a contributors step",
            [".github/workflows/pr.yml", "package.json"],
            ChangeType.CI,
            Importance.LOW,
        ),
        (
            "fix(deps): update dependency axios to v1.6",
            ["src/a.ts"],
            ChangeType.BUILD,
            Importance.MEDIUM,
        ),
        ("refactor(tests): share fixtures", ["tests/conftest.py"], ChangeType.TEST, Importance.LOW),
        ("perf(ci): cache the wheels", [".github/workflows/ci.yml"], ChangeType.CI, Importance.LOW),
        # workflows and the hooks they run: CI work whatever the prefix says
        (
            "fix: Update CI workflow versions",
            [".github/workflows/release.yml", ".pre-commit-config.yaml"],
            ChangeType.CI,
            Importance.LOW,
        ),
        # deprecating a public API changes the interface; removing a stray deprecation fixes it
        (
            "Deprecate JsonElement constructor",
            ["src/JsonElement.java"],
            ChangeType.FEATURE,
            Importance.HIGH,
        ),
        (
            "extra: Remove stray deprecation",
            ["src/multipart.rs"],
            ChangeType.BUGFIX,
            Importance.HIGH,
        ),
        (
            "Adding a LoadArchive to the loader",
            ["pkg/loader.go"],
            ChangeType.FEATURE,
            Importance.HIGH,
        ),
        (
            "examples: remove redundant borrows",
            ["src/form.rs"],
            ChangeType.REFACTOR,
            Importance.LOW,
        ),
        # "inline" as an option's name is not a speed-up
        ("Inline the hot loop", ["src/scan.c"], ChangeType.PERFORMANCE, Importance.MEDIUM),
        ("Remove the --inline-source option", ["src/rdoc.rb"], ChangeType.BUGFIX, Importance.HIGH),
        # the toolchain and the dependencies
        ("Drop activesupport dependency", ["lib/capture.rb"], ChangeType.BUILD, Importance.MEDIUM),
        ("Update MSRV for all crates to 1.75", ["src/lib.rs"], ChangeType.BUILD, Importance.MEDIUM),
        (
            "examples: Update to diesel-async 0.6",
            ["src/main.rs"],
            ChangeType.BUILD,
            Importance.MEDIUM,
        ),
        (
            "Require Ruby 2.7.8 as minimum Ruby version",
            ["Gemfile", ".rubocop.yml"],
            ChangeType.BUILD,
            Importance.MEDIUM,
        ),
        # a formatting word beats build files, not tests or workflows
        (
            "Fix localization test for time formatting",
            ["tests/shtest"],
            ChangeType.TEST,
            Importance.LOW,
        ),
        (
            "ci: check the examples with rustfmt",
            [".github/workflows/CI.yml"],
            ChangeType.CI,
            Importance.LOW,
        ),
        # a release named by its version, with or without its PR number
        (
            "Bump to version v4.2 (#32102)",
            ["internal/version/version.go"],
            ChangeType.CHORE,
            Importance.LOW,
        ),
        (
            "4.1.0 release (#2063)",
            ["CHANGELOG.md", "lib/version.rb"],
            ChangeType.CHORE,
            Importance.LOW,
        ),
        ("2.0.2 release", ["lib/version.rb"], ChangeType.CHORE, Importance.LOW),
        # a fix prefix on the build machinery only: a build change
        (
            "fix: address goreleaser build issues",
            ["Makefile", ".goreleaser.yaml", ".github/workflows/release.yml"],
            ChangeType.BUILD,
            Importance.MEDIUM,
        ),
        (
            "printer: slightly simplify code",
            ["src/printer.rs"],
            ChangeType.REFACTOR,
            Importance.LOW,
        ),
        # a dependency update the code is adapted to: build, and high (what runs changes)
        (
            "Upgrade pydantic",
            ["pyproject.toml", "src/app/models.py"],
            ChangeType.BUILD,
            Importance.HIGH,
        ),
        # a scope without its colon still scopes
        ("fix(deps) bump lodash to 4.17.21", ["package.json"], ChangeType.BUILD, Importance.MEDIUM),
        # other CI services' files under a build prefix; install settings; Cargo's build script
        ("build: test on Node 20", [".travis.yml", "appveyor.yml"], ChangeType.CI, Importance.LOW),
        ("chore: safer install settings", [".npmrc"], ChangeType.BUILD, Importance.LOW),
        ("Skip the probe when cross compiling", ["build.rs"], ChangeType.BUILD, Importance.MEDIUM),
        # an advisory raised on a runtime dependency is security; on a dev tool it stays build
        ("fix(security): CVE-2024-1234", ["acme.gemspec"], ChangeType.SECURITY, Importance.HIGH),
        (
            "Bump eslint from 8.1.0 to 8.2.0 (GHSA-2p57-rm9w-gvfp)",
            ["package.json"],
            ChangeType.BUILD,
            Importance.LOW,
        ),
        # a linter's rules: silenced in a test, or applied with their rewrites
        (
            "Silence a clippy lint in the parser tests",
            ["tests/parser.rs"],
            ChangeType.STYLE,
            Importance.LOW,
        ),
        (
            "Enable two new rubocop cops",
            [".rubocop.yml", "lib/acme/util.rb", "test/test_util.rb"],
            ChangeType.STYLE,
            Importance.LOW,
        ),
        # a C project's test program by its bare name, whatever the subject says
        ("Fix timing based macOS CI failure.", ["test.c"], ChangeType.TEST, Importance.LOW),
        # the coverage service's settings are CI's, with or without a subject naming it
        ("Update codacy config", [".github/codecov.yml"], ChangeType.CI, Importance.LOW),
        (
            "chore: adds updated codecov",
            [".github/workflows/node.yml", "package.json"],
            ChangeType.CI,
            Importance.LOW,
        ),
        ("Use container-based Travis", [".travis.yml", "Makefile"], ChangeType.CI, Importance.LOW),
        # but a CI word in a tag names nothing: with the Makefile it is the build machinery
        ("Use the cache [skip ci]", [".travis.yml", "Makefile"], ChangeType.BUILD, Importance.MEDIUM),
        ("Fix CI on Windows", [".travis.yml", "src/io.c"], ChangeType.BUGFIX, Importance.HIGH),
        # pins named for what they are for: the docs' tooling, or what runs
        (
            "chore(deps): bump mkdocs-material",
            ["mkdocs-requirements.txt"],
            ChangeType.BUILD,
            Importance.LOW,
        ),
        ("Bump urllib3", ["pip-requirements.txt"], ChangeType.BUILD, Importance.MEDIUM),
        # Gradle's buildSrc is build logic, never shipped
        (
            "Drop the stdlib dependency",
            ["buildSrc/src/main/kotlin/Deps.kt"],
            ChangeType.BUILD,
            Importance.MEDIUM,
        ),
        # a revert is a revert whatever it touches, and weighs what it undoes
        (
            'Revert "refactor: drop a duplicate assignment"',
            ["test/respond.js"],
            ChangeType.REVERT,
            Importance.LOW,
        ),
        # a style or refactor prefix on test files names the type, unless it is about the tests
        ("style: gofumpt command_test.go", ["command_test.go"], ChangeType.STYLE, Importance.LOW),
        ("refactor: use slices.Equal", ["encode_test.go"], ChangeType.REFACTOR, Importance.LOW),
        (
            "refactor(cli): convert tests to testify",
            ["env_test.go"],
            ChangeType.TEST,
            Importance.LOW,
        ),
        # the subject names the manifest it fixes
        (
            "Fix go.mod and add comments",
            ["go.mod", "go.sum", "suggest.go"],
            ChangeType.BUILD,
            Importance.MEDIUM,
        ),
        # a release prepared by hand
        ("Prepare for v1.0.2 GA", ["CHANGELOG.md", "README.md"], ChangeType.CHORE, Importance.LOW),
        # added clean-up hooks are added; the same class in another language is a refactor
        (
            "Add hooks for read/write/cleanup",
            ["adapters/qt.h"],
            ChangeType.FEATURE,
            Importance.HIGH,
        ),
        (
            "Convert ClassJsonAdapter to kotlin",
            ["src/ClassJsonAdapter.kt"],
            ChangeType.REFACTOR,
            Importance.LOW,
        ),
        # one way of doing the same swapped for another, in code; on tooling it is not a refactor
        (
            "Use next_back() instead of last()",
            ["src/dir_entry.rs"],
            ChangeType.REFACTOR,
            Importance.LOW,
        ),
        (
            "use pip-compile instead of pip-compile-multi",
            [".github/workflows/ci.yml", "requirements/dev.in"],
            ChangeType.CI,
            Importance.LOW,
        ),
        # a linter's rules in the build settings are style; the linter's update is not
        ("remove unused ruff check rule", ["pyproject.toml"], ChangeType.STYLE, Importance.LOW),
        ("Bump ruff to 0.5", ["pyproject.toml"], ChangeType.BUILD, Importance.LOW),
        # a changelog written under chore: is release notes (a chore, in the rubric)
        (
            "chore: add changelog entry for #1125",
            ["CHANGELOG.md"],
            ChangeType.CHORE,
            Importance.LOW,
        ),
        ("Add changelog entry for #1125", ["CHANGELOG.md"], ChangeType.DOCS, Importance.LOW),
        # input rejected that used to be accepted is a fix
        (
            "read: Add additional RESP3 bool validation",
            ["read.c"],
            ChangeType.BUGFIX,
            Importance.HIGH,
        ),
        # an atomic test-and-set is no test
        (
            "Use atomic test and set, if available, for dynamic CRC tables.",
            ["crc32.c"],
            ChangeType.BUGFIX,
            Importance.HIGH,
        ),
        # the refactoring catalogue's names and aims; inlining for speed stays performance
        (
            "Inline Serializer::serialize_seq into serialize_bytes",
            ["src/ser.rs"],
            ChangeType.REFACTOR,
            Importance.LOW,
        ),
        ("matcher: add a bunch of inline annotations", ["src/m.rs"], ChangeType.PERFORMANCE,
         Importance.MEDIUM),
        ("parseLongArg code rework for readability", ["flag.go"], ChangeType.REFACTOR,
         Importance.LOW),
        # the code's own helpers reused, or one thing swapped for another, in code
        (
            "Use existing helpers for running visit_seq over a Vec/slice",
            ["src/value/de.rs"],
            ChangeType.REFACTOR,
            Importance.LOW,
        ),
        ("RawValue -> repr(transparent)", ["src/raw.rs"], ChangeType.REFACTOR, Importance.LOW),
        ("Update WDM (0.1.1 → 0.2.0) in the tool", ["src/w.rb"], ChangeType.BUGFIX,
         Importance.HIGH),
        # a subject that opens by documenting
        (
            "Document the spaceless shortcut argument format -Ifile",
            ["flag.go"],
            ChangeType.DOCS,
            Importance.LOW,
        ),
        # a style linter named on test files is style; go vet's fixes in tests are test work
        ("fix golint warnings", ["flag_test.go"], ChangeType.STYLE, Importance.LOW),
        ("flag_test: fix go vet (#123)", ["flag_test.go"], ChangeType.TEST, Importance.LOW),
        # manual pages are documentation; a makefile for one compiler is a build file
        ("Put license in zlib.3 man page.", ["zlib.3"], ChangeType.DOCS, Importance.LOW),
        ("Link with the static runtime", ["win32/Makefile.msc"], ChangeType.BUILD,
         Importance.MEDIUM),
        # quoted text is what a subject talks about, not what it says
        ('Use weaker wording: "broken" instead of "illegal"', ["lib/command.js"],
         ChangeType.REFACTOR, Importance.LOW),
        ("Do not regenerate `ParseError`", ["source/core/response.ts"], ChangeType.BUGFIX,
         Importance.HIGH),
        ("Fix subsets by spelling out all operator pairs", ["src/Constraint.php"],
         ChangeType.BUGFIX, Importance.HIGH),
        # a fix of the build machinery alone (its release notes beside it) is build work
        ("Fix #1264: use more dynamic shade target package", ["pom.xml",
         "release-notes/VERSION-2.x"], ChangeType.BUILD, Importance.MEDIUM),
        ("Add `generate` workflow", [".github/workflows/gen.yml"], ChangeType.CI, Importance.LOW),
        # php-cs-fixer's and StyleCI's settings are developer tools'
        ("Update the fixer rules", [".php_cs", ".styleci.yml"], ChangeType.BUILD, Importance.LOW),
        # the project's version bumped by name is a release chore
        ("Version bump to 2.9.1", ["lib/faraday/version.rb"], ChangeType.CHORE, Importance.LOW),
        ("Update version to 1.7.13", ["CMakeLists.txt", "Makefile", "cJSON.c"], ChangeType.CHORE,
         Importance.LOW),
        ("Update Changelog for version 1.7", ["CHANGELOG.md"], ChangeType.CHORE, Importance.LOW),
        ("Update Changelog", ["CHANGELOG.md"], ChangeType.DOCS, Importance.LOW),
        # a fixup is a fix, of the code that must build on the MSRV
        ("fixup MSRV", ["src/macros.rs"], ChangeType.BUGFIX, Importance.HIGH),
        # const-qualification keeps behaviour, even when it is "added"
        ("print_string: Add more const", ["cJSON.c"], ChangeType.REFACTOR, Importance.LOW),
        # an opening "Document" outranks the words of what it documents
        ("Document `BackgroundTasks` behavior when an error happens",
         ["docs/background.md", "tests/test_background.py"], ChangeType.DOCS, Importance.LOW),
        # a downgrade is an update too; Flow's declarations are types; AI assistants' rules prose
        ("Downgrade flake8 from 4.0.1 to 3.9.2 (#1567)", ["requirements.txt"], ChangeType.BUILD,
         Importance.LOW),
        ("Improve Flow type definition", ["index.js.flow"], ChangeType.FEATURE, Importance.MEDIUM),
        ("Add AI agent guidelines", [".claude/CLAUDE.md", ".cursorrules",
         ".github/copilot-instructions.md"], ChangeType.DOCS, Importance.LOW),
        # an area that is a linter is style work; PHP's "CS" is its coding standard
        ("golangci-lint: silence errors", ["entry.go"], ChangeType.STYLE, Importance.LOW),
        ("CS", ["src/PHPMailer.php"], ChangeType.STYLE, Importance.LOW),
        ("Fix CS", ["src/SMTP.php"], ChangeType.STYLE, Importance.LOW),
        ("Add CS pin to the SPI driver", ["src/spi.c"], ChangeType.FEATURE, Importance.HIGH),
        # sized up front is a performance change; an early exit a refactor
        ("TextFormatter: Format: pre-alloc data", ["text_formatter.go"], ChangeType.PERFORMANCE,
         Importance.MEDIUM),
        ("Early exit", ["include/fmt/format.h"], ChangeType.REFACTOR, Importance.LOW),
        ("Schema._deserialize: use func rather than lambda", ["src/schema.py"],
         ChangeType.REFACTOR, Importance.LOW),
        # what users read of a change: an error message's text, nullability annotations
        ("Fix error message (#2246)", ["src/schema.py"], ChangeType.BUGFIX, Importance.MEDIUM),
        ("Fix error on empty message", ["src/schema.py"], ChangeType.BUGFIX, Importance.HIGH),
        ("Add some missing nullable annotations.", ["retrofit-mock/src/main/java/Calls.java"],
         ChangeType.BUGFIX, Importance.MEDIUM),
        # refactoring's names: a leftover removed, a helper used, conditions merged
        ("remove code leftover from previous commit", ["rich/style.py"], ChangeType.REFACTOR,
         Importance.LOW),
        ("Make use of strings.Cut (#1005)", ["mux.go"], ChangeType.REFACTOR, Importance.LOW),
        ("Reuse Suppliers.get()", ["src/main/java/SystemProperties.java"], ChangeType.REFACTOR,
         Importance.LOW),
        ("Merge if statements with the same return value.", ["src/main/java/Builder.java"],
         ChangeType.REFACTOR, Importance.LOW),
        ("Merge branch 'main' into paging", ["src/a.py"], ChangeType.CHORE, Importance.LOW),
        # less memory for the same results; punctuation the language does not need; Javadoc
        ("reduce context struct size from 216 bytes to 208 bytes (#912)", ["context.go"],
         ChangeType.PERFORMANCE, Importance.MEDIUM),
        ("Remove unnecessary parentheses.", ["src/main/java/Bits.java"], ChangeType.STYLE,
         Importance.LOW),
        ("Javadoc", ["src/main/java/Durations.java"], ChangeType.DOCS, Importance.LOW),
        # a fix of what the subject calls a vulnerability is security; a security group is not
        ("fix: prototype pollution vulnerability in apply-extends (#2498)",
         ["lib/utils/apply-extends.ts", "test/helpers.mjs"], ChangeType.SECURITY, Importance.HIGH),
        ("fix: Use existing node security group when one is provided", ["node_groups.go"],
         ChangeType.BUGFIX, Importance.HIGH),
        # an example program, under _examples/ too, is not the runtime: a fix there is medium
        ("Fix 'elasped' misspelling of 'elapsed' (#273)", ["_examples/logging/main.go"],
         ChangeType.BUGFIX, Importance.MEDIUM),
        # lint fixes are style; "smuggling" names a vulnerability; a deprecated call replaced
        # is a refactor; lazy allocation is performance
        ("Fix lint issues in ASGI parser and protocol", ["gunicorn/asgi/parser.py"],
         ChangeType.STYLE, Importance.LOW),
        ("fix: keep _body_receiver alive across the keepalive smuggling gate",
         ["gunicorn/asgi/protocol.py"], ChangeType.SECURITY, Importance.HIGH),
        ("replace deprecated String.prototype.substr() (#876)", ["src/common.js"],
         ChangeType.REFACTOR, Importance.LOW),
        ("Lazy-allocate `@api_class` on InheritableSetting", ["lib/grape/inheritable_setting.rb"],
         ChangeType.PERFORMANCE, Importance.MEDIUM),
        # a changelog line rides along: typos fixed in specs, with their entry, are test work
        ("Fix typos", ["spec/grape/validations_spec.rb", "CHANGELOG.md"], ChangeType.TEST,
         Importance.LOW),
        ("cargo fmt", ["src/iter/mod.rs"], ChangeType.STYLE, Importance.LOW),
        # a release tool's commit with the version as its scope; a formatter bot in the tests
        ("build(v10.0.0): release", ["package.json", "CHANGELOG.md"], ChangeType.CHORE,
         Importance.LOW),
        ("[pre-commit.ci] auto fixes from pre-commit.com hooks", ["tests/test_cli.py"],
         ChangeType.STYLE, Importance.LOW),
        ("add test in text formatter checking the formatting", ["text_formatter_test.go"],
         ChangeType.TEST, Importance.LOW),
        # the CI service named as GHA or dependabot, on CI files and the release docs
        ("Chores: GHA dependabot; remove unnecessary pip upgrades", [".github/dependabot.yml",
         ".github/workflows/build.yml", "RELEASING.md"], ChangeType.CI, Importance.LOW),
    ],
)  # fmt: skip
def test_type_and_importance(
    message: str, paths: list[str], change_type: ChangeType, importance: Importance
) -> None:
    """The change type and importance follow the rubric the LLM is given."""
    analysis = heuristic_analysis(commit(message, *paths), "en")
    assert (analysis.change_type, analysis.importance) == (change_type, importance)


def test_breaking_change_footer() -> None:
    """A BREAKING CHANGE footer marks the analysis breaking and high."""
    analysis = heuristic_analysis(
        commit("feat: new config\n\nBREAKING CHANGE: renamed keys", "src/config.py"), "en"
    )
    assert analysis.breaking_change is True
    assert analysis.importance is Importance.HIGH
    assert analysis.insights.compatibility


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_output_is_schema_valid_in_both_languages(language: str) -> None:
    """The result validates against the one analysis schema and groups scope by area."""
    analysis = heuristic_analysis(
        commit("feat: x", "src/api/a.py", "src/api/b.py", "docs/x.md", additions=900), language
    )
    assert Analysis.model_validate(analysis.model_dump(mode="json")) == analysis
    assert [s.area for s in analysis.impact_scope] == ["src/api/", "docs/"]
    assert analysis.risks  # a large change without tests is called out


def test_commit_without_files() -> None:
    """A commit the delivery carried no file lists for still gets an analysis."""
    analysis = heuristic_analysis(commit("fix: something"), "zh-CN")
    assert analysis.impact_scope == []
    assert analysis.summary


def test_an_advisory_id_anywhere_in_the_message_is_security() -> None:
    """A CVE named only in the body makes a fix a security change; a subject alone does not."""
    body = "Limit recursive object merge depth\n\nThis prevents a stack overflow (CVE-2026-43012)."
    advisory = heuristic_analysis(commit(body, "src/jv.c"), "en")
    plain = heuristic_analysis(commit("Limit recursive object merge depth", "src/jv.c"), "en")
    assert (advisory.change_type, advisory.importance) == (ChangeType.SECURITY, Importance.HIGH)
    assert plain.change_type is not ChangeType.SECURITY


def test_a_threat_named_in_the_body_is_security() -> None:
    """A body that says what an attacker could do makes the change a security one."""
    body = (
        "Add a `maxdepth` reader member\n\nA corrupted or maliciously crafted payload could cause"
        " a stack overflow."
    )
    threat = heuristic_analysis(commit(body, "read.c", "read.h"), "en")
    plain = heuristic_analysis(commit("Add a `maxdepth` reader member", "read.c"), "en")
    assert (threat.change_type, threat.importance) == (ChangeType.SECURITY, Importance.HIGH)
    assert plain.change_type is ChangeType.FEATURE


@pytest.mark.parametrize(
    ("subject", "bump"),
    [
        ("update werkzeug", True),
        ("dep: upgrade cel-go (#7478)", True),
        ("chore: update quic-go to v0.48.0", True),
        ("Bump the dependency serde to 1.0.200", True),
        ("Update the docs for v2", False),
        ("Update version to 2.1", False),
        ("Update README", False),
        ("Integrate the new benchmarks repo and update", False),
    ],
)
def test_a_subject_names_a_dependency_update(subject: str, bump: bool) -> None:
    """An update, upgrade or bump of a named thing, not of the docs, the version or the tests."""
    assert names_bump(subject) is bump
