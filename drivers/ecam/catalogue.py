"""Which data category each detail of a decoded ECAM frame carries (emission paths, as
``bench.verify.emissions`` names the details of link-level records on channel ``ble``).

``data`` is not listed: besides states it carries profile names and recipes, so it
stays ``unknown`` unless a detector or a planted canary explains it.
"""

from __future__ import annotations

__all__ = ["CATALOGUE"]

_ROOT = "link.ble"

CATALOGUE: dict[str, tuple[str, ...]] = {
    f"{_ROOT}.family": ("device",),
    f"{_ROOT}.command": ("device",),
    f"{_ROOT}.status.*": ("device",),
}
