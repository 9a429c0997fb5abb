"""What the paths and the diff itself say: tooling, chart templates, changelog sections, shapes."""

from __future__ import annotations

import pytest

from commit_digest.analysis.evidence import (
    changelog_entry,
    changelog_type,
    combine_evidence,
    diff_shape,
    reformatted,
)
from commit_digest.analysis.heuristic import heuristic_analysis
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.paths import PathKind, classify
from report.schema import Analysis, ChangeType, Importance

from support.sample_day import analysis


def commit(message: str, *files: FileChange) -> CommitInput:
    return CommitInput("acme/app", "c" * 40, message, "Ann", files, len(files), "github")


def change(path: str, patch: str | None) -> FileChange:
    lines = (patch or "").splitlines()
    added = sum(1 for line in lines if line.startswith("+"))
    removed = sum(1 for line in lines if line.startswith("-"))
    return FileChange(path, "modified", added, removed, patch)


def model(change_type: ChangeType, importance: Importance) -> Analysis:
    """What the model answered, before the evidence."""
    return analysis(change_type, importance, "s")


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (".pre-commit-config.yaml", PathKind.TOOLING),
        (".flake8", PathKind.TOOLING),
        ("vitest.config.mjs", PathKind.TOOLING),
        ("packages/web/.eslintrc.json", PathKind.TOOLING),
        ("requirements/dev.txt", PathKind.TOOLING),
        ("requirements-docs.txt", PathKind.TOOLING),
        ("requirements-skip/tests-min.in", PathKind.TOOLING),
        ("requirements/tests37.in", PathKind.TOOLING),
        ("tox.ini", PathKind.TOOLING),
        ("noxfile.py", PathKind.TOOLING),
        (".azure-pipelines.yml", PathKind.CI),
        ("azure-pipelines.yaml", PathKind.CI),
        ("SPEC.rdoc", PathKind.DOCS),
        ("requirements.txt", PathKind.BUILD),
        ("requirements/base.txt", PathKind.BUILD),
        ("charts/argo-cd/Chart.yaml", PathKind.BUILD),
        ("charts/argo-cd/templates/server/deployment.yaml", PathKind.SOURCE),
        ("charts/argo-cd/values.yaml", PathKind.SOURCE),
        ("index.d.ts", PathKind.TYPES),
        ("src/typing.pyi", PathKind.TYPES),
        (".github/dependabot.yml", PathKind.CI),
        ("ci/test-complete", PathKind.CI),
        ("CHANGES.rst", PathKind.DOCS),
        ("NEWS.md", PathKind.DOCS),
        ("src/app.py", PathKind.SOURCE),
        ("config/settings.yaml", PathKind.CONFIG),
        # other ecosystems' build files; a build file under docs/ builds the docs
        ("sinatra.gemspec", PathKind.BUILD),
        ("configure.ac", PathKind.BUILD),
        ("m4/ax_pthread.m4", PathKind.BUILD),
        ("CMakeLists.txt", PathKind.BUILD),
        ("cmake/FindZstd.cmake", PathKind.BUILD),
        (".goreleaser.yaml", PathKind.BUILD),
        ("docs/Makefile", PathKind.DOCS),
        ("gradle/libs.versions.toml", PathKind.BUILD),
        ("gradle/wrapper/gradle-wrapper.properties", PathKind.TOOLING),
        ("gradlew", PathKind.TOOLING),
        ("okhttp/src/jvmTest/kotlin/CallTest.kt", PathKind.TEST),
        ("okhttp/src/commonTest/kotlin/Testing.kt", PathKind.TEST),
        ("src/latest/feed.kt", PathKind.SOURCE),
        ("phpstan-baseline.neon", PathKind.TOOLING),
        (".github/FUNDING.yml", PathKind.DOCS),
        (".github/ISSUE_TEMPLATE/bug.yml", PathKind.DOCS),
        ("notes.txt", PathKind.DOCS),
        # the other hosted CI services; package-manager and toolchain pins; Cargo's build script
        ("appveyor.yml", PathKind.CI),
        (".drone.yml", PathKind.CI),
        (".woodpecker/test.yaml", PathKind.CI),
        (".npmrc", PathKind.TOOLING),
        (".yarnrc.yml", PathKind.TOOLING),
        ("rust-toolchain.toml", PathKind.TOOLING),
        ("build.rs", PathKind.BUILD),
        ("crates/core/build.rs", PathKind.BUILD),
        ("src/commands/build.rs", PathKind.SOURCE),
        # makefiles for one compiler or platform; roff manual pages (not versioned libraries)
        ("win32/Makefile.msc", PathKind.BUILD),
        ("GNUmakefile", PathKind.BUILD),
        ("zlib.3", PathKind.DOCS),
        ("doc/git-log.1", PathKind.DOCS),
        ("man/man8/foo.8", PathKind.DOCS),
        ("lib/libz.so.1", PathKind.SOURCE),
        ("release-notes/VERSION-2.x", PathKind.DOCS),
        (".php_cs.dist", PathKind.TOOLING),
        # mage, Go's make, and the scripts a CI service runs
        ("magefile.go", PathKind.BUILD),
        ("magefiles/lint.go", PathKind.BUILD),
        ("travis/lint.sh", PathKind.CI),
        ("docs/requirements.txt", PathKind.TOOLING),
        ("_examples/logging/main.go", PathKind.EXAMPLE),
        (".github/scripts/release.sh", PathKind.CI),
    ],
)
def test_path_kinds(path: str, kind: PathKind) -> None:
    """Developer-tool settings, dev pins, chart templates and typings each get their kind."""
    assert classify(path) is kind


