"""A capture's inventory: which fields the device emitted, of which data category,
on which channel, in which action (classified by bench.classify)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..capture import Capture
from ..verify.classify import classify
from ..verify.emissions import emissions
from ..verify.inventory import Inventory, count_collected
from ..verify.residency import destinations


def inventory_of(capture: Capture) -> Inventory:
    """Count every field of every message the device emitted, once per category it reveals."""
    return count_collected(classify(emissions(capture)))


def destinations_of(captures: Iterable[Capture]) -> dict[str, Counter[str]]:
    """Per category, the uplink hosts that received it across ``captures``, with counts."""
    out: dict[str, Counter[str]] = {}
    for capture in captures:
        for category, hosts in destinations(capture, classify(emissions(capture))).items():
            out.setdefault(category, Counter()).update(hosts)
    return out


def voice_of(captures: Iterable[Capture]) -> list[dict[str, Any]]:
    """The clips the bench heard in ``captures`` (``meta["voice"]``, bench.results.keep)."""
    return [dict(clip) for capture in captures for clip in capture.meta.get("voice", [])
            if isinstance(clip, dict)]
