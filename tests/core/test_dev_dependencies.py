"""Dependencies for developing the project only: a build change the rubric rates low."""

from __future__ import annotations

import pytest

from commit_digest.analysis.dependencies import dev_only
from commit_digest.analysis.heuristic import heuristic_analysis
from commit_digest.analysis.inputs import CommitInput, FileChange
from report.schema import ChangeType, Importance

DEPENDABOT = """Bump {name} from 1.1.5 to 1.2.0

Bumps [{name}](https://example.invalid) from 1.1.5 to 1.2.0.

---
updated-dependencies:
- dependency-name: {name}
  dependency-type: {kind}
  update-type: version-update:semver-minor
"""
PACKAGE_DEV = """@@ -30,7 +30,7 @@
   "devDependencies": {
     "@types/node": "^20.0.0",
-    "vitest": "^1.0.0",
+    "vitest": "^2.0.0",
     "typescript": "^5.4.0"
"""
PACKAGE_RUNTIME = """@@ -20,7 +20,7 @@
   "dependencies": {
-    "axios": "^1.5.0",
+    "axios": "^1.6.0",
"""
PACKAGE_UNKNOWN = """@@ -41,3 +41,3 @@
     "lodash": "^4.17.0",
-    "vitest": "^1.0.0",
+    "vitest": "^2.0.0",
"""
CARGO_DEV = """@@ -40,5 +40,5 @@
 [dev-dependencies]
 diff = "0.1"
-tempfile = "3.14.0"
+tempfile = "3.16.0"
"""
CARGO_RUNTIME = """@@ -20,4 +20,4 @@
 [dependencies]
-regex = "1.10"
+regex = "1.11"
"""
COMPOSER_DEV = """@@ -34,8 +34,7 @@
     "require-dev": {
-        "phpunit/phpunit": "^4.5 || ^5.0.5",
-        "phpunit/phpunit-mock-objects": "2.3.0 || ^3.0"
+        "phpunit/phpunit": "^4.5 || ^5.0.5"
     },
"""
COMPOSER_RUNTIME = """@@ -30,4 +30,4 @@
     "require": {
-        "php": "^5.3.2",
+        "php": "^5.3.2 || ^7.0",
"""
SETUP_DOCS = """@@ -10,7 +10,7 @@ EXTRAS_REQUIRE = {
         "pre-commit>=1.20,<3.0",
     ],
     "docs": [
-        "sphinx==3.0.0",
+        "sphinx==3.0.1",
         "sphinx-issues==1.2.0",
     ],
"""
SETUP_RUNTIME = """@@ -20,5 +20,5 @@ setup(
     install_requires=[
-        "packaging>=17.0",
+        "packaging>=20.0",
     ],
"""
PYPROJECT_EXTRAS = """@@ -30,6 +30,6 @@
 [project.optional-dependencies]
-tests = ["pytest", "simplejson"]
+tests = ["pytest", "simplejson>=3"]
 docs = ["sphinx==7.2.6"]
"""
PYPROJECT_RUNTIME = """@@ -3,5 +3,5 @@
 [project]
 name = "acme"
-dependencies = ["attrs>=22"]
+dependencies = ["attrs>=23"]
"""
POETRY_DEV = """@@ -40,3 +40,3 @@
 [tool.poetry.group.dev.dependencies]
-pytest = "^7.4"
+pytest = "^8.0"
"""
INSTALL_HOOK = """@@ -8,4 +8,4 @@
   "scripts": {
-    "postinstall": "node setup.js",
+    "postinstall": "node setup.mjs",
"""


def bump(message: str, *changes: tuple[str, str | None]) -> CommitInput:
    files = tuple(FileChange(path, "modified", 1, 1, patch) for path, patch in changes)
    return CommitInput("acme/app", "c" * 40, message, "bot", files, len(files), "github")


