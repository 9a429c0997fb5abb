"""RESULTS.md: a run of some benchmarks keeps the others' figures from the run before."""

from __future__ import annotations

from pathlib import Path

from benchmarks.results import KEPT_MARKER, merge_results, write_results


def results(command: str, when: str, cpu: str, figures: dict[str, str]) -> str:
    """A RESULTS.md as ``render_results`` writes it, for the benchmarks in ``figures``."""
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`{command}`), {when} – 10:00 UTC (1.0 min).",
        "Every ratio is against a baseline measured in the same run.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {cpu} |",
        "",
        "## Targets",
        "",
        "| benchmark | target | measured | met |",
        "|---|---|---|---|",
        *(f"| {name} | rate ≥ 1 | {value} | **NO** |" for name, value in figures.items()),
        "",
        "### Not met, and why",
        "",
        *(f"- **{name}: rate ≥ 1** — measured {value}." for name, value in figures.items()),
        "",
        "The reasons, from what was measured, are in each benchmark's notes below.",
        "",
    ]
    for name, value in figures.items():
        lines += [f"## {name}: The {name} benchmark", "", "| figure | value |", "|---|---|"]
        lines += [f"| rate | {value} |", "", "- **Notes:** none", ""]
    return "\n".join(lines)


def test_a_run_of_one_benchmark_keeps_the_others_from_the_run_before() -> None:
    """`--only ingest` replaces the ingest figures and keeps the pipeline's, saying whence."""
    before = results("python -m benchmarks", "2026-12-05 09:25", "AMD EPYC", {"ingest": "0.3", "pipeline": "0.9"})  # fmt: skip
    now = results("python -m benchmarks --only ingest", "2026-12-06 08:00", "Intel Xeon", {"ingest": "0.2"})  # fmt: skip

    merged = merge_results(before, now)

    assert "| ingest | rate ≥ 1 | 0.2 | **NO** |" in merged
    assert "| ingest | rate ≥ 1 | 0.3 | **NO** |" not in merged
    assert "| pipeline | rate ≥ 1 | 0.9 | **NO** |" in merged
    assert "- **pipeline: rate ≥ 1** — measured 0.9." in merged
    assert merged.count("## ingest: ") == 1
    assert "## pipeline: The pipeline benchmark" in merged
    assert "| rate | 0.9 |" in merged
    assert "| rate | 0.3 |" not in merged
    assert (
        "Kept from the run of 2026-12-05 09:25 UTC (`python -m benchmarks`, AMD EPYC), "
        "not measured in this one: pipeline." in merged
    )
    assert merged.index("## ingest: ") < merged.index("## pipeline: ")


def test_a_whole_run_replaces_everything_and_keeps_the_other_runs_below_the_marker(
    tmp_path: Path,
) -> None:
    """`make bench` of every benchmark rewrites what is above the marker, nothing else."""
    path = tmp_path / "RESULTS.md"
    fuzz = f"{KEPT_MARKER}\n\n## Fuzz run\n\n12 hours, no finding.\n"
    path.write_text(results("python -m benchmarks", "2026-12-05 09:25", "AMD EPYC", {"ingest": "0.3"}) + "\n" + fuzz)  # fmt: skip
    write_results(path, results("python -m benchmarks", "2026-12-06 08:00", "Intel Xeon", {"ingest": "0.2"}))  # fmt: skip

    text = path.read_text()
    assert "| ingest | rate ≥ 1 | 0.2 | **NO** |" in text
    assert "0.3" not in text
    assert "Kept from" not in text
    assert text.endswith(fuzz)
