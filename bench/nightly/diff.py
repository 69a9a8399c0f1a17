"""What changed in what a machine collects, between two inventories."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ..verify.inventory import Inventory

LOUD = frozenset({"payment", "identity"})


@dataclass(frozen=True)
class Change:
    """A field that appeared, disappeared or moved to other channels/actions."""

    kind: str  # appeared | disappeared | moved
    category: str
    field: str
    before: tuple[str, ...]  # "channel/action xN"
    after: tuple[str, ...]

    @property
    def loud(self) -> bool:
        """A new payment or identity field: the thing the bench exists to catch."""
        return self.kind != "disappeared" and self.category in LOUD


def diff(before: Inventory, after: Inventory) -> list[Change]:
    """Changes from ``before`` to ``after``, loud ones first, then by category and field."""
    old, new = _places(before), _places(after)
    changes = []
    for key in sorted(set(old) | set(new)):
        was, now = old.get(key, {}), new.get(key, {})
        if was and not now:
            kind = "disappeared"
        elif now and not was:
            kind = "appeared"
        elif set(was) != set(now):
            kind = "moved"
        else:
            continue
        changes.append(Change(kind, key[0], key[1], _describe(was), _describe(now)))
    return sorted(changes, key=lambda c: (not c.loud, c.kind, c.category, c.field))


def merge(inventories: Iterable[Inventory]) -> Inventory:
    total: Inventory = Counter()
    for inventory in inventories:
        total.update(inventory)
    return total


def categories(inventory: Inventory) -> set[str]:
    return {item.category for item in inventory}


def _places(inventory: Inventory) -> dict[tuple[str, str], dict[tuple[str, str], int]]:
    places: dict[tuple[str, str], dict[tuple[str, str], int]] = defaultdict(dict)
    for item, count in inventory.items():
        places[(item.category, item.field)][(item.channel, item.action)] = count
    return places


def _describe(places: dict[tuple[str, str], int]) -> tuple[str, ...]:
    return tuple(f"{channel}/{action} x{count}" for (channel, action), count in sorted(places.items()))
