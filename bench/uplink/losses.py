"""What the uplink lost before it reached the capture, as lines for people.

The capture's own cuts are bench/capture_budget.py's; these are the broker's
(publishes it dropped for a full queue, clients it cut off for an oversized
packet) and the tap's (messages it could not record, settles that did not
complete), and the device's messages on the bench's own settle topic, from
``capture.meta["uplink"]`` (bench/uplink/tap.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["uplink_losses"]


#: (counter in ``meta["uplink"]``, the line said when it is not 0), in the order printed
LOSSES = (
    ("broker_dropped", "the MQTT broker dropped {n} message(s) it could not queue for the "
                       "bench (its $SYS counter): the device sent more than was captured"),
    ("oversize_disconnects", "the MQTT broker cut a client off {n} time(s) for a packet over "
                             "its size limit: those messages were not captured"),
    ("http_refused", "the HTTP endpoint refused {n} connection(s) while all its connections "
                     "were taken (slow or idle clients): what they carried was not captured"),
    ("unsettled", "the uplink did not settle {n} time(s) (the bench's marker did not come "
                  "back through the broker): messages sent before it may be missing"),
    ("foreign_markers", "{n} message(s) on brewbench/settle were not the bench's markers: "
                        "captured as the device's (the topic settles nothing for a device)"),
)


def uplink_losses(meta: Mapping[str, Any]) -> list[str]:
    """One line per kind of loss the uplink tap saw; none for a clean uplink."""
    uplink = meta.get("uplink")
    if not isinstance(uplink, Mapping):
        return []
    out = [line.format(n=n) for key, line in LOSSES if (n := _count(uplink, key))]
    errors = _count(uplink, "error_count")
    if errors:
        first = uplink.get("errors") or ["?"]
        out.append(f"{errors} uplink message(s) could not be recorded (first: {first[0]})")
    return out


def _count(uplink: Mapping[str, Any], key: str) -> int:
    value = uplink.get(key, 0)
    return value if isinstance(value, int) else 0
