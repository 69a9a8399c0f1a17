"""Why a Bluetooth LE scan could not start, in the terms of the host, not of bleak.

On Linux bleak reaches BlueZ over the D-Bus system bus. A host without that bus (a
container, a minimal server) gives a bare ``FileNotFoundError``; a bus without BlueZ
gives ``ServiceUnknown``. Each gets a sentence naming what is missing.
"""

from __future__ import annotations

import os
import sys

from bleak.exc import BleakDBusError

DEFAULT_SYSTEM_BUS = "/run/dbus/system_bus_socket"
ADVICE = "check the adapter is on and this user may use it (docs/hardware.md, Bluetooth LE)"


def scan_failure(exc: BaseException) -> str:
    """The cause of a failed scan, with what to do about it."""
    if isinstance(exc, BleakDBusError):
        if exc.dbus_error == "org.freedesktop.DBus.Error.ServiceUnknown":
            return ("BlueZ (bluetoothd) is not running on the D-Bus system bus; start it "
                    "(systemctl start bluetooth) and check an adapter is there (bluetoothctl list; "
                    "docs/hardware.md, Bluetooth LE)")
        if exc.dbus_error == "org.freedesktop.DBus.Error.AccessDenied":
            return ("BlueZ refused this user (D-Bus AccessDenied); add the user to the "
                    "bluetooth group (docs/hardware.md, Bluetooth LE)")
    if sys.platform.startswith("linux") and isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        bus = system_bus_path()
        return (f"no D-Bus system bus at {bus}, so BlueZ cannot be reached; start dbus and "
                "bluetoothd (systemctl start bluetooth), or in a container mount /run/dbus "
                "(docs/hardware.md, Bluetooth LE)")
    return f"the Bluetooth stack refused ({exc!r}); {ADVICE}"


def system_bus_path() -> str:
    """The socket the system bus is reached on (``DBUS_SYSTEM_BUS_ADDRESS`` or the default)."""
    address = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS", "")
    for part in address.split(";")[0].partition(":")[2].split(","):
        key, _, value = part.partition("=")
        if key == "path":
            return value
    return DEFAULT_SYSTEM_BUS


__all__ = ["scan_failure", "system_bus_path"]
