"""Run the benchmarks and write benchmarks/RESULTS.md (``make bench``).

    python -m benchmarks                        every benchmark
    python -m benchmarks --only ingest,report   some of them
    python -m benchmarks --list                 what there is

Each benchmark prints its figures and their ratios against a baseline measured in the same
run; services it started are stopped when it ends, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from benchmarks.machine import ForeignLoad, describe
from benchmarks.outcome import Outcome
from benchmarks.results import print_outcome, render_results, write_results
from benchmarks.services import postgres_server_version

BENCHMARKS = ("ingest", "pipeline", "report", "budget")
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"benchmarks.{name}_bench")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _options(module: ModuleType, args: argparse.Namespace) -> dict[str, Any]:
    """The command-line options this benchmark's ``run`` accepts."""
    accepted = inspect.signature(module.run).parameters
    options: dict[str, Any] = {}
    if "concurrency" in accepted and args.concurrency is not None:
        options["concurrency"] = args.concurrency
    if "pools" in accepted and args.pools is not None:
        options["pools"] = tuple(args.pools.split(","))
    return options


def run_one(name: str, args: argparse.Namespace) -> Outcome:
    module = _module(name)
    outcome = Outcome(spec=module.SPEC)
    print(f"\n>> {name}: {module.SPEC.title}", flush=True)
    started = time.monotonic()
    with ForeignLoad() as load:
        try:
            outcome.figures = module.run(**_options(module, args))
        except KeyboardInterrupt:
            raise
        except Exception as error:  # one benchmark failing must not lose the others' results
            traceback.print_exc()
            outcome.error = f"{type(error).__name__}: {error}".splitlines()[0][:300]
    outcome.seconds = time.monotonic() - started
    outcome.load = load.result()
    notes = getattr(module, "notes", None)
    if notes is not None and outcome.figures:
        outcome.notes = notes(outcome.figures)
    print_outcome(outcome)
    return outcome


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", help="comma-separated names: " + ", ".join(BENCHMARKS))
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--concurrency", type=int, help="pipeline: worker concurrency C (32)")
    parser.add_argument("--pools", help="pipeline: worker pools to measure (prefork,threads)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write RESULTS.md")
    args = parser.parse_args(argv)
    if args.list:
        for name in BENCHMARKS:
            print(f"{name:10} {_module(name).SPEC.title}")
        return 0
    names = [n.strip() for n in (args.only or ",".join(BENCHMARKS)).split(",") if n.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C stops the run and its services even where SIGINT came in ignored (a shell's
    # background job), which would otherwise leave nothing to catch it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = datetime.now(UTC)
    outcomes: list[Outcome] = []
    interrupted = False
    try:
        for name in names:
            outcomes.append(run_one(name, args))
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: the services were stopped; writing what was measured", flush=True)
    machine = describe()
    machine["PostgreSQL server"] = postgres_server_version()
    text = render_results(outcomes, machine, started, datetime.now(UTC), argv, interrupted)
    write_results(args.results, text)
    failed = [o.spec.name for o in outcomes if o.error]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 130 if interrupted else 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
