"""What is attached to this host, each with the device spec that opens it.

Serial ports (CDC-ACM and USB-UART bridges included) come from
``serial.tools.list_ports``; vendor-class USB devices from pyusb on a backend
(libusb for hardware, an emulated bus by its name); running emulators from the
files ``brewbench emulate`` leaves (bench/running.py). A source that cannot be
read (no USB bus, no libusb) gives one ``note`` line instead of devices.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import usb.core
from bleak import BleakScanner
from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from ..drivers.ble_host import scan_failure
from ..drivers.ble_profile import BLE_BACKENDS, PLATFORM, SERVICE_UUID
from ..drivers.errors import DeviceNotFound, DeviceSpecError
from ..drivers.usb_backends import LIBUSB, find_backend
from .running import running_emulators

__all__ = ["Found", "Listing", "ble_machines", "emulated", "emulated_serial_ports", "serial_ports",
           "usb_devices"]

CLASS_VENDOR = 0xFF
SLACK = 5.0  # seconds beyond the scan's own bound before the listing gives up on the stack


@dataclass(frozen=True)
class Found:
    """One device: the spec that opens it, and what is known of it (shown as ``key=value``)."""

    kind: str  # serial, usb, emulated
    spec: str
    facts: dict[str, str] = field(default_factory=dict)


@dataclass
class Listing:
    """Devices of one kind, or the one line saying why they could not be listed."""

    kind: str
    found: list[Found] = field(default_factory=list)
    note: str = ""


def serial_ports(ports: Iterable[ListPortInfo] | None = None, backend: str = "") -> Listing:
    """Serial ports; a USB one's spec selects it by its ids (stable across re-plugging).
    ``backend`` names the emulated port list ``ports`` came from, for the specs."""
    listing = Listing("serial")
    for port in sorted(list_ports.comports() if ports is None else ports, key=lambda p: p.device):
        described = port.description if port.description not in (None, "n/a") else ""
        facts = {"port": port.device, "description": described}
        if port.vid is not None:
            facts.update(ids=f"{port.vid:04x}:{port.pid or 0:04x}", serial=port.serial_number or "",
                         location=port.location or "")
        listing.found.append(Found("serial", _serial_spec(port, backend), _nonempty(facts)))
    return listing


def _serial_spec(port: ListPortInfo, backend: str = "") -> str:
    if port.vid is None:
        return f"serial://{port.device}"
    ids = f"serial+usb://{port.vid:04x}:{port.pid or 0:04x}"
    query = [f"serial={port.serial_number}" if port.serial_number else
             f"location={port.location}" if port.location else "",
             f"backend={backend}" if backend else ""]
    return "?".join([ids, "&".join(filter(None, query))]).rstrip("?")


def emulated_serial_ports(backend_name: str) -> Listing | None:
    """The ports of the emulated port list ``backend_name``; None if that backend is not one.

    Raises:
        DeviceSpecError: no backend has that name.
    """
    backend = find_backend(backend_name, f"serial+usb://?backend={backend_name}")
    if not callable(getattr(backend, "comports", None)):
        return None
    return serial_ports(backend.comports(), backend_name)


def usb_devices(backend_name: str = LIBUSB) -> Listing:
    """Vendor-class USB devices on ``backend_name`` (libusb, or an emulated bus's name).

    Raises:
        DeviceSpecError: no backend has that name.
    """
    listing = Listing("usb")
    try:
        backend = find_backend(backend_name, f"usb://?backend={backend_name}")
        devices = list(usb.core.find(find_all=True, backend=backend))
    except DeviceNotFound as exc:  # no libusb, no USB bus: one line (an unknown name raises)
        listing.note = str(exc).removeprefix(f"{exc.device}: ")
        return listing
    except usb.core.USBError as exc:
        listing.note = f"USB devices could not be listed: {exc}"
        return listing
    for dev in devices:
        if _is_vendor(dev):
            listing.found.append(_usb_found(dev, backend_name))
    return listing


def _is_vendor(dev: Any) -> bool:
    if dev.bDeviceClass == CLASS_VENDOR:
        return True
    try:
        return any(intf.bInterfaceClass == CLASS_VENDOR for cfg in dev for intf in cfg)
    except (usb.core.USBError, NotImplementedError):
        return False  # descriptors unreadable (no access): not ours to claim


def _usb_found(dev: Any, backend_name: str) -> Found:
    ports = ".".join(str(n) for n in (dev.port_numbers or ()))
    location = f"{dev.bus}-{ports}" if ports else str(dev.bus)
    serial = _string(dev, "serial_number") if dev.iSerialNumber else ""
    query = [f"serial={serial}"] if serial else [f"port={location}"]
    if backend_name != LIBUSB:
        query.append(f"backend={backend_name}")
    facts = {"ids": f"{dev.idVendor:04x}:{dev.idProduct:04x}", "serial": serial,
             "location": location,
             "description": " ".join(filter(None, (_string(dev, "manufacturer"),
                                                   _string(dev, "product"))))}
    return Found("usb", f"usb://{dev.idVendor:04x}:{dev.idProduct:04x}?{'&'.join(query)}",
                 _nonempty(facts))


def _string(dev: Any, name: str) -> str:
    """A string descriptor, or "" when it cannot be read (typically: no access)."""
    try:
        return str(getattr(dev, name) or "")
    except (usb.core.USBError, ValueError, NotImplementedError):
        return ""


def emulated() -> Listing:
    """Machines ``brewbench emulate`` serves right now (on this host, for this user)."""
    return Listing("emulated", [Found("emulated", e.spec, {"description": e.description,
                                                            "pid": str(e.pid)})
                                for e in running_emulators()])


def ble_machines(seconds: float, backend_name: str = PLATFORM.name) -> Listing:
    """Machines advertising the bench's service within ``seconds`` (a bounded scan).

    Raises:
        DeviceSpecError: no BLE backend has that name.
    """
    backend = BLE_BACKENDS.get(backend_name)
    if backend is None:
        raise DeviceSpecError(f"no BLE backend {backend_name!r}; known: "
                              f"{', '.join(sorted(BLE_BACKENDS))}")
    listing = Listing("ble")

    async def scan() -> dict[str, Any]:
        found = BleakScanner.discover(timeout=seconds, return_adv=True, service_uuids=[SERVICE_UUID],
                                      **backend.scanner_args())
        return dict(await asyncio.wait_for(found, seconds + SLACK))

    try:
        seen = asyncio.run(scan())
    except Exception as exc:  # bleak's and the OS's errors alike: one line, not a trace
        listing.note = f"no Bluetooth LE scan: {scan_failure(exc)}"
        return listing
    suffix = "" if backend is PLATFORM else f"?backend={backend_name}"
    for address, (device, adv) in sorted(seen.items()):
        facts = {"name": adv.local_name or device.name or "", "address": address,
                 "rssi": str(adv.rssi), "services": ",".join(adv.service_uuids)}
        listing.found.append(Found("ble", f"ble://address={address}{suffix}", _nonempty(facts)))
    return listing


def _nonempty(facts: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in facts.items() if value}
