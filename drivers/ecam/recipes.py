"""Beverages, their default quantities, and the machine's counters, by number.

Recipe numbers and default quantities are those of the vendor app's machine list
(published with Arbuzov/home_assistant_delonghi_primadonna, ``MachinesModels.json``,
e.g. the Dinamica Plus): 1 espresso 40 ml, 7 cappuccino 80 ml coffee and 160 of
milk, 16 hot water... The brew frames published with cafy and that project use
the same numbers.

``parameters`` is the order the vendor app writes a recipe's parameters in, read
from the published brew frames (manekinekko/cafy commands.ts and README,
Arbuzov/home_assistant_delonghi_primadonna const.py): 1 coffee, 2 taste, 8 double
shot, 15 water, 0 temperature, 9 milk, 28 accessory. Frames for milk drinks were not
published; their order (coffee, taste, milk, temperature) is assumed.

Counters are statistics parameters. Those whose meaning was published (that
project's ``DEBUG_NOTES.md``) are named after it; a counter per recipe is the
bench's assumption (``RECIPE_COUNTER_BASE + recipe``), since public notes list only
totals: check it against a real machine before trusting per-drink counts.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COUNTERS", "DRINKS", "FIXED_VALUES", "RECIPES", "RECIPE_COUNTER_BASE", "Recipe",
           "counter_name"]


COFFEE, TASTE, TEMPERATURE, DOUBLE_SHOT, MILK, WATER, ACCESSORY = 1, 2, 0, 8, 9, 15, 28
_BLACK = (COFFEE, TASTE, TEMPERATURE)
_WHITE = (COFFEE, TASTE, MILK, TEMPERATURE)  # assumed: no milk drink's frame is published
_TAP = (ACCESSORY,)


@dataclass(frozen=True, slots=True)
class Recipe:
    """A beverage: its number, default quantities (ml; 0: not part of it) and the
    parameters its brew frame carries, in the app's order."""

    number: int
    name: str
    coffee_ml: int = 0
    milk: int = 0
    water_ml: int = 0
    parameters: tuple[int, ...] = _BLACK


RECIPES: tuple[Recipe, ...] = (
    Recipe(1, "espresso", 40, parameters=(COFFEE, TASTE, DOUBLE_SHOT, TEMPERATURE)),
    Recipe(2, "coffee", 180), Recipe(3, "long coffee", 160),
    Recipe(4, "2x espresso", 80), Recipe(5, "doppio+", 120, parameters=(COFFEE, TEMPERATURE)),
    Recipe(6, "americano", 40, 0, 110, parameters=(COFFEE, TASTE, WATER, TEMPERATURE)),
    Recipe(7, "cappuccino", 80, 160, parameters=_WHITE),
    Recipe(8, "latte macchiato", 60, 190, parameters=_WHITE),
    Recipe(9, "caffelatte", 60, 450, parameters=_WHITE),
    Recipe(10, "flat white", 60, 430, parameters=_WHITE),
    Recipe(11, "espresso macchiato", 40, 40, parameters=_WHITE),
    Recipe(12, "hot milk", 0, 250, parameters=(MILK, *_TAP)),
    Recipe(13, "cappuccino doppio+", 120, 160, parameters=_WHITE),
    Recipe(15, "cappuccino reverse", 80, 160, parameters=_WHITE),
    Recipe(16, "hot water", 0, 0, 250, parameters=(WATER, *_TAP)),
    Recipe(17, "steam", 0, 900, parameters=(MILK, *_TAP)),
)
#: what a parameter the app always sends is set to when the bench has no value for it
#: (the published frames: temperature 0, single shot, the spout's accessory 1)
FIXED_VALUES = {TEMPERATURE: 0, DOUBLE_SHOT: 0, ACCESSORY: 1}
#: drink name (as the bench's sessions say it) -> recipe; "latte" is the caffelatte
DRINKS: dict[str, Recipe] = {r.name: r for r in RECIPES} | {"latte": RECIPES[8]}

#: statistics parameters whose meaning was published
COUNTERS: dict[int, str] = {
    105: "descalings", 106: "water_dispensed", 108: "filter_replacements",
    115: "milk_cleanings", 3000: "black_coffee", 3001: "coffee_with_milk",
    3003: "coffee_with_milk_2", 3077: "black_coffee_2", 3078: "beverages_2",
    3080: "beverages",
}
#: maintenance counters among them (device data, not what was drunk)
MAINTENANCE = frozenset({105, 106, 108, 115})
RECIPE_COUNTER_BASE = 1000  # assumed: see the module's doc


def counter_name(ident: int) -> str:
    """The name of statistics parameter ``ident`` (``stat_<id>`` when unknown)."""
    if ident in COUNTERS:
        return COUNTERS[ident]
    for recipe in RECIPES:
        if ident == RECIPE_COUNTER_BASE + recipe.number:
            return recipe.name
    return f"stat_{ident}"
