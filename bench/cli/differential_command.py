"""``brewbench run --differential``: find what follows the planted values, whatever
the encoding, by running the standard session several times per device."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..differential_results import judge_differential, keep_differential
from ..differential_run import run_differential
from ..influx.run_log import RunLog
from ..verify.diff_design import DESIGNS, REPLICATES
from ..verify.differential import DifferentialError
from ..verify.redact import Redactor

TEST = "brewbench run --differential"


def add_differential_options(run: argparse.ArgumentParser) -> None:
    """The options of ``brewbench run`` that ask for a differential analysis."""
    run.add_argument("--differential", action="store_true",
                     help="run the session several times per device, planting the same and "
                     "then changed values, and report every field that follows a planted "
                     "value whatever its encoding (exit 1 when one is beyond the contract)")
    run.add_argument("--design", choices=DESIGNS, default="one-at-a-time",
                     help="with --differential: vary each planted value alone (N runs) or in "
                     "overlapping groups (fewer runs); 3 baseline runs are added "
                     "(default: %(default)s)")
    run.add_argument("--baselines", type=int, default=3,
                     help="with --differential: runs with the same planted values (>= 2)")
    run.add_argument("--replicates", type=int, default=REPLICATES,
                     help="with --differential: variants of each planted value, each in its "
                     "own runs; a field must follow every one (default: %(default)s)")
    if "--contract" not in run._option_string_actions:  # another option group may add it
        run.add_argument("--contract", type=Path, default=None, metavar="TOML",
                         help="data contract the findings are judged against (without one, "
                         "every differential finding counts)")


def run_differential_devices(args: argparse.Namespace, specs: list[str], run_id: str,
                             run_log: RunLog, verdicts: list[str]) -> int:
    """Analyse each device; 1 when a finding is beyond the contract on any of them. Each
    device's verdict line goes to ``verdicts``, for the run to end with (also when a later
    device fails)."""
    if args.contract is not None and not args.contract.is_file():
        raise DifferentialError(f"data contract {args.contract} does not exist")
    redactor = None if args.raw_captures else Redactor.from_lab_key()
    beyond = 0
    for spec in specs:
        print(f"== {spec}  (run {run_id}, differential)", flush=True)
        started_ns = time.time_ns()
        result = run_differential(spec, design=args.design, baselines=args.baselines,
                                  replicates=args.replicates, timeout=args.timeout,
                                  progress=lambda line: print(f"   {line}", flush=True))
        outcome = judge_differential(result, args.contract, redactor)
        for line in result.report(redactor, raw=args.raw_captures).splitlines():
            print(f"   {line}")
        if outcome.verdict is not None:
            print(outcome.verdict.report())
        path = keep_differential(outcome, args.results / run_id, run_log, test=TEST,
                                 started_ns=started_ns, raw=args.raw_captures)
        print(f"   findings saved to {path}")
        verdicts.append(f"verdict: {outcome.line()}")
        beyond += 0 if outcome.ok else 1
    return 1 if beyond else 0


__all__ = ["add_differential_options", "run_differential_devices"]
