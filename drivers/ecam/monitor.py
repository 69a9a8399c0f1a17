"""The status frame an ECAM machine answers a monitor request (0x75) with.

    offset  field (in the whole frame, as the published captures number it)
    4       accessory present (0 none, 1 water spout, 2 milk spout, 3 chocolate
            spout, 4 milk clean dial)
    5, 6    switches that are on: bit n of byte 5 is switch n, of byte 6 switch 8+n
            (4: water tank out, 3: grounds container out, in the captures' notes)
    7, 8    active alarms, numbered the same way
    9       the function going on (0 standby, 1 turning on, 7 ready, other values
            while a beverage, rinse or cleaning runs)
    11      progress of the function, percent

Other bytes have no agreed meaning and are kept as ``rest`` (hex).
"""

from __future__ import annotations

from typing import Any

from ..errors import FrameError
from .frames import ANSWER, EcamFrame

__all__ = ["FUNCTIONS", "MONITOR", "SWITCHES", "status"]

MONITOR = 0x75
STATUS_DATA = 14  # data bytes of a status answer (frame length 0x12)
SWITCHES = {3: "grounds_container_out", 4: "water_tank_out"}
FUNCTIONS = {0: "standby", 1: "turning_on", 7: "ready"}
ACCESSORIES = {0: "none", 1: "water_spout", 2: "milk_spout", 3: "chocolate_spout",
               4: "milk_clean_dial"}


def status(frame: EcamFrame) -> dict[str, Any]:
    """The named fields of a monitor answer.

    Raises:
        FrameError: the frame is not a monitor answer of the published size.
    """
    if frame.lead != ANSWER or frame.command != MONITOR or len(frame.data) != STATUS_DATA:
        raise FrameError(f"not an ECAM status answer: {frame.command_name} with "
                         f"{len(frame.data)} data bytes")
    byte = {offset: frame.data[offset - 3] for offset in range(3, 3 + STATUS_DATA)}
    switches = _bits(byte[5], byte[6])
    function = byte[9]
    return {
        "accessory": ACCESSORIES.get(byte[4], f"accessory {byte[4]}"),
        "switches": switches,
        "switches_named": [SWITCHES[n] for n in switches if n in SWITCHES],
        "alarms": _bits(byte[7], byte[8]),
        "function": FUNCTIONS.get(function, f"function {function}"),
        "progress": byte[11],
        "rest": bytes((byte[3], byte[10], *(byte[o] for o in range(12, 17)))).hex(),
    }


def _bits(low: int, high: int) -> list[int]:
    """The numbers of the bits set: bit n of ``low`` is n, of ``high`` 8+n."""
    value = low | high << 8
    return [n for n in range(16) if value >> n & 1]
