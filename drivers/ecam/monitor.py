"""The status frame an ECAM machine answers a monitor request (0x75) with.

    offset  field (in the whole frame, as the published captures number it)
    4       accessory present (0 none, 1 water spout, 2 milk spout, 3 chocolate
            spout, 4 milk clean dial)
    5, 6    switches that are on: bit n of byte 5 is switch n, of byte 6 switch 8+n
            (4: water tank out, 3: grounds container out, in the captures' notes)
    7, 8    active alarms 0-15, numbered the same way
    9       the function going on (0 standby, 1 turning on, 7 ready or dispensing,
            other values while a rinse or cleaning runs)
    10      the step of a beverage under way: 0 when none is (so 7 with a step is
            "dispensing", not "ready": START_COFFEE in Arbuzov/home_assistant_delonghi_primadonna
            const.py is 07 04; mmastrac/longshot calls the state ReadyOrDispensing)
    11      progress of the function, percent
    12, 13  active alarms 16-31 (sk7n4k3d/delonghi-ha api.py reads the alarm word from
            bytes 7, 8, 12 and 13; its const.py ALARMS names bits 0-18)

Other bytes have no agreed meaning and are kept as ``rest`` (hex).
"""

from __future__ import annotations

from typing import Any

from ..errors import FrameError
from .frames import ANSWER, EcamFrame

__all__ = ["ALARMS", "FUNCTIONS", "MONITOR", "SWITCHES", "status"]

MONITOR = 0x75
STATUS_DATA = 14  # data bytes of a status answer (frame length 0x12)
SWITCHES = {3: "grounds_container_out", 4: "water_tank_out"}
FUNCTIONS = {0: "standby", 1: "turning_on", 7: "ready"}
READY, DISPENSING = 7, "dispensing"
#: alarm bits as sk7n4k3d/delonghi-ha const.py names them
ALARMS = {0: "water_tank_empty", 1: "grounds_container_full", 2: "descale_needed",
          3: "replace_water_filter", 4: "ground_too_fine", 5: "beans_empty",
          6: "service_required", 7: "heater_probe_failure", 8: "too_much_coffee",
          9: "infuser_motor_failure", 10: "steamer_probe_failure", 11: "drip_tray_missing",
          12: "hydraulic_problem", 13: "water_tank_missing", 14: "clean_milk_knob",
          15: "beans_empty_2", 16: "cleaning_needed", 17: "bean_hopper_absent",
          18: "grid_missing"}
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
    alarms = _bits(byte[7], byte[8], byte[12], byte[13])
    function, step = byte[9], byte[10]
    return {
        "accessory": ACCESSORIES.get(byte[4], f"accessory {byte[4]}"),
        "switches": switches,
        "switches_named": [SWITCHES[n] for n in switches if n in SWITCHES],
        "alarms": alarms,
        "alarms_named": [ALARMS[n] for n in alarms if n in ALARMS],
        "function": (DISPENSING if function == READY and step
                     else FUNCTIONS.get(function, f"function {function}")),
        "step": step,
        "progress": byte[11],
        "rest": bytes((byte[3], *(byte[o] for o in range(14, 17)))).hex(),
    }


def _bits(*octets: int) -> list[int]:
    """The numbers of the bits set: bit n of the k-th byte is 8k+n."""
    value = int.from_bytes(bytes(octets), "little")
    return [n for n in range(8 * len(octets)) if value >> n & 1]
