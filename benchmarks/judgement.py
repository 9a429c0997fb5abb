"""Measure judgement: run the labelled commits of ``eval/`` through the analyzers (``make eval``).

    python -m benchmarks.judgement                       both analyzers on eval/commits.jsonl
    python -m benchmarks.judgement --analyzer heuristic  the heuristics only (no model needed)
    python -m benchmarks.judgement --limit 8 --prompt-version v1 --name v1-subset

The LLM goes through the production path — ``analysis.ask.llm_result``: budget, redaction, prompt,
the OpenAI analyzer, evidence combination — against ``OPENAI_BASE_URL`` when it is set, else
against the local model of ``../shared/tools/localllm`` (started if needed). Each run is kept
as ``benchmarks/eval_runs/<name>.json`` (every prediction, for reading the misses), and
``benchmarks/EVAL.md`` is rewritten from all kept runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from commit_digest.analysis.ask import llm_result
from commit_digest.analysis.evidence import combine_evidence
from commit_digest.analysis.heuristic import heuristic_analysis, with_heuristic_labels
from commit_digest.analysis.inputs import CommitInput, FileChange
from commit_digest.analysis.trust import Agreement, checked_by_evidence
from commit_digest.config import PROMPT_VERSIONS, Settings, load_settings
from commit_digest.runtime import Runtime
from report.schema import Analysis, ChangeType, Importance, Insights

ROOT = Path(__file__).resolve().parent.parent
EVAL_SET = ROOT / "eval" / "commits.jsonl"
HELD_OUT = ROOT / "eval" / "heldout.jsonl"
RUNS = Path(__file__).resolve().parent / "eval_runs"
EVAL_MD = Path(__file__).resolve().parent / "EVAL.md"
# As CI sees it: the shared tools sit next to the checkout.
LOCAL_LLM = ROOT.parent / "shared" / "tools" / "localllm" / "start.sh"
LOCAL_PORT = "8766"
LOCAL_MODEL = "qwen1.5b"
IMPORTANCES = [level.value for level in Importance]
CHANGE_TYPES = [kind.value for kind in ChangeType]


@dataclass(frozen=True)
class Labelled:
    """One commit of the set with the labels a person gave it by the rubric."""

    id: str
    commit: CommitInput
    change_type: str
    importance: str
    breaking_change: bool | None
    reason: str


@dataclass(frozen=True)
class Prediction:
    """What an analyzer said about one commit, and what it cost."""

    id: str
    change_type: str
    importance: str
    seconds: float
    analyzer: str
    tokens_in: int = 0
    tokens_out: int = 0
    decided_type: str | None = None
    decided_importance: str | None = None
    model_change_type: str | None = None
    model_importance: str | None = None
    fallback: str | None = None


def load_set(path: Path) -> list[Labelled]:
    """Read a labelled set: one JSON object per line (see eval/README.md)."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        files = tuple(
            FileChange(
                path=change["path"],
                status=change.get("status") or "modified",
                additions=change.get("additions"),
                deletions=change.get("deletions"),
                patch=change.get("patch"),
                previous_path=change.get("previous_path"),
            )
            for change in record.get("files", [])
        )
        commit = CommitInput(
            repository=record.get("repo", "unknown/unknown"),
            sha=record.get("sha") or record["id"],
            message=record["message"],
            author=record.get("author"),
            files=files,
            files_total=max(record.get("files_total") or 0, len(files)),
            source="github" if any(f.patch is not None for f in files) else "delivery",
        )
        items.append(
            Labelled(
                id=str(record["id"]),
                commit=commit,
                # "" while the set is still being labelled: predictions are kept by id and
                # scored once the labels are in
                change_type=record.get("label_change_type") or "",
                importance=record.get("label_importance") or "",
                breaking_change=record.get("label_breaking_change"),
                reason=record.get("reason", ""),
            )
        )
    return items