def test_developer_tool_updates_are_build_and_low() -> None:
    """A pre-commit autoupdate touches only tooling: build, low (the rubric's tool updates)."""
    bump = commit(
        "[pre-commit.ci] pre-commit autoupdate",
        change(".pre-commit-config.yaml", "@@ -1 +1 @@\n-  rev: v1\n+  rev: v2\n"),
    )
    analysis = heuristic_analysis(bump, "en")
    assert (analysis.change_type, analysis.importance) == (ChangeType.BUILD, Importance.LOW)


def test_a_fix_in_a_chart_template_is_high() -> None:
    """In a Helm chart repository the templates are what runs: a fix there is high."""
    fix = commit(
        "fix(argo-cd): set the emptyDir size limit",
        change("charts/argo-cd/Chart.yaml", "@@ -1 +1 @@\n-version: 1.0.0\n+version: 1.0.1\n"),
        change(
            "charts/argo-cd/templates/controller/statefulset.yaml",
            "@@ -9,2 +9,3 @@\n   emptyDir:\n+    sizeLimit: 1Gi\n",
        ),
    )
    analysis = heuristic_analysis(fix, "en")
    assert (analysis.change_type, analysis.importance) == (ChangeType.BUGFIX, Importance.HIGH)


def test_a_typings_only_fix_is_medium() -> None:
    """Type declarations change no runtime: a fix in them is medium, not high."""
    typings = commit(
        "Make onabort optional on GenericAbortSignal",
        change("index.d.ts", "@@ -3 +3 @@\n-  onabort: any;\n+  onabort?: any;\n"),
    )
    result = combine_evidence(model(ChangeType.REFACTOR, Importance.LOW), typings)
    assert (result.change_type, result.importance) == (ChangeType.BUGFIX, Importance.MEDIUM)


# a diff's context lines start with a space, blank ones too
WHATS_NEW = "\n".join(
    [
        "@@ -20,6 +20,9 @@ Deprecations",
        " Bug fixes",
        " ~~~~~~~~~",
        " ",
        "+- Restore ``getattr`` on extension arrays (:pull:`10278`).",
        "+  By `Someone <https://github.com/someone>`_.",
        "+",
        " Documentation",
    ]
)
KEEP_A_CHANGELOG = "\n".join(
    [
        "@@ -3,4 +3,6 @@",
        " ## [Unreleased]",
        " ",
        "+### Added",
        "+- A `--glob` flag for excluding by pattern.",
        " ## [1.2.0] - 2024-01-01",
    ]
)


@pytest.mark.parametrize(
    ("path", "patch", "section", "text"),
    [
        (
            "doc/whats-new.rst",
            WHATS_NEW,
            ChangeType.BUGFIX,
            "Restore ``getattr`` on extension arrays (:pull:`10278`).",
        ),
        ("CHANGELOG.md", KEEP_A_CHANGELOG, ChangeType.FEATURE, "A `--glob` flag for excluding by pattern."),
        ("CHANGES.rst", "@@ -1,2 +1,3 @@\n Version 3.1\n+- Fix a crash on empty input.\n", None, "Fix a crash on empty input."),
    ],
)  # fmt: skip
def test_changelog_entries_and_their_sections(
    path: str, patch: str, section: ChangeType | None, text: str
) -> None:
    """The entry a commit adds, under the nearest heading (rst underline or Markdown #)."""
    entry = changelog_entry(commit("x", change(path, patch), change("src/a.py", "@@\n+x\n")))
    assert entry is not None
    assert (entry.section, entry.text) == (section, text)


