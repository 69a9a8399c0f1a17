"""Which values each run of a differential analysis plants, and in which order.

Every planted value has a base form (A) and one variant form per replicate (B1,
B2, ...), each with its own tag and of its own length (B1 four characters longer
than A, B2 eight), so that anything derived from the value changes with it, its
length included, and two variants of one value never look alike. A run gives some
planted values one of their variant forms; the others keep A:

- baselines plant A everywhere. At least two, spread over the sequence (first,
  middle, last), so whatever changes by itself (a clock, a counter, a drifting
  reading) differs between them and is never taken for a leak;
- ``one-at-a-time`` varies each planted value alone: N runs for N values per
  replicate, and a slot that follows several values is attributed to each exactly;
- ``group`` gives each planted value its own set of ``w`` runs out of ``m``, no
  set inside another (w = ceil(m/2), m the least with C(m, w) >= N): 5 runs for 8
  values, 7 for up to 35, per replicate. A slot that follows one value is
  attributed exactly; one that follows several is named with every value that
  could explain it.

Each replicate repeats the varied runs with the next variant, in an order of its own
(the first as given, each later one shuffled afresh): a slot must follow a value
through every variant; a value a device keeps from one session to the next (``lag``)
shows up after another run each time, so what it remembers is told apart from what
it is given; and a device whose behaviour cycles with a counter (a leak every fourth
session) cannot meet both runs of a value in step with it every time.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from .canaries import TEST_CARDS, Canary, CanarySet

DESIGNS = ("one-at-a-time", "group")
BASELINE = "baseline"
REPLICATES = 2  # variants per planted value: the least that can show a slot follows it


@dataclass(frozen=True)
class RunPlan:
    """One run: its label, the planted values given a variant form, and which variant
    (1 for B1, 2 for B2, ...; 0 for a baseline)."""

    label: str
    varied: frozenset[str] = frozenset()
    replicate: int = 0

    @property
    def baseline(self) -> bool:
        return not self.varied

    def form(self, name: str) -> int:
        """0 when ``name`` keeps its base form in this run, else its variant number."""
        return self.replicate if name in self.varied else 0


@dataclass(frozen=True)
class Design:
    """The runs of one differential analysis, in the order they are made."""

    kind: str
    names: tuple[str, ...]
    runs: tuple[RunPlan, ...]

    @property
    def baselines(self) -> list[int]:
        return [i for i, run in enumerate(self.runs) if run.baseline]

    @property
    def replicates(self) -> int:
        return max((run.replicate for run in self.runs), default=0)


def run_count(kind: str, values: int, baselines: int = 3, replicates: int = REPLICATES) -> int:
    """How many runs ``make_design`` makes for ``values`` planted values."""
    per_replicate = values if kind == "one-at-a-time" else _group_size(values)
    return baselines + per_replicate * replicates


def make_design(names: tuple[str, ...], kind: str = "one-at-a-time", baselines: int = 3,
                replicates: int = REPLICATES, order: int | None = None) -> Design:
    """The runs for planted values ``names``; ``order`` seeds the order of the later
    replicates (None: a fresh one each time).

    Raises:
        ValueError: an unknown design, fewer than 2 baselines or 1 replicate, or no
            planted value.
    """
    if kind not in DESIGNS:
        raise ValueError(f"unknown differential design {kind!r}; choose {' or '.join(DESIGNS)}")
    if baselines < 2:
        raise ValueError("a differential analysis needs at least 2 baseline runs")
    if replicates < 1:
        raise ValueError("a differential analysis needs at least 1 replicate")
    if not names:
        raise ValueError("a differential analysis needs at least one planted value")
    varied = ([frozenset({n}) for n in names] if kind == "one-at-a-time"
              else _group_runs(names))
    runs: list[RunPlan] = []
    shuffle = random.Random(secrets.randbits(64) if order is None else order).shuffle
    for replicate in range(1, replicates + 1):
        block = list(varied)
        if replicate > 1:  # a device whose state cycles must not meet a value in step
            shuffle(block)
        suffix = f" (B{replicate})" if replicates > 1 else ""
        runs += [RunPlan("vary " + ", ".join(sorted(v)) + suffix, v, replicate) for v in block]
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


def variant_of(base: CanarySet, tag: str | None = None, replicate: int = 1) -> CanarySet:
    """Every planted value in its variant form number ``replicate``: the base tag
    replaced by one of 8 + 4 * replicate hex digits, the test card by another
    published test card (a different one per replicate)."""
    size = 8 + 4 * replicate
    tag = (tag or secrets.token_hex(size // 2 + 1)[:size]).upper()
    cards = [c for c in TEST_CARDS if c not in {x.value for x in base.canaries}]
    out = []
    for canary in base.canaries:
        if canary.value in TEST_CARDS:
            value = cards[(int(tag, 16) + replicate) % len(cards)]
        else:
            value = canary.value.replace(base.tag.upper(), tag).replace(base.tag.lower(),
                                                                         tag.lower())
        out.append(Canary(canary.name, value, canary.category))
    return dataclasses.replace(base, canaries=tuple(out))


def variants_of(base: CanarySet, design: Design) -> tuple[CanarySet, ...]:
    """One variant set per replicate of ``design``, no two alike (cards included)."""
    out: list[CanarySet] = []
    for replicate in range(1, design.replicates + 1):
        taken = {c.value for v in out for c in v.canaries}
        variant = variant_of(base, replicate=replicate)
        while taken & {c.value for c in variant.canaries}:
            variant = variant_of(base, replicate=replicate)
        out.append(variant)
    return tuple(out)


def planted_for(run: RunPlan, base: CanarySet,
                variants: CanarySet | Sequence[CanarySet]) -> CanarySet:
    """The canary set one run plants: its variant for the varied names, A for the rest.
    The set keeps the base tag, so what is not a canary (the Wi-Fi password) stays the
    same."""
    chosen_set = variants if isinstance(variants, CanarySet) else \
        variants[max(run.replicate, 1) - 1]
    chosen = tuple(v if v.name in run.varied else b
                   for b, v in zip(base.canaries, chosen_set.canaries, strict=True))
    return dataclasses.replace(base, canaries=chosen)


__all__ = ["BASELINE", "DESIGNS", "REPLICATES", "Design", "RunPlan", "make_design",
           "planted_for", "run_count", "variant_of", "variants_of"]
