"""Show outcomes: on the terminal as they come, and in ``benchmarks/RESULTS.md`` at the end."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from benchmarks.outcome import Outcome, format_value

FOREIGN_WARNING = 0.15  # cores used by other processes above which the figures are suspect


def _ratio(outcome: Outcome, index: int) -> str:
    shown = outcome.spec.shown[index]
    ratio = outcome.ratio(shown)
    if ratio is None:
        return ""
    labels = {s.key: s.label for s in outcome.spec.shown}
    baseline = shown.baseline or ""
    return f"{ratio:.2f}× ({labels.get(baseline, baseline.replace('_', ' '))})"


def _load_line(outcome: Outcome) -> str:
    load = outcome.load
    if not load:
        return ""
    line = (
        f"other processes used {load['foreign_cores']:.2f} of the cores on average "
        f"(hypervisor steal {load['steal_cores']:.2f}); load average "
        f"{load['load_before'][0]:.1f} before, {load['load_after'][0]:.1f} after"
    )
    if load.get("probe_before_ms"):
        line += (
            f"; a fixed CPython workload (benchmarks.machine.speed_probe) took "
            f"{load['probe_before_ms']:.0f} ms before and {load['probe_after_ms']:.0f} ms after"
        )
    if load["foreign_cores"] > FOREIGN_WARNING:
        busiest = "; ".join(f"{name} ({cores} cores)" for name, cores in load["busiest"])
        line += f" — WARNING: foreign load may have depressed these figures ({busiest})"
    return line


def print_outcome(outcome: Outcome) -> None:
    """The figures, ratios and verdicts of one benchmark, on stdout."""
    print(f"\n== {outcome.spec.name}: {outcome.spec.title} ({outcome.seconds:.0f} s)")
    if outcome.error:
        print(f"   FAILED: {outcome.error}")
    for index, shown in enumerate(outcome.spec.shown):
        if shown.key not in outcome.figures:
            continue
        value = format_value(shown.key, outcome.figures[shown.key])
        ratio = _ratio(outcome, index)
        print(f"   {shown.label:<62} {value:>14}  {ratio}")
    for target, met in outcome.verdicts():
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[met]
        value = format_value(target.key, outcome.figures.get(target.key))
        print(f"   target {target.label:<55} {verdict:>12}  ({value})")
    if outcome.load:
        print(f"   machine: {_load_line(outcome)}")
    for note in outcome.notes:
        print(f"   note: {note}")


def _summary_rows(outcomes: Sequence[Outcome]) -> list[str]:
    rows = ["| benchmark | target | measured | met |", "|---|---|---|---|"]
    for outcome in outcomes:
        if outcome.error:
            rows.append(f"| {outcome.spec.name} | (all) | failed: {outcome.error} | no |")
        for target, met in outcome.verdicts():
            value = format_value(target.key, outcome.figures.get(target.key))
            verdict = {True: "yes", False: "**NO**", None: "not measured"}[met]
            rows.append(f"| {outcome.spec.name} | {target.label} | {value} | {verdict} |")
    return rows


def render_results(
    outcomes: Sequence[Outcome],
    machine: dict[str, str],
    started: datetime,
    finished: datetime,
    argv: Sequence[str],
    interrupted: bool,
) -> str:
    """RESULTS.md: the machine, the date, every figure and ratio, every verdict and why."""
    command = " ".join(["python -m benchmarks", *map(shlex.quote, argv)])
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`{command}`), {started:%Y-%m-%d %H:%M} – {finished:%H:%M} UTC"
        f" ({(finished - started).total_seconds() / 60:.1f} min)."
        + (
            " **Interrupted: only what was measured before Ctrl-C is here.**" if interrupted else ""
        ),
        "Every ratio is against a baseline measured in the same run. Re-run with `make bench`, "
        "or one benchmark with `make bench BENCH_ARGS='--only NAME'`.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in machine.items()),
        "",
        "## Targets",
        "",
        *_summary_rows(outcomes),
        "",
    ]
    missed = [(o, t) for o in outcomes for t, met in o.verdicts() if met is False]
    if missed:
        lines += ["### Not met, and why", ""]
        for outcome, target in missed:
            lines.append(
                f"- **{outcome.spec.name}: {target.label}** — measured "
                f"{format_value(target.key, outcome.figures.get(target.key))}."
            )
        lines += [
            "",
            "The reasons, from what was measured, are in each benchmark's notes below.",
            "",
        ]
    for outcome in outcomes:
        spec = outcome.spec
        lines += [f"## {spec.name}: {spec.title}", ""]
        if spec.method:
            lines += [f"**How:** {spec.method}.", ""]
        lines += [f"**Baseline:** {spec.baseline}.", ""]
        lines += [
            f"**Took** {outcome.seconds:.0f} s. **Machine during the run:** "
            f"{_load_line(outcome) or 'not sampled'}.",
            "",
        ]
        if outcome.error:
            lines += [f"**Failed:** `{outcome.error}`", ""]
        lines += ["| figure | value | ratio to baseline |", "|---|---|---|"]
        for index, shown in enumerate(spec.shown):
            if shown.key in outcome.figures:
                value = format_value(shown.key, outcome.figures[shown.key])
                lines.append(f"| {shown.label} | {value} | {_ratio(outcome, index)} |")
        lines.append("")
        if spec.targets:
            lines += ["| target | measured | met |", "|---|---|---|"]
            for target, met in outcome.verdicts():
                value = format_value(target.key, outcome.figures.get(target.key))
                verdict = {True: "yes", False: "**NO**", None: "not measured"}[met]
                lines.append(f"| {target.label} | {value} | {verdict} |")
            lines.append("")
        else:
            lines += ["No target is set for this benchmark; it is a figure to watch.", ""]
        if outcome.notes:
            lines += ["**Notes:**", ""]
            lines += [f"- {note}" for note in outcome.notes]
            lines.append("")
    return "\n".join(lines)


# From this line on RESULTS.md holds figures of runs other than make bench (the long fuzz
# run): make bench rewrites what is above it and keeps the rest.
KEPT_MARKER = "<!-- figures of other runs: make bench keeps everything below this line -->"


def write_results(path: Path, text: str) -> None:
    kept = ""
    if path.exists():
        old = path.read_text()
        if KEPT_MARKER in old:
            kept = "\n" + old[old.index(KEPT_MARKER) :]
    path.write_text(text + kept)
    print(f"\nwrote {path}", file=sys.stderr)
