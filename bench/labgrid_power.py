"""A machine's power, switched through its labgrid place, each switch an action in the capture.

    power = PlacePower(place, device.machine)
    power.off()     # capture: action power.off; the machine goes dark
    power.on()      # capture: action power.on; it boots again

The switching is labgrid's: ``labgrid-client power`` drives the place's power port with
labgrid's power driver (a ``NetworkPowerPort`` of any model labgrid knows, a USB hub port,
a PDU...). A machine that lost power also lost the session the bench had with it:
reconnect (``machine.close(); machine.connect()``) after ``on()``.
"""

from __future__ import annotations

import time
from typing import Any

from .labgrid_place import Place

__all__ = ["OFF", "ON", "PlacePower"]

OFF, ON = "power.off", "power.on"  # the capture's action names


class PlacePower:
    """Power of the machine at ``place``; ``machine`` is its driver (any family)."""

    def __init__(self, place: Place, machine: Any) -> None:
        self.place, self.machine = place, machine

    def off(self) -> None:
        """Switch the machine off (recorded as action ``power.off``)."""
        with self.machine.action(OFF):
            self.place.power(False)

    def on(self) -> None:
        """Switch the machine on (recorded as action ``power.on``)."""
        with self.machine.action(ON):
            self.place.power(True)

    def cycle(self, off_s: float = 1.0) -> None:
        """Off, ``off_s`` seconds dark, on."""
        self.off()
        time.sleep(off_s)
        self.on()
