"""Which values each run of a differential analysis plants.

Every planted value has two forms: its base value (A) and a variant (B) with a
different tag, four characters longer, so that anything derived from it changes,
its length included. A run is the set of planted values given their B form:

- baselines plant A everywhere. At least two, spread over the sequence (first,
  middle, last), so whatever changes by itself (a clock, a counter, a drifting
  reading) differs between them and is never taken for a leak;
- ``one-at-a-time`` varies each planted value alone: N runs for N values, and a
  slot that follows several values is attributed to each of them exactly;
- ``group`` gives each planted value its own set of ``w`` runs out of ``m``, no
  set inside another (w = ceil(m/2), m the least with C(m, w) >= N): 5 runs for 8
  values, 7 for up to 35. A slot that follows one value is attributed exactly; one
  that follows several is named with every value that could explain it.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import secrets
from dataclasses import dataclass

from .canaries import TEST_CARDS, Canary, CanarySet

DESIGNS = ("one-at-a-time", "group")
BASELINE = "baseline"


@dataclass(frozen=True)
class RunPlan:
    """One run: its label and the planted values given their variant form."""

    label: str
    varied: frozenset[str] = frozenset()

    @property
    def baseline(self) -> bool:
        return not self.varied


@dataclass(frozen=True)
class Design:
    """The runs of one differential analysis, in the order they are made."""

    kind: str
    names: tuple[str, ...]
    runs: tuple[RunPlan, ...]

    @property
    def baselines(self) -> list[int]:
        return [i for i, run in enumerate(self.runs) if run.baseline]


def run_count(kind: str, values: int, baselines: int = 3) -> int:
    """How many runs ``make_design`` makes for ``values`` planted values."""
    return baselines + (values if kind == "one-at-a-time" else _group_size(values))


def make_design(names: tuple[str, ...], kind: str = "one-at-a-time", baselines: int = 3) -> Design:
    """The runs for planted values ``names``.

    Raises:
        ValueError: an unknown design, fewer than 2 baselines, or no planted value.
    """
    if kind not in DESIGNS:
        raise ValueError(f"unknown differential design {kind!r}; choose {' or '.join(DESIGNS)}")
    if baselines < 2:
        raise ValueError("a differential analysis needs at least 2 baseline runs")
    if not names:
        raise ValueError("a differential analysis needs at least one planted value")
    varied = ([frozenset({n}) for n in names] if kind == "one-at-a-time"
              else _group_runs(names))
    labels = [("vary " + ", ".join(sorted(v))) for v in varied]
    runs = [RunPlan(label, v) for label, v in zip(labels, varied, strict=True)]
    total = len(runs) + baselines
    for k in range(baselines):  # first, last and spread between: drift splits them
        runs.insert(round(k * (total - 1) / (baselines - 1)), RunPlan(f"{BASELINE} {k + 1}"))
    return Design(kind, tuple(names), tuple(runs))


def _group_size(values: int) -> int:
    m = 1
    while math.comb(m, (m + 1) // 2) < values:
        m += 1
    return m


def _group_runs(names: tuple[str, ...]) -> list[frozenset[str]]:
    m = _group_size(len(names))
    codes = itertools.combinations(range(m), (m + 1) // 2)
    code_of = dict(zip(names, codes, strict=False))
    return [frozenset(n for n in names if run in code_of[n]) for run in range(m)]


def variant_of(base: CanarySet, tag: str | None = None) -> CanarySet:
    """Every planted value in its B form: the base tag replaced by a 12-hex-digit one,
    the test card by another published test card."""
    tag = (tag or secrets.token_hex(6)).upper()
    cards = [c for c in TEST_CARDS if c not in {x.value for x in base.canaries}]
    out = []
    for canary in base.canaries:
        if canary.value in TEST_CARDS:
            value = cards[int(tag, 16) % len(cards)]
        else:
            value = canary.value.replace(base.tag.upper(), tag).replace(base.tag.lower(),
                                                                         tag.lower())
        out.append(Canary(canary.name, value, canary.category))
    return dataclasses.replace(base, canaries=tuple(out))


def planted_for(run: RunPlan, base: CanarySet, variant: CanarySet) -> CanarySet:
    """The canary set one run plants: B for the varied names, A for the rest. The set
    keeps the base tag, so what is not a canary (the Wi-Fi password) stays the same."""
    chosen = tuple(v if v.name in run.varied else b
                   for b, v in zip(base.canaries, variant.canaries, strict=True))
    return dataclasses.replace(base, canaries=chosen)


__all__ = ["BASELINE", "DESIGNS", "Design", "RunPlan", "make_design", "planted_for",
           "run_count", "variant_of"]