def test_a_changelog_section_outranks_the_subject_words() -> None:
    """'Add back getattr' filed under Bug fixes is a bug fix; a bare entry's words count after."""
    filed = commit(
        "Add back getattr for ExtensionArrays",
        change("doc/whats-new.rst", WHATS_NEW),
        change("xarray/core/extension_array.py", "@@ -1 +1,2 @@\n x = 1\n+y = getattr(a, b)\n"),
    )
    assert heuristic_analysis(filed, "en").change_type is ChangeType.BUGFIX
    bare = commit(
        "Keep track of output",
        change("CHANGES.rst", "@@ -1 +1,2 @@\n Version 3.1\n+- Fix a crash on empty input.\n"),
        change("src/a.py", "@@ -1 +1,2 @@\n x = 1\n+y = 2\n"),
    )
    assert changelog_type(bare, section_only=True) is None
    assert changelog_type(bare) is ChangeType.BUGFIX


def test_a_changelog_only_commit_is_not_read_as_its_entry() -> None:
    """A commit that only edits the changelog is docs by its paths, not by the entry's words."""
    only = commit("Update changelog", change("CHANGELOG.md", KEEP_A_CHANGELOG))
    assert changelog_type(only) is None


@pytest.mark.parametrize(
    ("path", "patch", "shape"),
    [
        ("src/a.rs", "@@ -1,2 +1,2 @@\n-/// Old help.\n+/// New help.\n fn main() {}\n", "comments"),
        ("src/a.py", "@@ -1 +1 @@\n-# old\n+# new\n+\n", "comments"),
        ("compat/src/portals.js", "@@ -1,5 +1 @@\n-a()\n-b()\n-c()\n x\n", "removal"),
        (
            "src/app.py",
            "@@ -1,6 +1,7 @@\n-    one()\n-    two()\n-    three()\n-    four()\n"
            "+def moved():\n+    one()\n+    two()\n+    three()\n+    four()\n",
            "moved",
        ),
        ("src/app.py", "@@ -1 +1 @@\n-return a\n+return b\n", None),
        # no source: the comments of build, settings and CI files count
        ("Makefile", "@@ -1 +1 @@\n-# a\n+# b\n", "comments"),
        ("Justfile", "@@ -1,2 +1,3 @@\n+# Build the docs\n docs:\n", "comments"),
        ("pyproject.toml", "@@ -1 +1 @@\n-# a\n+b = 1\n", None),
        (".github/workflows/ci.yml", "@@ -1,2 +1 @@\n-    # TODO: drop this\n     runs-on: x\n", "comments"),
        ("win32/Makefile.msc", "@@ -6,2 +6,2 @@\n-#   nmake -f a.msc\n+#   nmake -f a.msc -I.\n LOC =\n", "comments"),
        # a Rust attribute that only shapes the docs is documentation
        ("src/map.rs", "@@ -1,2 +1,3 @@\n     #[cfg(feature = \"x\")]\n+    #[cfg_attr(docsrs, doc(cfg(feature = \"x\")))]\n     pub fn f() {}\n", "comments"),
        ("src/map.rs", "@@ -1,2 +1,3 @@\n+    #[cfg_attr(test, derive(Debug))]\n     pub fn f() {}\n", None),
        # a gemspec's comments are Ruby's
        ("faraday.gemspec", "@@ -1,2 +1,3 @@\n+  # examples are shipped for users to read\n   spec.files = x\n", "comments"),
    ],
)  # fmt: skip
def test_diff_shapes(path: str, patch: str, shape: str | None) -> None:
    """Comments only, removal only and moved code are told apart; an ordinary edit is none."""
    assert diff_shape(commit("x", change(path, patch))) == shape


