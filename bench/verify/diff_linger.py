"""Values a device kept from an earlier run: planted then, not now, and still emitted.

Every run of a differential analysis starts from a factory reset and plants its own
forms of the planted values. A form that run i did not plant but an earlier run did
has no business in run i's capture: if the hunter finds it there, in any encoding it
knows, the device kept it across the reset (or across re-provisioning). That is a
finding in itself, whatever the contract allows for the value's category.
"""

from __future__ import annotations

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
    planted it again."""
    planted = [planted_for(run, base, variants).canaries for run in design.runs]
    out: list[Lingering] = []
    for found_in, capture in enumerate(captures):
        now = {c.value for c in planted[found_in]}
        earlier: dict[str, tuple[Canary, int]] = {}
        for number in range(found_in):
            for canary in planted[number]:
                if canary.value not in now:
                    earlier[canary.value] = (canary, number)
        if not earlier:
            continue
        named = {f"{c.name}#{n}": (c, n) for c, n in earlier.values()}
        hunted = tuple(Canary(key, c.value, c.category) for key, (c, _) in named.items())
        found = emissions(capture)
        for hit in hunter_for(hunted).hunt(found):
            canary, number = named[hit.canary]
            out.append(Lingering(canary.name, canary.category, number, found_in, hit.chain,
                                 canary.value, found[hit.emissions[0]]))
    return out


__all__ = ["Lingering", "lingering"]
