"""A capture's inventory: which fields the device emitted, on which channel, in which action."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..capture import Capture
from .diff import Collected, Inventory


def inventory_of(capture: Capture) -> Inventory:
    """Count every field of every message the device emitted."""
    inventory: Inventory = Counter()
    for entry in capture.entries:
        record = entry.record
        if record.direction != "rx":
            continue
        if record.message is None:
            inventory[Collected("unknown", "unknown.frame", record.channel, entry.action)] += 1
            continue
        for path in _paths(record.message.type_name, record.message.body):
            inventory[Collected("unknown", path, record.channel, entry.action)] += 1
    return inventory


def _paths(prefix: str, value: Any) -> list[str]:
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _paths(f"{prefix}.{key}", item)]
    if isinstance(value, list):
        return [p for item in value for p in _paths(f"{prefix}[]", item)] or [f"{prefix}[]"]
    return [prefix]
