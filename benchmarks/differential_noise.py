"""False findings and misses of the differential verdict on noisy, stateful machines.

Each analysis is one full ``run_differential`` against a freshly seeded emulated
CM-500 with a real machine's manners (emulator/field_noise.py): bursty telemetry,
one to three records per order, shuffled keys, random padding, clocks, nonces,
unasked heartbeats. Every device is its own unit (its flash starts empty, its boot
counter at the seed) so no analysis inherits another's history.

- clean devices (1.2, and 1.0 with ``noise=field``): every finding is false;
- leaky devices: 2.3 with ``noise=field`` (five keyed leaks), 2.5 (keeps its owner
  across a factory reset), 2.6 (leaks the owner in three sessions of four). A
  finding is false when it names a field the device never put a planted value in;
  a leak is missed when no finding names its field.

    python benchmarks/differential_noise.py --seeds 10
    python benchmarks/differential_noise.py --seeds 10 --replicates 3 --only firmware=2.6

prints one line per firmware and design and the totals; docs/data-verification.md
quotes them. Exit 1 when any clean device had a finding.
"""

from __future__ import annotations

import argparse
import sys
import time

from brewbench.bench.differential_run import run_differential
from brewbench.bench.verify.diff_design import DESIGNS, REPLICATES

#: firmware spec part -> the fields a device of it puts planted values in (empty: clean)
LEAKS: dict[str, frozenset[str]] = {
    "firmware=1.2": frozenset(),
    "firmware=1.0&noise=field": frozenset(),
    "firmware=2.3&noise=field": frozenset({"RECORD.uid", "RECORD.ref", "RECORD.loc",
                                           "RECORD.tag", "RECORD.box"}),
    "firmware=2.5": frozenset({"RECORD.acct", "READ_LOGS.lines[]", "RECORD.machine_name"}),
    "firmware=2.6": frozenset({"RECORD.acct", "READ_LOGS.lines[]", "RECORD.machine_name"}),
}
#: leaks that must be found (the machine name in 2.x is allowed and not counted)
MUST_FIND: dict[str, frozenset[str]] = {
    "firmware=2.3&noise=field": LEAKS["firmware=2.3&noise=field"],
    "firmware=2.5": frozenset({"RECORD.acct", "READ_LOGS.lines[]"}),
    "firmware=2.6": frozenset({"RECORD.acct"}),
}


def one(device: str, design: str, seed: int, replicates: int) -> tuple[int, int, int]:
    """(false findings, missed leaks, leaks to find) of one analysis."""
    unit = f"bench-{device}-{design}-{seed}".replace("&", "-").replace("=", "-")
    spec = f"emu://?{device}&seed={seed}&unit={unit}"
    result = run_differential(spec, design=design, replicates=replicates, order=seed)
    named = {f.path for f in result.findings}
    false = sum(1 for f in result.findings if f.path not in LEAKS[device])
    wanted = MUST_FIND.get(device, frozenset())
    return false, len(wanted - named), len(wanted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="devices per firmware and design")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--replicates", type=int, default=REPLICATES,
                        help="variants of each planted value (default: %(default)s)")
    parser.add_argument("--only", choices=sorted(LEAKS), action="append",
                        help="measure only this firmware (repeatable)")
    args = parser.parse_args()
    totals = {"clean": [0, 0], "leaky": [0, 0, 0, 0]}  # analyses, false; + missed, to find
    started = time.monotonic()
    for device in args.only or LEAKS:
        for design in DESIGNS:
            false = missed = wanted = with_false = 0
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                f, m, w = one(device, design, seed, args.replicates)
                false, missed, wanted = false + f, missed + m, wanted + w
                with_false += 1 if f else 0
            kind = "leaky" if device in MUST_FIND else "clean"
            totals[kind][0] += args.seeds
            totals[kind][1] += with_false
            if kind == "leaky":
                totals[kind][2] += missed
                totals[kind][3] += wanted
            miss = f", missed {missed}/{wanted} leaks" if wanted else ""
            print(f"{device:28} {design:14} {args.seeds} analyses: {with_false} with a false "
                  f"finding ({false} false findings){miss}", flush=True)
    clean, leaky = totals["clean"], totals["leaky"]
    print(f"clean devices: {clean[1]}/{clean[0]} analyses with a false finding; leaky devices: "
          f"{leaky[1]}/{leaky[0]} with a false finding, {leaky[2]}/{leaky[3]} leaks missed "
          f"({time.monotonic() - started:.0f} s)")
    return 1 if clean[1] else 0


if __name__ == "__main__":
    sys.exit(main())
