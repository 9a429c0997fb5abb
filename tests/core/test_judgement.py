"""The heuristic analyzer's agreement with the labelled set stays at or above its floor."""

from __future__ import annotations

from benchmarks.judgement import EVAL_SET, agreement, load_set, run_heuristic

# Measured agreement (benchmarks/EVAL.md: 65/80 and 62/80) minus a margin of two commits.
IMPORTANCE_FLOOR = 0.7875
CHANGE_TYPE_FLOOR = 0.75


def test_heuristic_importance_agreement_holds_its_floor() -> None:
    """Importance agrees with the labels at least as often as when it was last measured."""
    items = load_set(EVAL_SET)
    hits, total = agreement(items, run_heuristic(items), "importance")

    assert total >= 60
    assert hits / total >= IMPORTANCE_FLOOR


def test_heuristic_change_type_agreement_holds_its_floor() -> None:
    """The change type agrees with the labels at least as often as when it was last measured."""
    items = load_set(EVAL_SET)
    hits, total = agreement(items, run_heuristic(items), "change_type")

    assert hits / total >= CHANGE_TYPE_FLOOR