@pytest.mark.parametrize(
    ("message", "changes", "expected"),
    [
        # dependabot's own trailer
        (DEPENDABOT.format(name="left-pad", kind="direct:development"), [("package.json", None)], True),
        (DEPENDABOT.format(name="left-pad", kind="direct:production"), [("package.json", None)], False),
        # it says production for a Maven test library: the name tells
        (DEPENDABOT.format(name="com.google.truth:truth", kind="direct:production"), [("pom.xml", None)], True),
        ("Bump junit-jupiter from 5.9 to 5.10", [("build.gradle", None)], True),
        # renovate names it without a "from"
        ("Update dependency com.google.devtools.ksp:symbol-processing-gradle-plugin to v2", [("gradle/libs.versions.toml", None)], True),
        ("Update dependency com.squareup.okio:okio to v3.9", [("gradle/libs.versions.toml", None)], False),
        # a formatter by its Maven coordinates; a Gradle plugin by renovate's own title
        ("Update dependency com.facebook:ktfmt to v0.61", [("gradle/libs.versions.toml", None)], True),
        ("Update plugin mavenPublish to v0.35.0", [("gradle/libs.versions.toml", None)], True),
        ("Update dependency de.mannodermaus.gradle.plugins:android-junit5 to v2", [("gradle/libs.versions.toml", None)], True),
        ("Update plugin spotless to v7\n\nUpdate dependency com.squareup.okio:okio to v3.9", [("gradle/libs.versions.toml", None)], False),
        ("Bump eslint and prettier", [("package.json", None)], False),  # no "from": names unknown
        # a bump by hand names it before "to" and a version
        ("Bump RuboCop to `1.36.x` (#9125)", [("Gemfile", None), ("lib/acme/site.rb", None)], True),
        ("Bump cucumber to v9", [("Gemfile", None)], True),
        ("Bump rack to 3.1.2", [("Gemfile", None)], False),
        ("chore: upgrade dev deps", [("package.json", None), ("pnpm-lock.yaml", None)], True),
        # the manifest's sections
        ("Update vitest", [("package.json", PACKAGE_DEV)], True),
        ("Update axios", [("package.json", PACKAGE_RUNTIME)], False),
        ("Update vitest", [("package.json", PACKAGE_UNKNOWN)], False),  # section not shown
        ("Update tempfile", [("Cargo.toml", CARGO_DEV)], True),
        ("Update regex", [("Cargo.toml", CARGO_RUNTIME)], False),
        ("Build with node 20", [("package.json", INSTALL_HOOK)], False),  # users run it
        # composer's sections for developing the package
        ("drop phpunit-mock-objects requirement", [("composer.json", COMPOSER_DEV)], True),
        ("Allow PHP 7", [("composer.json", COMPOSER_RUNTIME)], False),
        ("Update the build", [("setup.py", "@@ -1 +1 @@\n-a\n+b\n")], False),
        # the target named first: "Upgrade to phpunit 10"
        ("Upgrade to phpunit 10 (#1806)", [("composer.json", None)], True),
        ("Upgrade to guzzle 7", [("composer.json", None)], False),
        # renovate's group of development dependencies
        ("chore(deps): Update compatible (dev) (#6357)", [("Cargo.lock", None)], True),
        ("chore(deps): Update compatible (#6358)", [("Cargo.lock", None)], False),
        # Python's extras and groups for developing: by the list's or the table's name
        ("Pin the docs' builder", [("setup.py", SETUP_DOCS)], True),
        ("Raise packaging", [("setup.py", SETUP_RUNTIME)], False),
        ("Require simplejson 3 in tests", [("pyproject.toml", PYPROJECT_EXTRAS)], True),
        ("Require attrs 23", [("pyproject.toml", PYPROJECT_RUNTIME)], False),
        ("Update pytest", [("pyproject.toml", POETRY_DEV)], True),
        # documentation generators; Gradle plugins by artifact, the Android Gradle plugin
        ("Bump sphinx from 3.0.0 to 3.0.1", [("setup.py", None)], True),
        ("Update dependency net.ltgt.gradle:gradle-errorprone-plugin to v4", [("gradle/libs.versions.toml", None)], True),
        ("Update dependency com.android.tools.build:gradle to v8.6.0", [("gradle/libs.versions.toml", None)], True),
    ],
)  # fmt: skip
def test_what_counts_as_development_only(
    message: str, changes: list[tuple[str, str | None]], expected: bool
) -> None:
    """The trailer, a tool's name, the words or the manifest's section decide; else runtime."""
    assert dev_only(bump(message, *changes)) is expected


def test_a_dev_only_bump_is_build_and_low_a_runtime_one_medium() -> None:
    """The rubric: runtime dependency updates are medium, developer-tool updates low."""
    dev = heuristic_analysis(bump("Update vitest", ("package.json", PACKAGE_DEV)), "en")
    runtime = heuristic_analysis(bump("Update axios", ("package.json", PACKAGE_RUNTIME)), "en")
    assert (dev.change_type, dev.importance) == (ChangeType.BUILD, Importance.LOW)
    assert (runtime.change_type, runtime.importance) == (ChangeType.BUILD, Importance.MEDIUM)


def test_a_dev_tool_bump_that_touches_the_code_stays_low() -> None:
    """Code reworded for a new linter's rules is not a runtime dependency adapted to: low."""
    linter = bump("Bump RuboCop to v1.45.x", ("Gemfile", None), ("lib/acme/site.rb", None))
    runtime = bump("Bump rack to 3.1.2", ("Gemfile", None), ("lib/acme/server.rb", None))
    assert heuristic_analysis(linter, "en").importance is Importance.LOW
    assert heuristic_analysis(runtime, "en").importance is Importance.HIGH


def test_a_tools_own_update_of_its_pins_is_a_low_build_change() -> None:
    """pre-commit.ci's autoupdate, with the one test line the new hooks asked for: build, low."""
    autoupdate = bump(
        "[pre-commit.ci] pre-commit autoupdate (#662)",
        (".pre-commit-config.yaml", "@@ -1 +1 @@\n-    rev: v0.4.1\n+    rev: v0.4.2\n"),
        ("testing/test_pluginmanager.py", "@@ -1 +1 @@\n-    x()\n+    x()  # type: ignore\n"),
    )
    result = heuristic_analysis(autoupdate, "en")
    assert (result.change_type, result.importance) == (ChangeType.BUILD, Importance.LOW)
