"""What each Jura model's service port means, as the public record shows it.

Product buttons (``FA:xx``), EEPROM counter words and input-board flags differ
between models, and nothing on the wire says which layout a machine has except
its ``TY:`` answer. Every entry below names the public source it was read from;
a model the record does not cover has no entry, so the bench never guesses a
button (``drivers/jura/choice.py`` picks one of these from a ``TY:`` answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DRINK_ALIASES", "MODELS", "InputFlag", "JuraModel", "model_named"]


@dataclass(frozen=True)
class InputFlag:
    """One named bit of the first byte of an ``IC:`` answer."""

    name: str
    bit: int
    when_set: bool  # the flag is true when the bit is 1 (False: when it is 0)

    def read(self, first_byte: int) -> bool:
        return bool(first_byte >> self.bit & 1) == self.when_set


@dataclass(frozen=True)
class JuraModel:
    """One documented layout of a Jura service port."""

    name: str
    #: model tokens of ``TY:`` answers public captures show for it (``EF532M``)
    types: tuple[str, ...]
    #: drink -> the ``FA:`` button that makes it
    products: Mapping[str, str]
    #: EEPROM word -> the product it counts
    counters: Mapping[int, str] = field(default_factory=dict)
    #: EEPROM word -> the care it counts (cleanings, descalings...)
    maintenance: Mapping[int, str] = field(default_factory=dict)
    inputs: tuple[InputFlag, ...] = ()
    source: str = ""


_SKYFOX = "SkyFox277/esphome-jura docs/jura-protocol.md"
_TRAY_TANK_BITS_4_5 = (InputFlag("tray_missing", 4, True), InputFlag("tank_empty", 5, True))

MODELS: tuple[JuraModel, ...] = (
    JuraModel(
        "E6", ("EF532M",),
        {"espresso": "FA:04", "ristretto": "FA:05", "hot water": "FA:06",
         "cappuccino": "FA:07", "coffee": "FA:09"},
        inputs=(InputFlag("tray_missing", 0, True), InputFlag("tank_empty", 1, True)),
        source=f"{_SKYFOX} (Products by model: E6 / E8; Known TY: responses; IC: layout B)"),
    JuraModel(
        "F50", ("EF532M",),
        {"rinse": "FA:02", "coffee": "FA:06", "double coffee": "FA:07"},
        {0: "coffee_mild", 1: "coffee_normal", 2: "coffee_strong", 3: "double_coffee"},
        {7: "rinses", 8: "cleanings", 9: "descalings"},
        (InputFlag("tank_empty", 3, False), InputFlag("tray_missing", 4, False)),
        f"{_SKYFOX} (Products by model: F50; EEPROM word map; IC: layout A)"),
    JuraModel(
        "F7", (),
        {"espresso": "FA:04", "double espresso": "FA:05", "coffee": "FA:06",
         "double coffee": "FA:07", "hot water": "FA:08", "steam": "FA:09", "rinse": "FA:0B"},
        {0: "espresso", 1: "double_espresso", 2: "coffee", 3: "double_coffee",
         4: "ristretto", 5: "cappuccino", 6: "double_ristretto"},
        {7: "brew_unit_movements", 8: "cleanings", 9: "descalings", 14: "grounds"},
        (InputFlag("tray_missing", 4, False), InputFlag("tank_empty", 5, True)),
        f"{_SKYFOX} (Products by model: F7 / S95); counters and IC: bits from "
        "alextrical/Jura-F7-ESPHOME jura_coffee.h"),
    JuraModel(
        "J6", ("PIM",),
        {"hot water": "FA:06", "espresso": "FA:07", "double espresso": "FA:08",
         "coffee": "FA:09", "double coffee": "FA:0A"},
        {0: "espresso", 1: "double_espresso", 2: "coffee", 3: "double_coffee"},
        {8: "cleanings"},
        _TRAY_TANK_BITS_4_5,
        "ryanalden/esphome-jura-component README.md (commands, TY: PIM V01.01) and "
        "jura_coffee.h (RT:0000 offsets, IC: bits)"),
    JuraModel(
        "J9.3", (),
        {"espresso": "FA:03", "coffee": "FA:04", "ristretto": "FA:05", "cappuccino": "FA:06",
         "latte macchiato": "FA:07", "hot water": "FA:08"},
        {0: "espresso", 1: "ristretto", 2: "coffee", 3: "double_coffee", 4: "cappuccino",
         5: "latte_macchiato", 6: "powder_coffee", 12: "double_ristretto",
         14: "double_espresso"},
        {8: "cleanings", 9: "descalings"},
        _TRAY_TANK_BITS_4_5,
        "pvtex/esphome-jura-j9 README.md (commands, RT response table) and jura_coffee.h"),
    JuraModel(
        "Xs90", ("EF516M",),
        {"espresso": "FA:03", "double espresso": "FA:04", "coffee": "FA:05",
         "double coffee": "FA:06", "powder coffee": "FA:08", "cappuccino": "FA:09",
         "latte macchiato": "FA:0A", "hot water": "FA:0C", "milk": "FA:0E"},
        {0: "espresso", 1: "a_la_carte", 2: "coffee", 4: "cappuccino", 5: "latte_macchiato",
         6: "powder_coffee", 19: "milk", 20: "hot_water"},
        {8: "cleanings", 17: "milk_system_cleanings", 34: "filters"},
        source="PromyLOPh/juramote juramote/com.py (ImpressaXs90Buttons, ImpressaXs90Eeprom) "
               "and README.rst (TY: EF516M V01.25)"),
    JuraModel(
        "X7", (),
        {**{f"product {n}": f"FA:0{n}" for n in range(1, 8)},
         "hot water": "FA:08", "steam": "FA:09", "rinse": "FA:0B"},
        source="protocoljura wiki, Commands for coffeemaker (IMPRESSA X7 / Franke Saphira)"),
)

#: names the bench's own scenarios use for a drink a layout names otherwise
DRINK_ALIASES = {"latte": "latte macchiato", "flushing": "rinse"}
#: models the same sources list in one column with another
_SAME_LAYOUT = {"e8": "E6", "e65": "E6", "s95": "F7", "saphira": "X7"}


def model_named(name: str) -> JuraModel | None:
    """The documented model called ``name`` (any case, ``E8`` is the E6's layout), or None."""
    wanted = _SAME_LAYOUT.get(name.strip().lower(), name.strip())
    for model in MODELS:
        if model.name.lower() == wanted.lower():
            return model
    return None
