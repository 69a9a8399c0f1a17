"""The ECAM driver: the bench's actions as De'Longhi ECAM frames over Bluetooth LE.

    identify       GATT reads on connecting (device name, Device Information if
                   any) and the profile names (0xA4), kept in ``profiles``; the
                   serial number is Device Information's, else the device name
                   (ECAM machines call themselves D and a number)
    status         0x75 monitor: the status answer's named fields
    brew           0x83 start a recipe with its quantities (drivers.ecam.recipes), in the
                   app's parameter order, for the selected profile (0xA9, ``select_profile``)
    provision      0xA5 the profile names: the owner and the machine's name go to
                   profiles 1 and 2 (names a household or office gives its profiles)
    read_counters  0xA2 statistics: the published totals and a counter per recipe
    read_settings  0xA4 profile names, 0x95 settings, 0xA6 each profile's recipes

ECAM machines take no payment, keep no order records or logs and have no remote
reset; ``supports`` says so, and the standard session leaves those steps out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..actions import UNKNOWN_PRODUCT, ActionDriver
from ..errors import DeviceRejected, UnexpectedAnswer
from ..machine import Identity
from .commands import (
    BREW,
    F0,
    NAME_CHARS,
    OF,
    PARAMETERS,
    PROFILES,
    READ_RECIPE,
    READ_SETTING,
    SELECT_PROFILE,
    SET_PROFILE_NAME,
    STATISTICS,
    brew_request,
    name_bytes,
    parameter_read,
    parse_brew,
    parse_parameters,
    parse_profiles,
    parse_statistics,
    statistics_requests,
)
from .connection import EcamConnection
from .frames import EcamFrame
from .monitor import MONITOR, status
from .recipes import (
    COFFEE,
    DRINKS,
    FIXED_VALUES,
    MILK,
    RECIPE_COUNTER_BASE,
    RECIPES,
    TASTE,
    WATER,
    Recipe,
    counter_name,
)

__all__ = ["ACTIONS", "FAMILY", "PROFILE_COUNT", "SETTINGS", "EcamMachine"]

FAMILY = "ecam"
ACTIONS = frozenset({"connect", "identify", "status", "brew", "provision", "read_counters",
                     "read_settings"})
PROFILE_COUNT = 4  # three named profiles and the guest, on the machines documented
#: setting parameters written with 0x90 in the public projects
SETTINGS = {0x32: "water_hardness", 0x3D: "water_temperature", 0x3E: "auto_off",
            0x3F: "switches"}
#: (first parameter, count) of the counters read_counters reads (ten a request at most)
COUNTER_RANGES = ((100, 16), (3000, 4), (3077, 4),
                  (RECIPE_COUNTER_BASE + 1, max(r.number for r in RECIPES)))
MANUFACTURER = "De'Longhi"


class EcamMachine(ActionDriver):
    """Drives one ECAM machine over its vendor GATT characteristic.

    Example::

        with EcamMachine(EcamConnection(transport_for(parse_spec(
                "ble://name=D1538752?family=ecam")))) as m:
            m.brew("espresso")
    """

    family = FAMILY
    actions = ACTIONS
    connection: EcamConnection

    def __init__(self, connection: EcamConnection) -> None:
        self.connection = connection
        self.device = connection.device
        self.identity: Identity | None = None
        self.profiles: list[dict[str, Any]] = []
        self.profile = 1  # the profile brews are made for (select_profile changes it)

    # -- actions ------------------------------------------------------------

    def identify(self) -> Identity:
        """Who the machine says it is (GATT reads) and its profile names."""
        info: dict[str, str] = dict(getattr(self.connection.transport, "device_information", {}))
        with self.action("identify"):
            self.profiles = self._profiles()
        self.identity = Identity(info.get("manufacturer") or MANUFACTURER,
                                 info.get("model") or info.get("device_name") or "ECAM",
                                 info.get("serial") or info.get("device_name", ""),
                                 info.get("firmware") or "unknown")
        return self.identity

    def status(self) -> dict[str, Any]:
        """The monitor answer's fields; ``state`` is the function going on."""
        with self.action("status"):
            fields = status(self._ask(MONITOR, bytes((OF,))))
        return {"state": fields["function"], **fields}

    def brew(self, drink: str, strength: int = 3, size_ml: int | None = None,
             milk: str | None = None, **_options: Any) -> dict[str, Any]:
        """Start the recipe that makes ``drink``; ``size_ml`` sets its main quantity.

        Raises:
            DeviceRejected: no recipe makes ``drink``, or the machine refused it.
        """
        recipe = DRINKS.get(drink)
        if recipe is None:
            raise DeviceRejected(self.device, 0, UNKNOWN_PRODUCT,
                                 f"no ECAM recipe makes {drink!r}; known: {', '.join(DRINKS)}")
        values = _quantities(recipe, max(0, min(strength, 5)), size_ml)
        request = brew_request(recipe.number, values, profile=self.profile)
        with self.action("brew"):
            answer = parse_brew(self._ask(BREW, request).data)
        if answer.get("result", 0) != 0:
            raise DeviceRejected(self.device, int(answer["result"]), "BREW_REFUSED",
                                 f"the machine refused {drink!r} (recipe {recipe.number})")
        return {"drink": drink, "recipe": recipe.number, "milk": milk, "profile": self.profile,
                "quantities": {PARAMETERS.get(k, f"p{k}"): v for k, v in values.items()}}

    def provision(self, machine_name: str, owner: str, organisation: str, site: str = "",
                  floor: str = "", **_details: Any) -> dict[str, Any]:
        """Name the profiles as a household or office would: 1 the owner, 2 the machine.
        The organisation, place and network have nowhere to go on an ECAM machine.

        A name longer than the machine's ten characters keeps its last ten, where the
        bench's planted values carry their run tag (an app would keep the first ten).
        """
        with self.action("provision"):
            for number, name in enumerate((owner, machine_name), 1):
                self.write_profile(number, name)
            self.profiles = self._profiles()
        return {"ok": True, "profiles": self.profiles}

    def write_profile(self, number: int, name: str, icon: int = 0) -> None:
        """Store ``name`` (at most ten characters kept) in profile ``number``.

        Raises:
            DeviceRejected: the machine refused the name.
        """
        data = bytes((F0, number)) + name_bytes(name[-NAME_CHARS:]) + bytes((icon,))
        answer = self._ask(SET_PROFILE_NAME, data)
        if answer.data[-1:] != b"\0":
            raise DeviceRejected(self.device, answer.data[-1] if answer.data else 0,
                                 "PROFILE_REFUSED", f"profile {number} kept its old name")

    def select_profile(self, number: int) -> None:
        """Make ``number`` the profile brews are made for (0xA9, as the app does).

        Raises:
            DeviceRejected: the machine did not take it (the guest profile answers 1).
        """
        answer = self._ask(SELECT_PROFILE, bytes((F0, number))).data
        if answer[-1:] != b"\0":
            raise DeviceRejected(self.device, answer[-1] if answer else 0, "PROFILE_REFUSED",
                                 f"profile {number} was not selected")
        self.profile = number

    def read_counters(self) -> dict[str, int]:
        """Beverage and maintenance counters by name (statistics, 0xA2)."""
        values: dict[int, int] = {}
        with self.action("read_counters"):
            for first, count in COUNTER_RANGES:
                for request in statistics_requests(first, count):
                    values.update(parse_statistics(self._ask(STATISTICS, request).data))
        named = {counter_name(ident): value for ident, value in values.items()}
        return {name: value for name, value in named.items() if not name.startswith("stat_")}

    def read_settings(self) -> dict[str, Any]:
        """Profile names, settings and every profile's recipe quantities."""
        with self.action("read_settings"):
            self.profiles = self._profiles()
            settings = {name: self._setting(ident) for ident, name in SETTINGS.items()}
            recipes = {str(p["id"]): self._recipes(p["id"], RECIPES[:4]) for p in self.profiles}
        return {"profiles": self.profiles, "settings": settings, "recipes": recipes}

    # -- internals ----------------------------------------------------------

    def _profiles(self) -> list[dict[str, Any]]:
        return parse_profiles(self._ask(PROFILES, bytes((F0, 1, PROFILE_COUNT))).data)

    def _setting(self, ident: int) -> int:
        answer = self._ask(READ_SETTING, parameter_read(ident)).data
        if len(answer) != 7:
            raise UnexpectedAnswer(self.device, f"setting {ident:#04x} was answered "
                                f"{answer.hex()}, expected 0f, the id and 4 value bytes")
        return int.from_bytes(answer[3:], "big")

    def _recipes(self, profile: int, recipes: Iterable[Recipe]) -> dict[str, dict[int, int]]:
        out = {}
        for recipe in recipes:
            answer = self._ask(READ_RECIPE, bytes((F0, profile, recipe.number))).data
            out[recipe.name] = parse_parameters(answer[3:])
        return out

    def _ask(self, command: int, data: bytes) -> EcamFrame:
        return self.connection.request(command, data)


def _quantities(recipe: Recipe, strength: int, size_ml: int | None) -> dict[int, int]:
    """The brew parameters of ``recipe`` in the app's order: its quantities, ``size_ml``
    replacing the main one, the parameters the app always sends at their fixed values."""
    known = {COFFEE: recipe.coffee_ml, TASTE: strength, MILK: recipe.milk,
             WATER: recipe.water_ml}
    if size_ml is not None:
        if recipe.milk:
            known[MILK] = max(size_ml - recipe.coffee_ml, 0)
        elif recipe.water_ml:
            known[WATER] = size_ml
        else:
            known[COFFEE] = size_ml
    return {ident: known[ident] if ident in known else FIXED_VALUES.get(ident, 0)
            for ident in recipe.parameters}