def run_heuristic(items: Sequence[Labelled], language: str = "en") -> list[Prediction]:
    """Analyse every commit with the heuristic analyzer."""
    predictions = []
    for item in items:
        started = time.perf_counter()
        analysis = heuristic_analysis(item.commit, language)
        decided = analysis.decided_by
        predictions.append(
            Prediction(
                id=item.id,
                change_type=analysis.change_type.value,
                importance=analysis.importance.value,
                seconds=time.perf_counter() - started,
                analyzer="heuristic",
                decided_type=decided.change_type if decided else None,
                decided_importance=decided.importance if decided else None,
            )
        )
    return predictions


def run_llm(
    items: Sequence[Labelled],
    settings: Settings,
    progress: Callable[[Labelled, Prediction], None] = lambda item, prediction: None,
) -> list[Prediction]:
    """Analyse every commit through the production LLM path, one at a time."""
    runtime = Runtime.build(settings, pre_ping=False)
    predictions = []
    try:
        for item in items:
            started = time.perf_counter()
            result = llm_result(runtime, item.commit, retries=settings.llm_retries)
            analysis = result.analysis
            decided = analysis.decided_by
            prediction = Prediction(
                id=item.id,
                change_type=analysis.change_type.value,
                importance=analysis.importance.value,
                seconds=time.perf_counter() - started,
                analyzer=result.analyzer,
                tokens_in=result.tokens_in,
                tokens_out=result.tokens_out,
                decided_type=decided.change_type if decided else None,
                decided_importance=decided.importance if decided else None,
                model_change_type=result.model_said[0] if result.model_said else None,
                model_importance=result.model_said[1] if result.model_said else None,
                fallback=result.fallback_reason,
            )
            predictions.append(prediction)
            progress(item, prediction)
    finally:
        runtime.close()
    return predictions


def recombine(items: Sequence[Labelled], predictions: Sequence[Prediction]) -> list[Prediction]:
    """Apply today's evidence rules to the model answers a run recorded.

    The combination is a pure function of the model's answer, the commit and the model's
    agreement with the evidence so far (counted in the run's order, as the service counts it),
    so a change to it is measured on a kept run without asking the model again.
    """
    by_id = {item.id: item for item in items}
    combined = []
    agreement = Agreement()
    for p in predictions:
        item = by_id.get(p.id)
        if item is None or p.model_change_type is None or p.model_importance is None:
            combined.append(p)
            continue
        said = Analysis(
            change_type=ChangeType(p.model_change_type),
            importance=Importance(p.model_importance),
            summary="-",
            impact_scope=[],
            insights=Insights(architecture="", performance="", security="", compatibility=""),
            risks=[],
            recommendations=[],
            breaking_change=False,
        )
        analysis = combine_evidence(said, item.commit)
        agreed = checked_by_evidence(said.change_type, analysis)
        if agreed is not None:
            agreement = agreement.after(agreed)
        if not agreement.trusted:
            analysis = with_heuristic_labels(analysis, item.commit)
        decided = analysis.decided_by
        combined.append(
            replace(
                p,
                change_type=analysis.change_type.value,
                importance=analysis.importance.value,
                decided_type=decided.change_type if decided else None,
                decided_importance=decided.importance if decided else None,
            )
        )
    return combined


def agreement(
    items: Sequence[Labelled], predictions: Sequence[Prediction], field: str
) -> tuple[int, int]:
    """Return how many predictions of ``field`` match the label, and of how many."""
    labels = {item.id: getattr(item, field) for item in items if getattr(item, field)}
    said = [p for p in predictions if getattr(p, field) is not None and p.id in labels]
    return sum(1 for p in said if getattr(p, field) == labels[p.id]), len(said)


