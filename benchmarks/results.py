"""Show outcomes: on the terminal as they come, and in ``benchmarks/RESULTS.md`` at the end."""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    """Write ``text`` over what ``make bench`` wrote before, keeping the other runs' figures
    below ``KEPT_MARKER`` and the sections of benchmarks this run did not measure (``--only``)."""
    kept = ""
    if path.exists():
        old = path.read_text()
        if KEPT_MARKER in old:
            kept = "\n" + old[old.index(KEPT_MARKER) :]
            old = old[: old.index(KEPT_MARKER)]
        text = merge_results(old, text)
    path.write_text(text + kept)
    print(f"\nwrote {path}", file=sys.stderr)


@dataclass
class _Parts:
    """A rendered RESULTS.md (above ``KEPT_MARKER``) taken apart by benchmark."""

    head: list[str]  # the title and the machine, up to "## Targets"
    order: list[str] = field(default_factory=list)  # the benchmarks, in the order shown
    rows: dict[str, list[str]] = field(default_factory=dict)  # their rows of the targets table
    missed: dict[str, list[str]] = field(default_factory=dict)  # their "Not met" lines
    sections: dict[str, list[str]] = field(default_factory=dict)  # their own sections


_SECTION = re.compile(r"^## (?P<name>[\w-]+): ")
_WRITTEN = re.compile(r"^Written by `make bench` \(`(?P<command>[^`]*)`\), (?P<when>[\d-]+ [\d:]+)")


def _parts(text: str) -> _Parts:
    lines = text.rstrip("\n").split("\n")
    start = lines.index("## Targets") if "## Targets" in lines else len(lines)
    parts = _Parts(head=lines[:start])
    current: str | None = None
    for line in lines[start:]:
        if match := _SECTION.match(line):
            current = match["name"]
            parts.sections[current] = []
            if current not in parts.order:
                parts.order.append(current)
        if current is not None:
            parts.sections[current].append(line)
        elif line.startswith("| ") and not line.startswith(("| benchmark |", "|---")):
            name = line.split("|")[1].strip()
            parts.rows.setdefault(name, []).append(line)
            if name not in parts.order:
                parts.order.append(name)
        elif line.startswith("- **") and ":" in line:
            parts.missed.setdefault(line[4:].split(":", 1)[0], []).append(line)
    return parts


def merge_results(old: str, new: str) -> str:
    """``new``, with the sections, target rows and misses of the benchmarks it did not
    measure taken from ``old`` (a run of ``--only ingest`` keeps the pipeline's figures), and
    a line saying which sections come from which earlier run."""
    before, after = _parts(old), _parts(new)
    kept = [name for name in before.order if name not in after.order and name in before.sections]
    if not kept:
        return new
    order = [*after.order, *kept]
    rows = {**before.rows, **after.rows}
    missed = {**{name: before.missed.get(name, []) for name in kept}, **after.missed}
    sections = {**before.sections, **after.sections}
    written = next((m for line in before.head if (m := _WRITTEN.match(line))), None)
    cpu = next(
        (line.split("|")[2].strip() for line in before.head if line.startswith("| CPU |")), ""
    )
    when = (
        f"the run of {written['when']} UTC (`{written['command']}`{', ' + cpu if cpu else ''})"
        if written
        else "an earlier run"
    )
    head = [*after.head]
    note = f"Kept from {when}, not measured in this one: {', '.join(kept)}."
    head.insert(next((i + 1 for i, line in enumerate(head) if _WRITTEN.match(line)), 1), note)
    lines = [
        *head,
        "## Targets",
        "",
        "| benchmark | target | measured | met |",
        "|---|---|---|---|",
    ]
    lines += [row for name in order for row in rows.get(name, [])]
    lines.append("")
    misses = [line for name in order for line in missed.get(name, [])]
    if misses:
        lines += ["### Not met, and why", "", *misses, ""]
        lines += ["The reasons, from what was measured, are in each benchmark's notes below.", ""]
    for name in order:
        lines += sections[name] if sections[name][-1:] == [""] else [*sections[name], ""]
    return "\n".join(lines).rstrip("\n") + "\n"
