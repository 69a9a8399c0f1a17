"""A capture's inventory: which fields the device emitted, of which data category,
on which channel, in which action (classified by bench.classify)."""

from __future__ import annotations

from ..capture import Capture
from ..verify.classify import classify
from ..verify.emissions import emissions
from ..verify.inventory import Inventory, count_collected


def inventory_of(capture: Capture) -> Inventory:
    """Count every field of every message the device emitted, once per category it reveals."""
    return count_collected(classify(emissions(capture)))
