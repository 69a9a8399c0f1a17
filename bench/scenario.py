"""The standard bench session: every action a machine supports, in the order a
customer and an installer would cause them. ``brewbench run`` drives it.

Machines of every family run it: a step whose action the machine's family does
not have (a Jura service port takes no payment) is left out by ``steps_for``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..drivers.actions import UNKNOWN_PRODUCT
from ..drivers.errors import DeviceRejected
from ..drivers.messages import ErrorCode

# A card number from the card networks' published test ranges: never a real card.
TEST_CARD = {"number": "4111111111111111", "expiry": "12/30", "holder": "TEST CARDHOLDER"}
# The IBAN standard's own example account: never a real one.
TEST_ROUTING = "DE89370400440532013000"


@dataclass(frozen=True)
class Step:
    action: str
    run: Callable[[Any], Any]  # takes the family's driver (bench.devices.BenchDevice.machine)


def standard_steps(provisioning: dict[str, Any] | None = None,
                   card: dict[str, str] | None = None, spoken: bytes | None = None) -> list[Step]:
    """The steps of a standard session; ``provisioning`` and ``card`` override the
    installer's values and the test card (pass a canary set's to hunt for them).
    With ``spoken`` (a WAV clip, bench.speech) the owner also orders aloud, before the
    sync that would carry what a listening machine kept of it."""
    paid_with = card or TEST_CARD
    values: dict[str, Any] = {
        "machine_name": "Lobby Espresso", "owner": "Bench Owner", "organisation": "Bench Lab",
        "site": "Bench Site", "floor": "Floor 3",
        "network": {"ssid": "bench-lab", "psk": "not-a-secret"},
    }
    values.update(provisioning or {})
    return [
        Step("status", lambda m: m.status()),
        Step("provision", lambda m: m.provision(**values)),
        Step("brew", lambda m: _brew(m, "latte", strength=4, size_ml=250, milk="oat")),
        Step("pay", lambda m: m.pay("card", 350, card=paid_with, routing=TEST_ROUTING)),
        Step("brew", lambda m: _brew(m, "espresso", strength=5, size_ml=40)),
        Step("pay", lambda m: m.pay("cash", 220)),
        *([Step("voice_order", lambda m: _order_aloud(m, spoken))] if spoken else []),
        Step("sync", lambda m: m.sync()),
        Step("read_logs", lambda m: m.read_logs()),
        Step("read_counters", lambda m: m.read_counters()),
        Step("read_settings", lambda m: m.read_settings()),
        Step("reset", lambda m: m.reset("soft")),
    ]


def _brew(machine: Any, drink: str, **options: Any) -> Any:
    """A machine with no button for ``drink`` (a Jura model's layout, an ECAM recipe
    list) refuses it before sending anything: an answer about the model, not a failure,
    and never another drink. The refusal is kept in the capture by the driver."""
    try:
        return machine.brew(drink, **options)
    except DeviceRejected as refused:
        if refused.name != UNKNOWN_PRODUCT:
            raise
        return {"drink": drink, "refused": refused.detail}


def _order_aloud(machine: Any, clip: bytes) -> Any:
    """A machine without a listening firmware refuses the order: that is an answer, not a
    failure (the capture keeps the refusal)."""
    try:
        return machine.voice_order(clip)
    except DeviceRejected as refused:
        if refused.code != ErrorCode.UNKNOWN_TYPE:
            raise
        return None


def steps_for(machine: Any, steps: list[Step]) -> list[Step]:
    """The steps whose action ``machine`` supports (``machine.supports(action)``)."""
    return [step for step in steps if machine.supports(step.action)]
