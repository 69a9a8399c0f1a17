"""The GATT database of an emulated machine: Device Information and the vendor service.

bumble's GATT server leaves three things to its user, and a real machine's stack
would not let them slip, so this module handles them:

- it does not check write permissions, so every read-only value here answers a
  write with WRITE_NOT_PERMITTED itself;
- a read of a value that has no read handler raises inside the server, so every
  value has one (write-only ones answer READ_NOT_PERMITTED);
- it accepts a write command (write without response) longer than the link's
  MTU allows, so ``StrictServer`` drops those as a real controller would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from bumble import att, gatt, gatt_server, utils
from bumble.device import Connection, Device

from ..drivers.ble_profile import DIS_FIELDS, DIS_UUID, NOTIFY_UUID, SERVICE_UUID, WRITE_UUID

log = logging.getLogger(__name__)
Props = gatt.Characteristic.Properties
OnWrite = Callable[[Connection, bytes], None]


class StrictServer(gatt_server.Server):
    """bumble's GATT server, dropping write commands that exceed ATT_MTU - 3."""

    dropped_writes = 0

    def on_att_write_command(self, bearer: Any, request: Any) -> Any:
        # The base handler is wrapped to run as a task of its own: call it, don't await it.
        if len(request.attribute_value) > bearer.att_mtu - 3:
            self.dropped_writes += 1
            log.warning("dropped a %d-byte write command: the ATT MTU is %d",
                        len(request.attribute_value), bearer.att_mtu)
            return None
        return super().on_att_write_command(bearer, request)


def install_strict_server(device: Device) -> StrictServer:
    """Replace a fresh device's GATT server with a ``StrictServer`` (before power on)."""
    server = StrictServer(device)
    device.gatt_server = server
    device.add_default_services()
    utils.setup_event_forwarding(  # type: ignore[no-untyped-call]
        server, device, "characteristic_subscription")
    return server


def _read_only(value: bytes) -> gatt.CharacteristicValue[bytes]:
    def refuse(_connection: Connection, _value: bytes) -> None:
        raise att.ATT_Error(att.ErrorCode.WRITE_NOT_PERMITTED)

    return gatt.CharacteristicValue(read=lambda _connection: value, write=refuse)


def device_information(facts: Mapping[str, str]) -> gatt.Service:
    """The Device Information Service (0x180A) for these facts."""
    characteristics: list[gatt.Characteristic[bytes]] = [
        gatt.Characteristic(uuid, Props.READ, gatt.Characteristic.READABLE,
                            _read_only(str(facts.get(name, "")).encode()))
        for uuid, name in DIS_FIELDS.items()
    ]
    return gatt.Service(DIS_UUID, characteristics)


def vendor_service(on_write: OnWrite) -> tuple[gatt.Service, gatt.Characteristic[bytes]]:
    """The protocol service: a write characteristic and a notify characteristic.

    Returns:
        The service and its notify characteristic (to notify subscribers through).
    """
    def refuse_read(_connection: Connection) -> bytes:
        raise att.ATT_Error(att.ErrorCode.READ_NOT_PERMITTED)

    def refuse_write(_connection: Connection, _value: bytes) -> None:
        raise att.ATT_Error(att.ErrorCode.WRITE_NOT_PERMITTED)

    writes: gatt.Characteristic[bytes] = gatt.Characteristic(
        WRITE_UUID, Props.WRITE | Props.WRITE_WITHOUT_RESPONSE, gatt.Characteristic.WRITEABLE,
        gatt.CharacteristicValue(read=refuse_read, write=on_write))
    notifies: gatt.Characteristic[bytes] = gatt.Characteristic(
        NOTIFY_UUID, Props.NOTIFY, gatt.Characteristic.READABLE,
        gatt.CharacteristicValue(read=lambda _connection: b"", write=refuse_write))
    return gatt.Service(SERVICE_UUID, [writes, notifies]), notifies