def test_comment_only_change_is_docs_whatever_the_prefix_says() -> None:
    """`fix:` on a diff that only rewrites a comment changes no behaviour: docs, low."""
    comment = commit(
        "fix(types): correct the merging note",
        change("compat/src/index.ts", "@@ -1 +1 @@\n-// merges the props\n+// merges the props first\n"),
    )  # fmt: skip
    result = combine_evidence(model(ChangeType.BUGFIX, Importance.HIGH), comment)
    assert (result.change_type, result.importance) == (ChangeType.DOCS, Importance.LOW)
    assert result.decided_by is not None
    assert result.decided_by.change_type == "diff"


def test_a_linters_directive_in_a_comment_is_style() -> None:
    """A comment that only tells a linter what to skip is style, in both analyzers."""
    directive = commit(
        "fix(types): correct eslint directive",
        change("compat/src/index.ts", "@@ -1 +1 @@\n-// eslint-disable-line foo\n+// eslint-disable-line bar\n"),
    )  # fmt: skip
    result = combine_evidence(model(ChangeType.BUGFIX, Importance.HIGH), directive)
    heuristic = heuristic_analysis(directive, "en")
    assert (result.change_type, result.importance) == (ChangeType.STYLE, Importance.LOW)
    assert (heuristic.change_type, heuristic.importance) == (ChangeType.STYLE, Importance.LOW)


def test_moved_code_keeps_the_models_refactor() -> None:
    """The model's refactor on moved code stands (the source-code default would say bugfix)."""
    moved = commit(
        "Provide an extendable merge method",
        change(
            "src/flask/blueprints.py",
            "@@ -1,6 +1,7 @@\n-    one()\n-    two()\n-    three()\n-    four()\n"
            "+def moved():\n+    one()\n+    two()\n+    three()\n+    four()\n",
        ),
    )
    result = combine_evidence(model(ChangeType.REFACTOR, Importance.LOW), moved)
    assert (result.change_type, result.importance) == (ChangeType.REFACTOR, Importance.LOW)


def test_the_paths_settle_the_importance_with_the_type_after_the_model() -> None:
    """Dev requirement pins only: build and low whatever the model said, as the heuristic says."""
    pins = commit(
        "Bump the python-requirements group",
        change("requirements/dev.txt", "@@ -1 +1 @@\n-ruff==0.1\n+ruff==0.2\n"),
        change("requirements/docs.txt", "@@ -1 +1 @@\n-sphinx==7\n+sphinx==8\n"),
    )
    result = combine_evidence(model(ChangeType.REFACTOR, Importance.HIGH), pins)
    assert (result.change_type, result.importance) == (ChangeType.BUILD, Importance.LOW)
    heuristic = heuristic_analysis(pins, "en")
    assert (heuristic.change_type, heuristic.importance) == (ChangeType.BUILD, Importance.LOW)


def test_a_comment_only_change_in_type_declarations_is_docs() -> None:
    """A comment reworded in a .d.ts file changes no type and no behaviour."""
    note = commit(
        "fix(types): correct the merging note",
        change("compat/src/index.d.ts", "@@ -1 +1 @@\n-// merged with a\n+// merged with b\n"),
    )  # fmt: skip
    result = combine_evidence(model(ChangeType.BUGFIX, Importance.HIGH), note)
    assert (result.change_type, result.importance) == (ChangeType.DOCS, Importance.LOW)


def test_a_comment_in_a_build_file_is_docs() -> None:
    """A comment added to a Justfile recipe runs nothing: docs and low, not a build change."""
    justfile = commit(
        "Comment for 'just docs' command",
        change("Justfile", "@@ -1,2 +1,3 @@\n+# Build the docs and open them\n docs:\n    make -C docs html\n"),
    )  # fmt: skip
    for result in (
        combine_evidence(model(ChangeType.BUILD, Importance.MEDIUM), justfile),
        heuristic_analysis(justfile, "en"),
    ):
        assert (result.change_type, result.importance) == (ChangeType.DOCS, Importance.LOW)


def test_a_formatter_bots_fixes_are_style_whatever_they_touch() -> None:
    """pre-commit.ci's autofix of setup.cfg is formatting; a bump of the formatter is not."""
    autofix = commit(
        "[pre-commit.ci] auto fixes from pre-commit.com hooks",
        change("setup.cfg", "@@ -1 +1 @@\n-a=1\n+a = 1\n"),
    )
    bump = commit(
        "Bump prettier from 3.1.0 to 3.2.0", change("package.json", "@@ -1 +1 @@\n-a\n+b\n")
    )
    for made in (
        combine_evidence(model(ChangeType.BUILD, Importance.MEDIUM), autofix),
        heuristic_analysis(autofix, "en"),
    ):
        assert (made.change_type, made.importance) == (ChangeType.STYLE, Importance.LOW)
    assert heuristic_analysis(bump, "en").change_type is ChangeType.BUILD


