"""Canaries: unique values the bench plants while provisioning, then hunts for.

Every run gets its own tag (8 hex digits), so a value found in a capture can
only have come from this run's provisioning:

    owner         "Ada Canary-7F3A9C2E"            identity
    organisation  "Canarywerk 7F3A9C2E GmbH"       identity
    machine_name  "Lobby Espresso 7F3A9C2E"        identity
    email         "ada.7f3a9c2e@canary.example"    identity
    site          "Canary Park 7F3A9C2E"           location
    floor         "Floor 7F3A9C2E"                 location
    ssid          "canary-wlan-7F3A9C2E"           location
    card_number   a published test card number     payment

Card numbers come from the card networks' published test numbers: never a
real card. Use ``CanarySet.provisioning()`` and ``CanarySet.card()`` as the
arguments of ``CoffeeMachine.provision`` and ``CoffeeMachine.pay``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from .catalogue import IDENTITY, LOCATION, PAYMENT

#: Test card numbers the networks publish for integration testing (all Luhn-valid).
TEST_CARDS = (
    "4111111111111111", "4012888888881881", "4242424242424242", "4000056655665556",
    "5555555555554444", "5105105105105100", "2223003122003222", "378282246310005",
    "371449635398431", "6011111111111117", "6011000990139424", "3530111333300000",
    "3566002020360505",
)

_FORMS = {
    "owner": ("Ada Canary-{TAG}", IDENTITY),
    "organisation": ("Canarywerk {TAG} GmbH", IDENTITY),
    "machine_name": ("Lobby Espresso {TAG}", IDENTITY),
    "email": ("ada.{tag}@canary.example", IDENTITY),
    "site": ("Canary Park {TAG}", LOCATION),
    "floor": ("Floor {TAG}", LOCATION),
    "ssid": ("canary-wlan-{TAG}", LOCATION),
}


@dataclass(frozen=True, slots=True)
class Canary:
    """One planted value: what it is, the value, and the category it reveals."""

    name: str
    value: str
    category: str


@dataclass(frozen=True)
class CanarySet:
    """The canaries of one run."""

    tag: str
    canaries: tuple[Canary, ...]

    def __getitem__(self, name: str) -> str:
        for canary in self.canaries:
            if canary.name == name:
                return canary.value
        raise KeyError(f"no canary {name!r}; planted: {', '.join(c.name for c in self.canaries)}")

    def names(self) -> tuple[str, ...]:
        """The planted person and organisation names (for the name detector)."""
        return (self["owner"], self["organisation"])

    def provisioning(self) -> dict[str, Any]:
        """Keyword arguments for ``CoffeeMachine.provision`` that plant every canary."""
        return {"machine_name": self["machine_name"], "owner": self["owner"],
                "organisation": self["organisation"], "site": self["site"],
                "floor": self["floor"], "email": self["email"],
                "network": {"ssid": self["ssid"], "psk": f"psk-{self.tag.lower()}-not-secret"}}

    def card(self) -> dict[str, str]:
        """The ``card`` argument of ``CoffeeMachine.pay`` carrying the card canary."""
        return {"number": self["card_number"], "expiry": "12/30", "holder": "TEST CARDHOLDER"}


def plant(tag: str | None = None) -> CanarySet:
    """A fresh canary set; ``tag`` (8 hex digits) makes it reproducible.

    Raises:
        ValueError: ``tag`` is not 8 hex digits.
    """
    tag = (tag or secrets.token_hex(4)).upper()
    if len(tag) != 8 or any(c not in "0123456789ABCDEF" for c in tag):
        raise ValueError(f"canary tag {tag!r} must be 8 hex digits, e.g. 7F3A9C2E")
    canaries = [Canary(name, form.format(TAG=tag, tag=tag.lower()), category)
                for name, (form, category) in _FORMS.items()]
    pick = int.from_bytes(hashlib.sha256(tag.encode()).digest()[:4], "big") % len(TEST_CARDS)
    canaries.append(Canary("card_number", TEST_CARDS[pick], PAYMENT))
    return CanarySet(tag, tuple(canaries))
