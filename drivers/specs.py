"""Device specs: one string naming a device under test.

    serial:///dev/ttyUSB0?baud=115200     a serial port by path
    serial+socket://127.0.0.1:7000         pyserial's socket:// (a serial server)
    serial+rfc2217://host:4000?baud=9600   pyserial's rfc2217://
    serial+loop://                         pyserial's loopback (no device answers)
    usb://VID:PID?serial=SN                a USB device (see drivers/usb_transport.py)
    serial+usb://VID:PID?serial=SN         a USB-serial port found by ids (drivers/usb_serial.py)
    ble://name=CM-Lobby                    a Bluetooth LE device (see the BLE transport)
    emu://?firmware=2.1&transport=serial   an emulated machine (bench.devices starts it)

Parsing only: ``drivers/transport_table.py`` maps a scheme to its transport.
``emu://`` is not there: drivers know nothing of the emulator.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field

from .errors import DeviceSpecError


@dataclass(frozen=True)
class DeviceSpec:
    """A parsed device spec. ``target`` is what follows ``scheme://`` up to ``?``."""

    text: str
    scheme: str
    target: str
    params: dict[str, str] = field(default_factory=dict)

    def param(self, name: str, default: str) -> str:
        return self.params.get(name, default)

    def int_param(self, name: str, default: int) -> int:
        value = self.params.get(name)
        if value is None:
            return default
        try:
            return int(value, 0)
        except ValueError as exc:
            raise DeviceSpecError(f"{self.text}: {name}={value!r} is not a whole number") from exc


def check_params(text: str, scheme: str, params: Iterable[str], allowed: Iterable[str]) -> None:
    """Refuse parameters a scheme does not know, so a typo is not silently ignored.

    Raises:
        DeviceSpecError: naming the unknown parameters and the ones the scheme takes.
    """
    known = set(allowed)
    unknown = set(params) - known
    if unknown:
        raise DeviceSpecError(f"{text}: unknown parameter(s) {', '.join(sorted(unknown))}; "
                              f"{scheme}:// takes {', '.join(sorted(known)) or 'none'}")


def parse_spec(text: str) -> DeviceSpec:
    """Split a spec into scheme, target and query parameters.

    Raises:
        DeviceSpecError: no ``scheme://``, or a parameter given twice.
    """
    scheme, sep, rest = text.partition("://")
    if not sep or not scheme:
        raise DeviceSpecError(f"device spec {text!r} has no scheme; expected e.g. "
                              "serial:///dev/ttyUSB0 or emu://?firmware=2.1")
    target, _, query = rest.partition("?")
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise DeviceSpecError(f"device spec {text!r} gives {key!r} twice")
        params[key] = value
    return DeviceSpec(text, scheme.lower(), target, params)


def slug(text: str) -> str:
    """A short name for a spec (or any label) that is safe in file names and test ids:
    ``emu://?firmware=2.1&transport=ble`` becomes ``firmware=2.1-transport=ble``."""
    body = text.split("://", 1)[-1].strip("?/")
    return re.sub(r"[^A-Za-z0-9_.=]+", "-", body).strip("-")[:120] or "device"