def _release(*, source_line: bool) -> CommitInput:
    files = [
        change(
            "lib/acme/version.rb",
            '@@ -1,3 +1,3 @@\n module Acme\n-  VERSION = "2.4.1"\n+  VERSION = "2.4.2"\n end\n',
        ),
        change(
            "History.md",
            "@@ -1,2 +1,6 @@\n+## 2.4.2\n+\n+### Bug Fixes\n+* Handle empty front matter\n",
        ),
        change(
            "docs/_posts/2.4.2-released.md", "@@ -0,0 +1,2 @@\n+Acme 2.4.2 is out.\n+Upgrade.\n"
        ),
    ]
    if source_line:
        files.append(
            change("lib/acme/reader.rb", "@@ -4 +4 @@\n-    read(path)\n+    read(path) || {}\n")
        )
    return commit("Add release post for 2.4.2", *files)


def test_a_release_made_by_hand_is_a_chore_in_both_chains() -> None:
    """A version file's number moving, with the changelog and docs saying so, is a release:
    a chore whatever the changelog's section says — and not when code changes with it."""
    release = _release(source_line=False)
    heuristic = heuristic_analysis(release, "en")
    assert (heuristic.change_type, heuristic.importance) == (ChangeType.CHORE, Importance.LOW)
    combined = combine_evidence(model(ChangeType.FEATURE, Importance.LOW), release)
    assert combined.change_type is ChangeType.CHORE
    for analysed in (heuristic, combined):
        assert analysed.decided_by is not None
        assert analysed.decided_by.change_type == "diff"
    assert heuristic_analysis(_release(source_line=True), "en").change_type is not ChangeType.CHORE


def test_a_dependency_update_that_adapts_the_code_is_a_high_build_change_in_both_chains() -> None:
    """The subject names an update, the manifest moves and the code is adapted to it: build,
    high (what runs changes); a chore prefix names no other kind, a fix prefix does."""
    bump = commit(
        "chore: update tokio to v1.40.0",
        change("Cargo.toml", '@@ -9 +9 @@\n-tokio = "1.39"\n+tokio = "1.40"\n'),
        change(
            "src/net.rs",
            "@@ -3 +3 @@\n-    let s = TcpStream::connect(a)?;\n+    let s = TcpStream::connect(&a)?;\n",
        ),
    )
    for analysed in (
        heuristic_analysis(bump, "en"),
        combine_evidence(model(ChangeType.CHORE, Importance.LOW), bump),
    ):
        assert (analysed.change_type, analysed.importance) == (ChangeType.BUILD, Importance.HIGH)
    fixed = commit("fix: update the socket call", *bump.files)
    assert heuristic_analysis(fixed, "en").change_type is ChangeType.BUGFIX


DOCSTRING_ONLY = """\
@@ -942,6 +942,9 @@ class ContextReference(Expr):

         Assign(Name('foo', ctx='store'))
+
+    This is basically equivalent to using the
+    :func:`~jinja2.contextfunction` decorator.
     \"\"\"


@@ -10,4 +13,4 @@ class Loader:
     def load(self, name):
-        \"\"\"Load a template.\"\"\"
+        \"\"\"Load the template called ``name``.\"\"\"
         return self.cache[name]
"""
DATA_STRING = """\
@@ -150,6 +150,9 @@ napoleon_type_aliases = {

 try_examples_preamble = \"\"\"
-import numpy as np
+import numpy as np
+np.random.seed(0)
 \"\"\".strip()
"""
STRING_ARGUMENT = """\
@@ -20,5 +20,5 @@ def create(conn):
     conn.execute(
         \"\"\"
-        CREATE TABLE t (id INTEGER)
+        CREATE TABLE t (id INTEGER PRIMARY KEY)
         \"\"\"
     )
"""


