"""A USB-serial port (CDC-ACM or a USB-UART bridge) found by its USB ids, not its path.

    serial+usb://VID:PID?serial=SN&baud=115200   the port of that USB device
    serial+usb://VID:PID?location=1-4.2:1.0      the port at that USB location
    ...&backend=NAME                             ports of a registered port list (an emulated bus)

``/dev/ttyUSB0`` changes with plug order; VID, PID and serial number do not.
The port is looked up with ``serial.tools.list_ports`` when the link opens, so
a spec written before the device was plugged in works once it is, and a device
that re-enumerates under a new path (``/dev/ttyACM0`` becoming ``/dev/ttyACM1``)
is found again. ``?backend=NAME`` looks among the ports of an object registered
in ``USB_BACKENDS`` with a ``comports()`` method instead: the emulator's USB
serial ports (emulator/serial_ports.py) are listed so, as the OS lists real ones.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from .errors import DeviceNotFound, DeviceSpecError
from .serial_transport import SerialTransport
from .specs import DeviceSpec, check_params
from .transport import LinkEvents
from .usb_backends import USB_BUS, find_backend
from .usb_transport import parse_ids

SPEC_PARAMS = {"serial", "location", "baud", "backend"}


class UsbSerialTransport(SerialTransport):
    """A ``SerialTransport`` whose port is chosen by USB ids when it opens."""

    def __init__(self, vendor_id: int | None, product_id: int | None, *,
                 serial: str | None = None, location: str | None = None,
                 baudrate: int = 115200, device: str, backend: str | None = None) -> None:
        super().__init__("", baudrate=baudrate, device=device)
        self.vendor_id, self.product_id = vendor_id, product_id
        self.serial, self.location = serial, location
        self.backend = backend

    @classmethod
    def from_spec(cls, spec: DeviceSpec) -> UsbSerialTransport:
        """Build the transport a ``serial+usb://`` spec names.

        Raises:
            DeviceSpecError: malformed ids, nothing to select by, or an unknown parameter.
        """
        check_params(spec.text, "serial+usb", spec.params, SPEC_PARAMS)
        vendor_id, product_id = parse_ids(spec)
        if vendor_id is None and "location" not in spec.params:
            raise DeviceSpecError(f"{spec.text}: name the port, e.g. serial+usb://0403:6001?"
                                  "serial=A50285BI")
        return cls(vendor_id, product_id, serial=spec.params.get("serial"),
                   location=spec.params.get("location"),
                   baudrate=spec.int_param("baud", 115200), device=spec.text,
                   backend=spec.params.get("backend"))

    def open(self, events: LinkEvents) -> None:
        self.url = self.locate()
        super().open(events)

    def locate(self) -> str:
        """The path of the port this spec names (it changes on re-enumeration): the one
        open now, else the one the selector finds.

        Raises:
            DeviceNotFound: no port matches.
            DeviceSpecError: several match, or the backend lists no serial ports.
        """
        if self._port is not None:  # open: where it was found
            return self.url
        return str(self.find(self._comports()).device)

    def _comports(self) -> list[ListPortInfo]:
        if self.backend is None:
            return list(list_ports.comports())
        ports = find_backend(self.backend, self.device)
        if not callable(getattr(ports, "comports", None)):
            raise DeviceSpecError(f"{self.device}: backend {self.backend!r} is a USB bus, not a "
                                  "list of serial ports; use usb:// for it")
        return list(ports.comports())

    def find(self, ports: Iterable[ListPortInfo]) -> ListPortInfo:
        """The one port among ``ports`` this transport names.

        Raises:
            DeviceNotFound: no port matches.
            DeviceSpecError: several match; the spec must add a serial number.
        """
        ports = list(ports)
        found = [port for port in ports if self._matches(port)]
        if len(found) == 1:
            return found[0]
        if found:
            serials = ", ".join(f"{p.device} serial {p.serial_number}" for p in found)
            raise DeviceSpecError(f"{self.device}: {len(found)} serial ports match ({serials}); "
                                  "add ?serial=... to pick one")
        seen = "; ".join(_summary(p) for p in ports if p.vid is not None) or "no USB serial ports"
        if not seen.startswith("no ") or self.backend is not None or not _no_usb_bus():
            raise DeviceNotFound(self.device, f"no USB serial port matches (present: {seen}); "
                                 "check the cable and ids (python -m serial.tools.list_ports -v)")
        raise DeviceNotFound(self.device, f"this host has no USB bus ({USB_BUS} does not "
                             "exist), so no USB serial port can appear; in a container pass "
                             "the device in (docker run --device /dev/ttyUSB0)")

    def _matches(self, port: ListPortInfo) -> bool:
        wanted = (("vid", self.vendor_id), ("pid", self.product_id),
                  ("serial_number", self.serial), ("location", self.location))
        return all(value is None or getattr(port, key) == value for key, value in wanted)


def _summary(port: ListPortInfo) -> str:
    return f"{port.device} {port.vid:04x}:{port.pid or 0:04x} serial {port.serial_number}"


def _no_usb_bus() -> bool:
    return sys.platform.startswith("linux") and not USB_BUS.exists()
