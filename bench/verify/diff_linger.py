"""Values a device kept from an earlier run: planted then, not now, and still emitted.

Every run of a differential analysis starts from a factory reset and plants its own
forms of the planted values. A form that run i did not plant but an earlier run did
has no business in run i's capture: if the hunter finds it there, in any encoding it
knows, the device kept it across the reset (or across re-provisioning). That is a
finding in itself, whatever the contract allows for the value's category.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from ..capture import Capture
from .canaries import Canary, CanarySet
from .diff_design import Design, planted_for
from .emissions import Emission, emissions
from .hunter import hunter_for


@dataclass(frozen=True)
class Lingering:
    """One earlier run's planted value, found in a later run's capture."""

    name: str
    category: str
    planted_in: int  # the run that planted it
    found_in: int  # the run whose capture holds it
    chain: str  # how it was disguised, as the hunter tells it
    value: str
    emission: Emission


def lingering(design: Design, base: CanarySet, variants: Sequence[CanarySet],
              captures: Sequence[Capture]) -> list[Lingering]:
    """Every planted form found in a run after the runs that planted it, none of which
    planted it again. One hunter, built once, looks for every form in every run."""
    planted = [{c.value for c in planted_for(run, base, variants).canaries}
               for run in design.runs]
    forms = {f"{c.name}#{number}": c for number, form in enumerate((base, *variants))
             for c in form.canaries}
    hunter = hunter_for(tuple(Canary(key, c.value, c.category) for key, c in forms.items()))
    out: list[Lingering] = []
    for found_in, capture in enumerate(captures):
        found = emissions(capture)
        for hit in hunter.hunt(found):
            canary = forms[hit.canary]
            earlier = [n for n in range(found_in) if canary.value in planted[n]]
            if canary.value in planted[found_in] or not earlier:
                continue  # its own value, or one no run had planted yet
            out.append(Lingering(canary.name, canary.category, earlier[-1], found_in, hit.chain,
                                 canary.value, found[hit.emissions[0]]))
    return out


def every_form(base: CanarySet, variants: Sequence[CanarySet]) -> CanarySet:
    """One canary set holding every form of every planted value (names kept): what
    any run of the analysis may have been given, hunted in each with one hunter."""
    seen: dict[str, Canary] = {}
    for form in (base, *variants):
        for canary in form.canaries:
            seen.setdefault(canary.value, canary)
    return dataclasses.replace(base, canaries=tuple(seen.values()))


__all__ = ["Lingering", "every_form", "lingering"]
