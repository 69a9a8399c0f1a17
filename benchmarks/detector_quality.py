"""Precision and recall of every content detector on the labelled corpus.

    python benchmarks/detector_quality.py [--show]

The corpus (tests/verify/detector_corpus.py) holds, per detector, at least 30
forms devices really send and 30 look-alikes; ``--show`` lists what each
detector missed and where it fired wrongly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Sibling scripts are called serial.py and usb.py: keep this folder from shadowing them.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent / "tests" / "verify"))

from detector_corpus import CORPUS, score

from brewbench.bench.verify.detectors import detect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="list misses and false alarms")
    args = parser.parse_args()
    print(f"{'detector':<12} {'pos':>4} {'neg':>4} {'precision':>9} {'recall':>7}")
    for name, result in score(detect).items():
        print(f"{name:<12} {result.positives:>4} {len(CORPUS[name][1]):>4} "
              f"{result.precision:>9.3f} {result.recall:>7.3f}")
        if args.show:
            for value in result.missed:
                print(f"    missed: {value!r}")
            for value in result.false_alarms:
                print(f"    false alarm: {value!r}")


if __name__ == "__main__":
    main()
