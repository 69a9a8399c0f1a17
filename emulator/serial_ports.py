"""A list of emulated USB serial ports, as ``serial.tools.list_ports`` lists real ones.

The host finds a USB serial port by its USB ids, serial number or location
(``serial+usb://1209:c0fe?serial=SN``, drivers/usb_serial.py); for an emulated
machine the port is a pty, which the OS lists with no USB facts at all. An
``EmulatedSerialPorts`` is the hub those ptys hang off: each port it lists is a
``ListPortInfo`` with the pty's path and the ids, serial number and location of
the USB device behind it. Registered under its name (like an emulated USB bus),
``serial+usb://...&backend=NAME`` looks among its ports. A device keeps its
location (its hub port) across re-plugs; its path changes every time.
"""

from __future__ import annotations

import itertools
import secrets
import threading

from serial.tools.list_ports_common import ListPortInfo

from ..drivers.usb_backends import USB_BACKENDS, register_backend, unregister_backend
from ..drivers.usb_protocol import PRODUCT_ID, VENDOR_ID

BUS_NUMBER = 1
INTERFACE = "1.0"  # configuration 1, interface 0: where a CDC-ACM data port sits


class EmulatedSerialPorts:
    """The USB serial ports of emulated machines plugged in now, by location."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"emulated-ports-{secrets.token_hex(3)}"
        self._lock = threading.Lock()
        self._ports: dict[str, ListPortInfo] = {}  # location -> port
        self._next_hub_port = itertools.count(1)
        self._users = 0

    def reserve(self) -> str:
        """A location of its own for a new device (``1-N:1.0``), kept across plugs."""
        return f"{BUS_NUMBER}-{next(self._next_hub_port)}:{INTERFACE}"

    def plug(self, location: str, path: str, serial: str, product: str) -> None:
        """List a port at ``location`` under ``path`` (a pty), until ``unplug``."""
        port = ListPortInfo(path)
        port.vid, port.pid = VENDOR_ID, PRODUCT_ID
        port.serial_number, port.location = serial, location
        port.manufacturer, port.product = "brewbench", product
        port.description = product
        port.hwid = f"USB VID:PID={VENDOR_ID:04X}:{PRODUCT_ID:04X} SER={serial} LOCATION={location}"
        with self._lock:
            self._ports[location] = port

    def unplug(self, location: str) -> None:
        with self._lock:
            self._ports.pop(location, None)

    def comports(self) -> list[ListPortInfo]:
        """What ``serial.tools.list_ports.comports()`` would list: the ports plugged in now."""
        with self._lock:
            return sorted(self._ports.values(), key=lambda p: p.device)

    def use(self) -> None:
        """Register the list under its name for the links that use it (counted)."""
        with self._lock:
            self._users += 1
            if USB_BACKENDS.get(self.name) is not self:
                register_backend(self.name, self)

    def release(self) -> None:
        """One link less; the list is unregistered with the last."""
        with self._lock:
            self._users -= 1
            if self._users <= 0 and USB_BACKENDS.get(self.name) is self:
                unregister_backend(self.name)
