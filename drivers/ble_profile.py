"""How a coffee machine speaks over Bluetooth LE, and which bleak backend reaches it.

The protocol byte stream (COBS frames, docs/protocol.md) is carried by one vendor
GATT service: the host writes to ``WRITE_UUID`` and subscribes to ``NOTIFY_UUID``;
each side cuts the stream into pieces that fit the link and the other side joins
them again, so a frame may span many writes or notifications. The standard Device
Information Service (0x180A) says who made the machine, for anyone who connects.

``GattLayout`` says which service and characteristics a family's stream uses
(``CM500_LAYOUT`` here; other families define theirs beside their codec, e.g.
``drivers.ecam.gatt``) and which values are read once on connecting.

``BLE_BACKENDS`` names the bleak backends a ``ble://`` spec may ask for with
``?backend=NAME``: ``platform`` (BlueZ, CoreBluetooth, WinRT, picked by bleak) is
the default; the emulator registers one per emulated radio while it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

SERVICE_UUID = "c0ffee00-b7e4-4b6a-9d1e-62726577626e"
WRITE_UUID = "c0ffee01-b7e4-4b6a-9d1e-62726577626e"  # host -> machine
NOTIFY_UUID = "c0ffee02-b7e4-4b6a-9d1e-62726577626e"  # machine -> host

DIS_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
#: Device Information Service characteristics the bench reads: UUID -> field name.
DIS_FIELDS: Mapping[str, str] = {
    "00002a29-0000-1000-8000-00805f9b34fb": "manufacturer",
    "00002a24-0000-1000-8000-00805f9b34fb": "model",
    "00002a25-0000-1000-8000-00805f9b34fb": "serial",
    "00002a26-0000-1000-8000-00805f9b34fb": "firmware",
}



@dataclass(frozen=True)
class GattLayout:
    """Where a family's byte stream travels: one service, a characteristic the host
    writes and one it subscribes to (the same one for some families), and the values
    read once after connecting (UUID -> field name; absent ones are skipped)."""

    name: str
    service: str
    write: str
    notify: str
    reads: Mapping[str, str] = field(default_factory=lambda: dict(DIS_FIELDS))


CM500_LAYOUT = GattLayout("cm500", SERVICE_UUID, WRITE_UUID, NOTIFY_UUID)

#: Bluetooth SIG company identifier reserved for testing; the emulator uses it.
TEST_COMPANY_ID = 0xFFFF
#: Largest value one ATT write request may carry (a long write, Core spec Vol 3 Part F 3.2.9).
MAX_ATTRIBUTE_VALUE = 512


@dataclass(frozen=True)
class BleBackend:
    """A pair of bleak backend classes and the keyword arguments both are given.

    ``None`` classes mean bleak's own choice for this platform.
    """

    name: str
    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def scanner_args(self) -> dict[str, Any]:
        """Keyword arguments for ``BleakScanner`` beyond its own."""
        return {"backend": self.scanner, **self.options}

    def client_args(self) -> dict[str, Any]:
        """Keyword arguments for ``BleakClient`` beyond its own."""
        return {"backend": self.client, **self.options}


PLATFORM = BleBackend("platform")

#: name -> backend; a registry meant for extension (the emulator adds its radios here).
BLE_BACKENDS: dict[str, BleBackend] = {PLATFORM.name: PLATFORM}
