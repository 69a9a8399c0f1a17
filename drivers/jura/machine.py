"""The Jura driver: the bench's actions as Jura service-port commands.

    identify       TY:              machine type and firmware version; picks the layout
    status         IC:              the input board's flags, named per model
    brew           FA:xx            the product button a drink is on, per model
    read_counters  RT:0000          EEPROM words 0x00..0x0F, named per model
    read_settings  RT:00xx          further EEPROM words (``SETTINGS_WORDS``)

Buttons, counter words and input flags differ between models (``models``); the
layout comes from the ``TY:`` answer or the spec's ``model=`` (``choice``), and a
drink the layout does not prove is refused before anything is sent.
Jura's service port has no provisioning, payment or order records; ``supports``
says so, and the bench's standard session skips those actions.
"""

from __future__ import annotations

from typing import Any

from ..actions import UNKNOWN_PRODUCT, ActionDriver
from ..errors import DeviceRejected, UnexpectedAnswer, shown
from ..machine import Identity
from ..records import NOTE_KEY, RX, Record, Stamp
from .answers import parse_answer
from .catalogue import CHANNEL
from .choice import Layout, choose, split_type
from .connection import JuraConnection
from .models import DRINK_ALIASES

__all__ = ["ACTIONS", "FAMILY", "JuraMachine"]

FAMILY = "jura"
ACTIONS = frozenset({"connect", "identify", "status", "brew", "read_counters", "read_settings"})
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

    def __init__(self, connection: JuraConnection, model: str | None = None) -> None:
        """``model`` is the spec's ``model=``: which documented layout the machine has
        when its ``TY:`` answer does not say (``models.MODELS``)."""
        self.connection = connection
        self.device = connection.device
        self.model = model
        self.identity: Identity | None = None
        self.layout: Layout | None = None

    # connect() opens the link and sends nothing: a Jura machine needs no greeting.

    # -- actions ------------------------------------------------------------

    def identify(self) -> Identity:
        """The machine type (``EF532M V02.03``: model, then firmware version)."""
        with self.action("identify"):
            fields = self._ask("TY:", "ty")
        machine_type = str(fields.get("machine_type", ""))
        model, firmware = split_type(machine_type)
        self.identity = Identity("JURA", model or machine_type, "", firmware)
        try:
            self.layout = self.connection.layout = choose(machine_type, self.model)
        except ValueError as exc:
            raise UnexpectedAnswer(self.device, str(exc)) from exc
        return self.identity

    @property
    def products(self) -> dict[str, str]:
        """Drink -> button, as far as the layout proves (empty until ``identify``)."""
        return dict(self.layout.products) if self.layout is not None else {}

    def status(self) -> dict[str, Any]:
        """The input board's flags as a number (``IC:``)."""
        self._layout()
        with self.action("status"):
            fields = self._ask("IC:", "ic")
        return {"input_flags": fields.get("input_flags"), **fields.get("inputs", {})}

    def brew(self, drink: str, **_options: Any) -> dict[str, Any]:
        """Press the product button ``drink`` is on; strength and size are the machine's.

        Raises:
            DeviceRejected: no button the layout proves makes ``drink``; nothing was sent.
        """
        layout = self._layout()
        product = DRINK_ALIASES.get(drink, drink)
        command = layout.products.get(drink) or layout.products.get(product)
        if command is None:
            refusal = _refusal(drink, layout)
            with self.action("brew"):  # the capture keeps the refusal: nothing was sent
                self.connection.note(Record(CHANNEL, RX, Stamp.now(), b"", meta={
                    NOTE_KEY: "jura.product_refused", "drink": drink, "why": refusal}))
                raise DeviceRejected(self.device, 0, UNKNOWN_PRODUCT, refusal)
        with self.action("brew"):
            self._ask(command, "ok")
        return {"drink": drink, "button": command, "model": layout.model}

    def read_counters(self) -> dict[str, int]:
        """Product and cleaning counters from the EEPROM (``RT:0000``)."""
        self._layout()
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

    def _layout(self) -> Layout:
        if self.layout is None:
            self.identify()
        assert self.layout is not None  # identify sets it or raises
        return self.layout

    def _ask(self, command: str, expected: str) -> dict[str, Any]:
        answer = self.connection.command(command)
        fields = parse_answer(answer, command, self.layout)
        if fields.get("answer") != expected:
            raise UnexpectedAnswer(self.device, f"{command} was answered {shown(answer, 80)}, "
                                f"expected {expected}:...")
        return fields


def _refusal(drink: str, layout: Layout) -> str:
    """One line: why no button was pressed, and what this machine does make."""
    model = f"a Jura {layout.model}" if layout.model else "this Jura machine"
    makes = ", ".join(layout.products) or "nothing the bench can prove"
    why = f" ({layout.caveat})" if layout.caveat else ""
    return f"no button makes {drink!r} on {model}, so nothing was sent; it makes: {makes}{why}"