def confusion(
    items: Sequence[Labelled],
    predictions: Sequence[Prediction],
    field: str,
    values: Sequence[str],
    predicted_field: str | None = None,
) -> str:
    """Return the confusion matrix of ``field`` as a Markdown table (rows: the label)."""
    labels = {item.id: getattr(item, field) for item in items if getattr(item, field)}
    attribute = predicted_field or field
    pairs = Counter(
        (labels[p.id], getattr(p, attribute))
        for p in predictions
        if p.id in labels and getattr(p, attribute) is not None
    )
    used = [v for v in values if any(v in pair for pair in pairs)]
    lines = [
        "| label ↓ / said → | " + " | ".join(used) + " |",
        "|---|" + "---:|" * len(used),
    ]
    for label in used:
        cells = [str(pairs[(label, said)] or "·") for said in used]
        lines.append(f"| **{label}** | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _percent(hits: int, total: int) -> str:
    return f"{hits}/{total} = {100 * hits / total:.1f} %" if total else "—"


def summarise(items: Sequence[Labelled], predictions: Sequence[Prediction]) -> dict[str, Any]:
    """Return the figures of one run: agreement, timing, tokens, fallbacks, deciders."""
    seconds = [p.seconds for p in predictions]
    tokens_in = [p.tokens_in for p in predictions if p.tokens_in]
    tokens_out = [p.tokens_out for p in predictions if p.tokens_out]
    figures: dict[str, Any] = {
        "commits": len(predictions),
        "importance": agreement(items, predictions, "importance"),
        "change_type": agreement(items, predictions, "change_type"),
        "seconds_mean": statistics.fmean(seconds) if seconds else 0.0,
        "seconds_median": statistics.median(seconds) if seconds else 0.0,
        "tokens_in_mean": statistics.fmean(tokens_in) if tokens_in else 0.0,
        "tokens_out_mean": statistics.fmean(tokens_out) if tokens_out else 0.0,
        "fallbacks": sum(1 for p in predictions if p.analyzer != "llm" and p.fallback),
        "decided_type": dict(Counter(p.decided_type or "?" for p in predictions)),
        "decided_importance": dict(Counter(p.decided_importance or "?" for p in predictions)),
    }
    model_said = [p for p in predictions if p.model_importance is not None]
    if model_said:
        as_model = [
            Prediction(
                id=p.id,
                change_type=p.model_change_type or "",
                importance=p.model_importance or "",
                seconds=p.seconds,
                analyzer=p.analyzer,
            )
            for p in model_said
        ]
        figures["model_alone_importance"] = agreement(items, as_model, "importance")
        figures["model_alone_change_type"] = agreement(items, as_model, "change_type")
    return figures


def render_run(run: Mapping[str, Any], items: Sequence[Labelled]) -> str:
    """Return the Markdown section of one kept run."""
    predictions = [Prediction(**p) for p in run["predictions"]]
    figures = summarise(items, predictions)
    lines = [
        f"### {run['name']}",
        "",
        f"{run['description']} — {run['finished']}, set `{run['set']}`.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| importance agreement | {_percent(*figures['importance'])} |",
        f"| change type agreement | {_percent(*figures['change_type'])} |",
    ]
    if "model_alone_importance" in figures:
        lines += [
            f"| importance, model alone (before evidence) | "
            f"{_percent(*figures['model_alone_importance'])} |",
            f"| change type, model alone (before evidence) | "
            f"{_percent(*figures['model_alone_change_type'])} |",
        ]
        again = recombine(items, predictions)
        lines += [
            f"| importance, the model's answers with the current evidence rules | "
            f"{_percent(*agreement(items, again, 'importance'))} |",
            f"| change type, the model's answers with the current evidence rules | "
            f"{_percent(*agreement(items, again, 'change_type'))} |",
        ]
    lines += [
        f"| seconds per commit (mean / median) | {figures['seconds_mean']:.2f} / "
        f"{figures['seconds_median']:.2f} |",
        f"| tokens per commit in / out (mean) | {figures['tokens_in_mean']:.0f} / "
        f"{figures['tokens_out_mean']:.0f} |",
        f"| fell back to heuristics | {figures['fallbacks']} |",
        f"| type decided by | {_counts(figures['decided_type'])} |",
        f"| importance decided by | {_counts(figures['decided_importance'])} |",
        "",
        "Importance (rows: label, columns: analyzer):",
        "",
        confusion(items, predictions, "importance", IMPORTANCES),
        "",
        "Change type:",
        "",
        confusion(items, predictions, "change_type", CHANGE_TYPES),
        "",
    ]
    if any(p.model_importance for p in predictions):
        again = recombine(items, predictions)
        lines += [
            "The model's answers with the current evidence rules — importance:",
            "",
            confusion(items, again, "importance", IMPORTANCES),
            "",
            "and change type:",
            "",
            confusion(items, again, "change_type", CHANGE_TYPES),
            "",
        ]
    misses = [
        (item, p)
        for item, p in _pairs(items, predictions)
        if (item.importance, item.change_type) != (p.importance, p.change_type)
    ]
    if misses:
        lines += [
            "<details><summary>Disagreements</summary>",
            "",
            "| commit | label | said | decided by |",
            "|---|---|---|---|",
        ]
        for item, p in misses:
            subject = item.commit.subject.replace("|", "\\|")[:70]
            lines.append(
                f"| {item.id}: {subject} | {item.change_type}/{item.importance} | "
                f"{p.change_type}/{p.importance} | {p.decided_type}/{p.decided_importance} |"
            )
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def _pairs(
    items: Sequence[Labelled], predictions: Iterable[Prediction]
) -> list[tuple[Labelled, Prediction]]:
    by_id = {item.id: item for item in items}
    return [(by_id[p.id], p) for p in predictions if p.id in by_id]


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def write_eval_md(runs_dir: Path = RUNS, out: Path = EVAL_MD) -> None:
    """Rewrite ``EVAL.md`` from every kept run whose labelled set is present."""
    sections = []
    for path in sorted(runs_dir.glob("*.json")):
        run = json.loads(path.read_text(encoding="utf-8"))
        if not (ROOT / run["set"]).exists():
            continue
        items = load_set(ROOT / run["set"])
        sections.append(render_run(run, items))
    header = (ROOT / "eval" / "EVAL_HEADER.md").read_text(encoding="utf-8").strip()
    out.write_text(header + "\n\n" + "\n".join(sections), encoding="utf-8")


def keep_run(
    name: str, description: str, set_path: Path, predictions: Sequence[Prediction]
) -> Path:
    """Store one run's predictions under ``benchmarks/eval_runs``."""
    # runs of commits outside the repository (a set still being labelled) are scored
    # against the repository's copy, matched by id
    if not set_path.resolve().is_relative_to(ROOT):
        set_path = EVAL_SET
    RUNS.mkdir(exist_ok=True)
    path = RUNS / f"{name}.json"
    run = {
        "name": name,
        "description": description,
        "set": str(set_path.resolve().relative_to(ROOT)),
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "predictions": [asdict(p) for p in predictions],
    }
    path.write_text(json.dumps(run, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def local_model_url() -> str:
    """Start the local model of ``../shared/tools/localllm`` if needed; return its base URL."""
    if not LOCAL_LLM.exists():
        raise SystemExit(f"no OPENAI_BASE_URL set and no {LOCAL_LLM} to start a local model")
    answer = subprocess.run(
        [str(LOCAL_LLM), LOCAL_PORT, LOCAL_MODEL], check=True, capture_output=True, text=True
    )
    return answer.stdout.strip().splitlines()[-1]


def served_model(base_url: str) -> str:
    """Return the first model the server at ``base_url`` lists."""
    with urllib.request.urlopen(f"{base_url.rstrip('/')}/models", timeout=30) as answer:
        return str(json.load(answer)["data"][0]["id"])


def llm_settings(base_url: str, prompt_version: str, language: str) -> Settings:
    """Return the service's settings for the eval: its defaults, pointed at ``base_url``."""
    environ = {
        key: value for key, value in os.environ.items() if key.startswith(("OPENAI_", "LLM_"))
    }
    environ.setdefault("OPENAI_MODEL", served_model(base_url))
    environ.update(
        OPENAI_BASE_URL=base_url,
        ANALYZER="llm",
        LLM_PROMPT_VERSION=prompt_version,
        REPORT_LANGUAGE=language,
        # a queue at a shared one-slot server is not the model's failure
        LLM_TIMEOUT=environ.get("LLM_TIMEOUT", "900"),
        # each run starts as a new installation: the model earns its labels' trust in the run
        REDIS_KEY_PREFIX=f"eval-{uuid.uuid4().hex[:12]}:",
        DATABASE_URL="sqlite://",
    )
    return load_settings(environ, dotenv_path=None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make eval", description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=EVAL_SET, help="the commits to analyse")
    parser.add_argument("--analyzer", choices=("both", "llm", "heuristic"), default="both")
    parser.add_argument("--prompt-version", default=PROMPT_VERSIONS[-1])
    parser.add_argument("--language", default="en")
    parser.add_argument("--limit", type=int, default=0, help="only the first N commits")
    parser.add_argument("--ids", default="", help="only these ids, comma-separated")
    parser.add_argument("--name", default="", help="name of the kept run")
    parser.add_argument("--render-only", action="store_true", help="rewrite EVAL.md only")
    parser.add_argument(
        "--resume", action="store_true", help="keep the LLM run's predictions so far, do the rest"
    )
    args = parser.parse_args(argv)

    if args.render_only:
        write_eval_md()
        return 0
    items = load_set(args.set)
    if args.ids:
        wanted = set(args.ids.split(","))
        items = [item for item in items if item.id in wanted]
    # repositories in turn, so that a run cut short is still a sample of every one
    items = _interleave(items)
    if args.limit:
        items = items[: args.limit]
    # a set outside the repository (still being labelled) is kept under the repository's name
    stem = args.set.stem if args.set.resolve().is_relative_to(ROOT) else EVAL_SET.stem
    if args.analyzer in ("both", "heuristic"):
        predictions = run_heuristic(items, args.language)
        name = f"{stem}-heuristic" + (f"-{args.name}" if args.name else "")
        keep_run(name, "Heuristic analyzer", args.set, predictions)
        _print_figures("heuristic", summarise(items, predictions))
    if args.analyzer in ("both", "llm"):
        base_url = os.environ.get("OPENAI_BASE_URL") or local_model_url()
        settings = llm_settings(base_url, args.prompt_version, args.language)
        print(f"LLM: {settings.openai_model} at {base_url}, prompt {args.prompt_version}")

        def progress(item: Labelled, p: Prediction) -> None:
            mark = (
                "✓" if (p.importance, p.change_type) == (item.importance, item.change_type) else "✗"
            )
            print(
                f"{mark} {item.id:<12} label {item.change_type}/{item.importance:<6} "
                f"said {p.change_type}/{p.importance:<6} model {p.model_change_type}/"
                f"{p.model_importance} by {p.decided_type}/{p.decided_importance} "
                f"{p.seconds:.0f}s {p.tokens_in}+{p.tokens_out} tok",
                flush=True,
            )

        name = f"{stem}-llm-{args.prompt_version}" + (f"-{args.name}" if args.name else "")
        description = (
            f"LLM `{settings.openai_model}` via `{base_url}`, prompt {args.prompt_version}, "
            f"language {args.language}, input budget {settings.llm_input_token_budget}"
        )
        done: list[Prediction] = []
        if args.resume and (RUNS / f"{name}.json").exists():
            kept = json.loads((RUNS / f"{name}.json").read_text(encoding="utf-8"))
            done = [Prediction(**p) for p in kept["predictions"]]
            seen = {p.id for p in done}
            items = [item for item in items if item.id not in seen]

        def progress_and_keep(item: Labelled, p: Prediction) -> None:
            # kept after every commit: a run cut short still counts what it did
            done.append(p)
            keep_run(name, description, args.set, done)
            progress(item, p)

        predictions = run_llm(items, settings, progress_and_keep)
        _print_figures("llm", summarise(items, predictions))
    write_eval_md()
    print(f"wrote {EVAL_MD.relative_to(ROOT)}")
    return 0


def _interleave(items: Sequence[Labelled]) -> list[Labelled]:
    """Order ``items`` by turns across repositories, keeping each repository's order."""
    queues: dict[str, list[Labelled]] = {}
    for item in items:
        queues.setdefault(item.commit.repository, []).append(item)
    ordered: list[Labelled] = []
    while any(queues.values()):
        for queue in queues.values():
            if queue:
                ordered.append(queue.pop(0))
    return ordered


def _print_figures(name: str, figures: Mapping[str, Any]) -> None:
    print(
        f"{name}: importance {_percent(*figures['importance'])}, "
        f"change type {_percent(*figures['change_type'])}, "
        f"{figures['seconds_mean']:.2f} s/commit, "
        f"{figures['tokens_in_mean']:.0f}+{figures['tokens_out_mean']:.0f} tokens/commit",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
