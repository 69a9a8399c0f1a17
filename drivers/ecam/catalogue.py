"""Which data category each detail of a decoded ECAM frame carries (emission paths, as
``bench.verify.emissions`` names the details of link-level records on channel ``ble``).

``data`` is not listed: besides states it carries profile names and recipes, so it
stays ``unknown`` unless a detector or a planted canary explains it. Profile names
are what people call themselves (identity); counters and brews are product data.
"""

from __future__ import annotations

from .recipes import MAINTENANCE

__all__ = ["CATALOGUE"]

_ROOT = "link.ble"

CATALOGUE: dict[str, tuple[str, ...]] = {
    f"{_ROOT}.family": ("device",),
    f"{_ROOT}.command": ("device",),
    f"{_ROOT}.status.*": ("device",),
    f"{_ROOT}.profiles[].name": ("identity",),
    f"{_ROOT}.profiles[].id": ("device",),
    f"{_ROOT}.profiles[].icon": ("device",),
    # what the machine counts of its own upkeep is not what anyone drank (the first
    # matching glob counts, so these come before the other counters')
    **{f"{_ROOT}.statistics.{ident}": ("device",) for ident in sorted(MAINTENANCE)},
    f"{_ROOT}.statistics.*": ("product",),
    f"{_ROOT}.brew.*": ("product",),
}
