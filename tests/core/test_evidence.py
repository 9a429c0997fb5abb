"""Evidence combination: the prefix and the paths settle what they can, and say so."""

from __future__ import annotations

import pytest

from commit_digest.analysis.evidence import combine_evidence, describe_signals, read_signals
from commit_digest.analysis.inputs import CommitInput, FileChange
from report.schema import Analysis, ChangeType, DecidedBy, Importance, Insights


def commit(message: str, *paths: str) -> CommitInput:
    files = tuple(FileChange(p, "modified", 3, 1, "@@ -1 +1 @@\n-a\n+b\n") for p in paths)
    return CommitInput("acme/app", "b" * 40, message, "Ann", files, len(files), "github")


def said(change_type: ChangeType, importance: Importance) -> Analysis:
    return Analysis(
        change_type=change_type,
        importance=importance,
        summary="s",
        impact_scope=[],
        insights=Insights(architecture="", performance="", security="", compatibility=""),
        risks=[],
        recommendations=[],
        breaking_change=False,
    )


@pytest.mark.parametrize(
    ("message", "paths", "model", "expected", "decided"),
    [
        (
            "docs: explain retries",
            ["docs/retries.md", "README.md"],
            (ChangeType.FEATURE, Importance.HIGH),
            (ChangeType.DOCS, Importance.LOW),
            ("paths", "paths"),
        ),
        (
            "test: cover the parser",
            ["tests/test_parser.py"],
            (ChangeType.REFACTOR, Importance.MEDIUM),
            (ChangeType.TEST, Importance.LOW),
            ("paths", "paths"),
        ),
        (
            "fix: keep the discount",
            ["shop/cart.py"],
            (ChangeType.REFACTOR, Importance.LOW),
            (ChangeType.BUGFIX, Importance.HIGH),
            ("prefix", "prefix"),
        ),
        (
            "docs: document the new --since flag",
            ["docs/cli.md", "cli/main.go"],
            (ChangeType.DOCS, Importance.LOW),
            (ChangeType.FEATURE, Importance.HIGH),
            ("message", "message"),
        ),
        (
            "chore: swap the mutex for a lock-free map",
            ["src/registry.rs"],
            (ChangeType.PERFORMANCE, Importance.LOW),
            (ChangeType.PERFORMANCE, Importance.MEDIUM),
            ("model", "rubric"),
        ),
        (
            "Update the release settings",
            ["release/settings.cfg"],
            (ChangeType.CHORE, Importance.MEDIUM),
            (ChangeType.CHORE, Importance.MEDIUM),
            ("model", "model"),
        ),
        (
            "refactor: split the loader",
            ["app/config.py"],
            (ChangeType.FEATURE, Importance.LOW),
            (ChangeType.REFACTOR, Importance.LOW),
            ("prefix", "prefix"),
        ),
        (
            "cmd: Ignore hidden files in isEmpty",
            ["cmd/dir.go"],
            (ChangeType.REFACTOR, Importance.LOW),
            (ChangeType.BUGFIX, Importance.HIGH),
            ("default", "rubric"),
        ),
        (
            "deps: bring in semver updates",
            ["Cargo.lock", "tests/util.rs"],
            (ChangeType.TEST, Importance.LOW),
            (ChangeType.BUILD, Importance.MEDIUM),
            ("prefix", "prefix"),
        ),
        (
            "Tidy the workflow",
            [".github/workflows/ci.yml"],
            (ChangeType.CHORE, Importance.LOW),
            (ChangeType.CI, Importance.LOW),
            ("paths", "paths"),
        ),
        (
            'Revert "refactor: drop a duplicate assignment"',
            ["test/respond.js"],
            (ChangeType.TEST, Importance.LOW),
            (ChangeType.REVERT, Importance.LOW),
            ("message", "message"),
        ),
        (
            "style: gofumpt command_test.go",
            ["command_test.go"],
            (ChangeType.TEST, Importance.LOW),
            (ChangeType.STYLE, Importance.LOW),
            ("message", "message"),
        ),
        (
            "chore: adds updated codecov",
            [".github/workflows/node.yml", "package.json"],
            (ChangeType.CHORE, Importance.MEDIUM),
            (ChangeType.CI, Importance.LOW),
            ("message", "message"),
        ),
    ],
)
def test_strong_signals_settle_type_and_importance(
    message: str,
    paths: list[str],
    model: tuple[ChangeType, Importance],
    expected: tuple[ChangeType, Importance],
    decided: tuple[str, str],
) -> None:
    """Paths of one kind or a prefix they back settle the type; the rubric then the importance."""
    combined = combine_evidence(said(*model), commit(message, *paths))

    assert (combined.change_type, combined.importance) == expected
    assert combined.decided_by == DecidedBy(change_type=decided[0], importance=decided[1])


def test_declared_breaking_change_is_high() -> None:
    """A `!` after the prefix makes the commit breaking and high, whatever the model said."""
    combined = combine_evidence(
        said(ChangeType.REFACTOR, Importance.LOW), commit("refactor!: drop v1", "src/api.py")
    )

    assert (combined.importance, combined.breaking_change) == (Importance.HIGH, True)


def test_signals_are_spelled_out_for_the_prompt() -> None:
    """The prompt's signal line names the prefix, the path kinds and the size."""
    signals = read_signals(commit("fix(cart): x", "shop/cart.py", "tests/test_cart.py"))

    expected = (
        "conventional prefix `fix` (bugfix); paths: 1 source, 1 test; size: +6 −2 in 2 file(s)"
    )
    assert expected == describe_signals(signals, "en")


def test_stored_analyses_without_decided_by_still_load() -> None:
    """An analysis stored before `decided_by` existed validates, with None."""
    stored = said(ChangeType.DOCS, Importance.LOW).model_dump(mode="json")
    del stored["decided_by"]

    assert Analysis.model_validate(stored).decided_by is None


def test_a_behaviour_prefix_on_the_build_machinery_only_is_a_build_change() -> None:
    """`fix:` on a Makefile and a release config changes how it is built: build, medium."""
    machinery = commit(
        "fix: address goreleaser build issues",
        "Makefile",
        ".goreleaser.yaml",
        ".github/workflows/release.yml",
    )
    result = combine_evidence(said(ChangeType.BUGFIX, Importance.HIGH), machinery)
    assert (result.change_type, result.importance) == (ChangeType.BUILD, Importance.MEDIUM)
    assert result.decided_by == DecidedBy(change_type="prefix", importance="prefix")