@pytest.mark.parametrize(
    ("patch", "shape"),
    [
        pytest.param(DOCSTRING_ONLY, "comments", id="docstrings"),
        pytest.param(DATA_STRING, None, id="a string assigned"),
        pytest.param(STRING_ARGUMENT, None, id="a string passed"),
    ],
)
def test_a_python_docstring_is_prose_and_other_strings_are_data(
    patch: str, shape: str | None
) -> None:
    """Lines inside docstrings change no behaviour; a SQL or code string is what runs."""
    assert diff_shape(commit("Clarify", change("src/pkg/mod.py", patch))) == shape


def test_a_docstring_edit_is_docs_not_the_fix_its_message_names() -> None:
    """A "Fix broken paragraph" on a docstring-only diff is docs and low, not a bugfix."""
    edited = commit("Fix broken paragraph", change("src/pkg/nodes.py", DOCSTRING_ONLY))
    for result in (
        combine_evidence(model(ChangeType.BUGFIX, Importance.HIGH), edited),
        heuristic_analysis(edited, "en"),
    ):
        assert (result.change_type, result.importance) == (ChangeType.DOCS, Importance.LOW)


def test_comments_in_code_beside_a_new_ci_job_are_not_docs() -> None:
    """Only the source's comments changed, but a workflow gained a job: not documentation."""
    job = commit(
        "Add a check that generated code is up to date",
        change("src/gen.py", "@@ -1,2 +1,2 @@\n-# run gen.py\n+# run the gen task\n x = 1\n"),
        change(".github/workflows/ci.yaml", "@@ -1 +1,2 @@\n jobs:\n+  gen: {runs-on: ubuntu}\n"),
    )
    assert diff_shape(job) is None


@pytest.mark.parametrize(
    ("path", "patch", "restyled"),
    [
        ("lib/thor/base.rb", "@@ -1,2 +1,2 @@\n-def f( a, b)\n+def f(a, b)\n   x\n", True),
        ("cmd_test.go", "@@ -1,3 +1,4 @@\n a()\n+\n-\tb( )\n+\tb()\n", True),
        # a line moved to another place is not whitespace, though each side has the same line
        ("install.sh", "@@ -1,4 +1,4 @@\n+  skip\n   a\n   b\n-  skip\n", False),
        # re-indented Python changes which block a line belongs to
        ("src/app.py", "@@ -1,2 +1,2 @@\n if x:\n-    y()\n+y()\n", False),
        ("src/app.py", "@@ -1 +1 @@\n-y( 1 )\n+y(1)\n", True),
        ("src/app.py", "@@ -1 +1 @@\n-y(1)\n+y(2)\n", False),
        # prose is not code
        ("README.md", "@@ -1 +1 @@\n-a  b\n+a b\n", False),
        # a formatter's semicolon or trailing comma; not in Python, where a comma makes a tuple
        ("index.js", "@@ -1 +1 @@\n-const a = 1\n+const a = 1;\n", True),
        ("src/lib.rs", "@@ -1 +1 @@\n-    f(a, b)\n+    f(a, b),\n", True),
        ("src/app.py", "@@ -1 +1 @@\n-x = 1\n+x = 1,\n", False),
        # a condition wrapped over lines where line breaks mean nothing; in Python they do
        ("src/Mailer.php", "@@ -1,3 +1,5 @@\n-if ($a &&\n-    $b) {\n+if (\n+    $a &&\n+    $b\n+) {\n", True),
        ("src/Mailer.php", "@@ -1,2 +1,3 @@\n-if ($a &&\n-    $b) {\n+if (\n+    $a ||\n+    $b) {\n", False),
        ("src/app.py", "@@ -1,2 +1,3 @@\n-x = f(a,\n-      b)\n+x = f(\n+    a, b)\n", False),
    ],
)  # fmt: skip
def test_whitespace_only_changes_are_told_apart(path: str, patch: str, restyled: bool) -> None:
    """Whitespace moved within a run of changed lines of code is formatting; anything else not."""
    assert reformatted(commit("x", change(path, patch))) is restyled


