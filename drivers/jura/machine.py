"""The Jura driver: the bench's actions as Jura service-port commands.

    identify       TY:              machine type and firmware version
    status         IC:              the input board's flags (tray, tank, ...)
    brew           FA:xx            the product button a drink is on
    read_counters  RT:0000          EEPROM words 0x00..0x0F: product and cleaning counters
    read_settings  RT:00xx          further EEPROM words (``SETTINGS_WORDS``)

Jura's service port has no provisioning, payment or order records; ``supports``
says so, and the bench's standard session skips those actions.
"""

from __future__ import annotations

from typing import Any

from ..actions import ActionDriver
from ..errors import DeviceRejected, ProtocolError
from ..machine import Identity
from .answers import parse_answer
from .connection import JuraConnection

__all__ = ["ACTIONS", "FAMILY", "PRODUCTS", "JuraMachine"]

FAMILY = "jura"
ACTIONS = frozenset({"connect", "identify", "status", "brew", "read_counters", "read_settings"})
#: Drink -> the button command that makes it (buttons 1-6 are FA:04..FA:09).
#: The layout of the buttons differs between models; this is the common six-button one.
PRODUCTS = {"espresso": "FA:04", "coffee": "FA:05", "latte": "FA:06", "cappuccino": "FA:07",
            "hot water": "FA:08", "milk foam": "FA:09"}
SETTINGS_WORDS = ("RT:0010", "RT:0020")


class JuraMachine(ActionDriver):
    """Drives one Jura machine through its service port.

    Example::

        with JuraMachine(JuraConnection(SerialTransport("/dev/ttyUSB0", baudrate=9600))) as m:
            m.brew("espresso")
    """

    family = FAMILY
    actions = ACTIONS
    connection: JuraConnection

    def __init__(self, connection: JuraConnection) -> None:
        self.connection = connection
        self.device = connection.device
        self.identity: Identity | None = None

    # connect() opens the link and sends nothing: a Jura machine needs no greeting.

    # -- actions ------------------------------------------------------------

    def identify(self) -> Identity:
        """The machine type (``EF532M V02.03``: model, then firmware version)."""
        with self.action("identify"):
            fields = self._ask("TY:", "ty")
        machine_type = str(fields.get("machine_type", ""))
        model, _, firmware = machine_type.rpartition(" ")
        self.identity = Identity("JURA", model.strip() or machine_type, "", firmware)
        return self.identity

    def status(self) -> dict[str, Any]:
        """The input board's flags as a number (``IC:``)."""
        with self.action("status"):
            fields = self._ask("IC:", "ic")
        return {"input_flags": fields.get("input_flags")}

    def brew(self, drink: str, **_options: Any) -> dict[str, Any]:
        """Press the product button ``drink`` is on; strength and size are the machine's.

        Raises:
            DeviceRejected: no button makes ``drink`` (see ``PRODUCTS``).
        """
        command = PRODUCTS.get(drink)
        if command is None:
            raise DeviceRejected(self.device, 0, "UNKNOWN_PRODUCT",
                                 f"no Jura button makes {drink!r}; known: {', '.join(PRODUCTS)}")
        with self.action("brew"):
            self._ask(command, "ok")
        return {"drink": drink, "button": command}

    def read_counters(self) -> dict[str, int]:
        """Product and cleaning counters from the EEPROM (``RT:0000``)."""
        with self.action("read_counters"):
            fields = self._ask("RT:0000", "rt")
        return {**fields.get("counters", {}), **fields.get("maintenance", {})}

    def read_settings(self) -> list[int]:
        """Further EEPROM words, as numbers."""
        words: list[int] = []
        with self.action("read_settings"):
            for command in SETTINGS_WORDS:
                words += self._ask(command, "rt").get("words", [])
        return words

    # -- internals ----------------------------------------------------------

    def _ask(self, command: str, expected: str) -> dict[str, Any]:
        answer = self.connection.command(command)
        fields = parse_answer(answer, command)
        if fields.get("answer") != expected:
            raise ProtocolError(f"{self.device}: {command} was answered {answer!r}, "
                                f"expected {expected}:...")
        return fields
