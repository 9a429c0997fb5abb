"""What a benchmark measured and what it is judged by: figures, baselines, targets, notes.

Every benchmark module exposes ``run() -> dict[str, float]`` (figures by key, the units in the
key: ``_ms``, ``_s``, ``_mb``, ``_per_s``) and ``SPEC``, which says which figures to show,
against which same-run baseline each is compared, and which targets apply. ``notes(figures)``,
when a module has it, explains missed targets from what was measured.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_OPERATORS: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Shown:
    """A figure to print, and the baseline figure its ratio is taken against (if any)."""

    key: str
    label: str
    baseline: str | None = None


@dataclass(frozen=True)
class Target:
    """A figure compared with a threshold, e.g. ``Target("p99_ms", "<=", 50, "p99 ≤ 50 ms")``."""

    key: str
    op: str
    threshold: float
    label: str

    def met(self, figures: Mapping[str, float]) -> bool | None:
        """Whether the target is met; None when the figure was not measured."""
        value = figures.get(self.key)
        if value is None or math.isnan(value):
            return None
        return _OPERATORS[self.op](value, self.threshold)


@dataclass(frozen=True)
class Spec:
    """How a benchmark is presented: its figures, baseline, targets."""

    name: str
    title: str
    baseline: str  # what the baseline is, in one sentence
    shown: Sequence[Shown]
    targets: Sequence[Target] = ()
    method: str = ""  # how it is measured, for RESULTS.md


@dataclass
class Outcome:
    """One benchmark's figures, judged."""

    spec: Spec
    figures: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    load: dict[str, Any] = field(default_factory=dict)  # see machine.ForeignLoad.result

    def ratio(self, shown: Shown) -> float | None:
        if shown.baseline is None:
            return None
        value, base = self.figures.get(shown.key), self.figures.get(shown.baseline)
        if value is None or base is None or base == 0:
            return None
        return value / base

    def verdicts(self) -> list[tuple[Target, bool | None]]:
        return [(target, target.met(self.figures)) for target in self.spec.targets]


def format_value(key: str, value: float | None) -> str:
    """A figure with its unit, from the unit suffix of its key."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    units = (
        ("_per_s", "/s"),
        ("_ms", " ms"),
        ("_mb", " MB"),
        ("_seconds", " s"),
        ("_s", " s"),
        ("_pct", " %"),
    )
    if key.endswith(("_seconds", "_s")) and not key.endswith("_per_s") and abs(value) < 1:
        return f"{value * 1000:,.{0 if abs(value) >= 0.1 else 1}f} ms"
    for suffix, unit in units:
        if key.endswith(suffix):
            digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
            return f"{value:,.{digits}f}{unit}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.3g}"


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0–1) percentile of ``values``, nearest rank; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(math.ceil(share * len(ordered)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]