def test_a_whitespace_only_change_is_style_in_both_chains() -> None:
    """A space dropped in code (a subject saying nothing) is style and low, model or not."""
    spaced = commit(
        ":scissors:",
        change("lib/thor/base.rb", "@@ -1,2 +1,2 @@\n-  def f( target)\n+  def f(target)\n    x\n"),
    )  # fmt: skip
    for result in (
        combine_evidence(model(ChangeType.BUGFIX, Importance.HIGH), spaced),
        heuristic_analysis(spaced, "en"),
    ):
        assert (result.change_type, result.importance) == (ChangeType.STYLE, Importance.LOW)
    fixed = commit("fix: spacing", change("lib/a.rb", "@@ -1 +1 @@\n-f( 1)\n+f(1)\n"))
    assert heuristic_analysis(fixed, "en").change_type is ChangeType.BUGFIX


POM_NEXT_ITERATION = """@@ -13,7 +13,7 @@
   <artifactId>jackson-core</artifactId>
-  <version>2.18.3</version>
+  <version>2.18.4-SNAPSHOT</version>
   <packaging>jar</packaging>
@@ -29,7 +29,7 @@
-    <tag>jackson-core-2.18.3</tag>
+    <tag>HEAD</tag>
   </scm>
@@ -57,3 +57,3 @@
-    <project.build.outputTimestamp>2025-02-28T23:27:12Z</project.build.outputTimestamp>
+    <project.build.outputTimestamp>2025-02-28T23:28:04Z</project.build.outputTimestamp>
"""
POM_DEPENDENCY = """@@ -80,5 +80,5 @@
       <artifactId>guava</artifactId>
-      <version>33.0.0-jre</version>
+      <version>33.1.0-jre</version>
"""


@pytest.mark.parametrize(
    ("subject", "path", "patch", "change_type", "importance"),
    [
        # the release cycle's version moves in the manifest: a chore, whatever the subject says
        ("[maven-release-plugin] prepare for next development iteration", "pom.xml",
         POM_NEXT_ITERATION, ChangeType.CHORE, Importance.LOW),
        ("Revert version", "pom.xml",
         "@@ -1 +1 @@\n-  <version>2.18.5-SNAPSHOT</version>\n+  <version>2.18.4.1-SNAPSHOT</version>\n",
         ChangeType.CHORE, Importance.LOW),
        ("1.4.0", "package.json", '@@ -2,3 +2,3 @@\n   "name": "x",\n-  "version": "1.3.0",\n+  "version": "1.4.0",\n',
         ChangeType.CHORE, Importance.LOW),
        ("Bump version", "Cargo.toml", '@@ -1,3 +1,3 @@\n [package]\n name = "x"\n-version = "0.1.0"\n+version = "0.2.0"\n',
         ChangeType.CHORE, Importance.LOW),
        # a dependency's version is a dependency update
        ("Update guava", "pom.xml", POM_DEPENDENCY, ChangeType.BUILD, Importance.MEDIUM),
        ("Update regex", "Cargo.toml", '@@ -9,3 +9,3 @@\n [dependencies.regex]\n-version = "1.10"\n+version = "1.11"\n',
         ChangeType.BUILD, Importance.MEDIUM),
    ],
)  # fmt: skip
def test_the_projects_own_version_moved_is_a_chore(
    subject: str, path: str, patch: str, change_type: ChangeType, importance: Importance
) -> None:
    """A release tool's version bump in the manifest is housekeeping, in both chains."""
    bumped = commit(subject, change(path, patch))
    for result in (
        heuristic_analysis(bumped, "en"),
        combine_evidence(model(ChangeType.FEATURE, Importance.HIGH), bumped),
    ):
        assert (result.change_type, result.importance) == (change_type, importance)


def test_a_linters_directive_added_as_a_comment_is_style() -> None:
    """A comment that only speaks to a linter is style, even when the subject names no linter."""
    directive = commit(
        "Disable unicorn/no-unsafe-regex for template parser",
        change("templates.js", "@@ -1,2 +1,3 @@\n+/* eslint-disable unicorn/no-unsafe-regex */\n 'use strict';\n"),
    )  # fmt: skip
    prose = commit(
        "Explain the template parser",
        change("templates.js", "@@ -1,2 +1,3 @@\n+/* Parses {red text} templates. */\n 'use strict';\n"),
    )  # fmt: skip
    for result in (
        combine_evidence(model(ChangeType.BUGFIX, Importance.HIGH), directive),
        heuristic_analysis(directive, "en"),
    ):
        assert (result.change_type, result.importance) == (ChangeType.STYLE, Importance.LOW)
    assert heuristic_analysis(prose, "en").change_type is ChangeType.DOCS


