"""Precision and recall of every content detector on the labelled corpus.

    python benchmarks/detector_quality.py [--show]

The corpus (tests/verify/detector_corpus.py) holds, per detector, at least 30
forms devices really send and 30 look-alikes; ``--show`` lists what each
detector missed and where it fired wrongly.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from brewbench.bench.verify.detectors import detect

CORPUS_FILE = Path(__file__).resolve().parents[1] / "tests" / "verify" / "detector_corpus.py"


def load_corpus() -> ModuleType:
    """The corpus module of the test suite (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location("detector_corpus", CORPUS_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="list misses and false alarms")
    args = parser.parse_args()
    corpus = load_corpus()
    print(f"{'detector':<12} {'pos':>4} {'neg':>4} {'precision':>9} {'recall':>7}")
    for name, result in corpus.score(detect).items():
        print(f"{name:<12} {result.positives:>4} {len(corpus.CORPUS[name][1]):>4} "
              f"{result.precision:>9.3f} {result.recall:>7.3f}")
        if args.show:
            for value in result.missed:
                print(f"    missed: {value!r}")
            for value in result.false_alarms:
                print(f"    false alarm: {value!r}")


if __name__ == "__main__":
    main()