START_VERSION = [
    change("CHANGES.rst", "@@ -1,3 +1,6 @@\n+Version 3.2.0\n+-------------\n+\n+Unreleased\n+\n Version 3.1.0\n"),
    change("pyproject.toml", '@@ -1,4 +1,4 @@\n [project]\n name = "Flask"\n-version = "3.1.0"\n+version = "3.2.0.dev"\n'),
]  # fmt: skip


def test_the_version_with_its_changelog_section_is_a_release_chore() -> None:
    """The project's version moved in its manifest with a changelog section for it ("start
    version 3.2.0") is release housekeeping, in both chains."""
    started = commit("start version 3.2.0", *START_VERSION)
    for result in (
        heuristic_analysis(started, "en"),
        combine_evidence(model(ChangeType.BUILD, Importance.MEDIUM), started),
    ):
        assert (result.change_type, result.importance) == (ChangeType.CHORE, Importance.LOW)


def test_build_files_with_their_tests_are_build_in_both_chains() -> None:
    """CMakeLists.txt with a test project of it, and a subject naming no kind, is build work."""
    exported = commit(
        "Generate CMake export set regardless of FMT_INSTALL (#4850)",
        change("CMakeLists.txt", "@@ -1 +1,2 @@\n+set(targets_export_name fmt-targets)\n x\n"),
        change("test/add-subdirectory-test/export-lib.cc", "@@ -0,0 +1 @@\n+void greet() {}\n"),
    )
    for result in (
        heuristic_analysis(exported, "en"),
        combine_evidence(model(ChangeType.REFACTOR, Importance.LOW), exported),
    ):
        assert (result.change_type, result.importance) == (ChangeType.BUILD, Importance.MEDIUM)


def test_removing_deprecated_api_is_high_in_both_chains() -> None:
    """Deprecated public API removed from the source breaks whoever still calls it: high. Code
    that only stops calling something deprecated stays a low refactor."""
    removed = "@@ -1,3 +1,1 @@\n-using format_args_t = int;\n-using arg_t = int;\n keep();\n"
    dropped = commit("Remove deprecated aliases", change("include/fmt/format.h", removed))
    for result in (
        heuristic_analysis(dropped, "en"),
        combine_evidence(model(ChangeType.REFACTOR, Importance.LOW), dropped),
    ):
        assert (result.change_type, result.importance) == (ChangeType.REFACTOR, Importance.HIGH)
    stopped = commit("Remove use of deprecated utcnow", change("src/clock.py", removed))
    assert heuristic_analysis(stopped, "en").importance is Importance.LOW
    public = commit(
        "Remove namespace_stackable_with_hash from public interface",
        change(
            "lib/grape/dsl/settings.rb", "@@ -1,3 +1,1 @@\n-def stackable_with_hash\n-end\n x\n"
        ),
    )
    assert heuristic_analysis(public, "en").importance is Importance.HIGH


def test_a_release_is_low_whatever_it_touches_in_both_chains() -> None:
    """ "release 2.6.0" on the changelog, package.json and a component.json is a low chore."""
    version = (
        '@@ -1,3 +1,3 @@\n   "name": "debug",\n-  "version": "2.5.2",\n+  "version": "2.6.0",\n'
    )
    released = commit(
        "release 2.6.0",
        change("CHANGELOG.md", "@@ -1,2 +1,4 @@\n+2.6.0 / 2016-12-28\n+==================\n \n"),
        change("component.json", version),
        change("package.json", version),
    )
    for result in (
        heuristic_analysis(released, "en"),
        combine_evidence(model(ChangeType.FEATURE, Importance.MEDIUM), released),
    ):
        assert (result.change_type, result.importance) == (ChangeType.CHORE, Importance.LOW)


def test_a_shebang_is_not_a_comment() -> None:
    """The interpreter line of a script changes what runs it: a script whose shebang changed
    is not a comment-only change."""
    shebang = commit(
        "CI: fix shebang in .ci.*.sh scripts",
        change(".ci.gofmt.sh", "@@ -1,2 +1,2 @@\n-#!/bin/bash\n+#!/usr/bin/env bash\n set -e\n"),
    )
    assert diff_shape(shebang) is None
    comment = commit(
        "Explain", change(".ci.gofmt.sh", "@@ -1,2 +1,2 @@\n-# run it\n+# run gofmt\n x\n")
    )
    assert diff_shape(comment) == "comments"
