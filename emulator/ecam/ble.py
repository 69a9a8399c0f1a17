"""An emulated ECAM machine as a Bluetooth LE peripheral, with the published GATT layout.

One vendor service with one characteristic (``drivers.ecam.gatt``) that takes
writes (with or without response) and sends the answers as notifications, or as
indications to a host that subscribed with them (as the vendor app does); the GAP device name
is the machine's ``D<serial>`` name. A Device Information Service says the model
and firmware: the emulator's choice (whether real machines serve one is not
published; the driver reads it only when it is there).
"""

from __future__ import annotations

from bumble import att, gatt
from bumble.device import Connection, Device

from ...drivers.ble_adverts import Advert, encode
from ...drivers.ecam.gatt import CHARACTERISTIC_UUID, SERVICE_UUID
from ..ble_gatt import OnWrite, device_information, install_strict_server
from ..ble_link import GattPeripheral
from .machine import EmulatedEcam

__all__ = ["EcamBleLink", "ecam_service"]

Props = gatt.Characteristic.Properties
MANUFACTURER = "De'Longhi"


def ecam_service(on_write: OnWrite) -> tuple[gatt.Service, gatt.Characteristic[bytes]]:
    """The ECAM service: one characteristic for writes, notifications and indications."""
    def refuse_read(_connection: Connection) -> bytes:
        raise att.ATT_Error(att.ErrorCode.READ_NOT_PERMITTED)

    characteristic: gatt.Characteristic[bytes] = gatt.Characteristic(
        CHARACTERISTIC_UUID,
        Props.WRITE | Props.WRITE_WITHOUT_RESPONSE | Props.NOTIFY | Props.INDICATE,
        gatt.Characteristic.WRITEABLE,
        gatt.CharacteristicValue(read=refuse_read, write=on_write))
    return gatt.Service(SERVICE_UUID, [characteristic]), characteristic


class EcamBleLink(GattPeripheral[EmulatedEcam]):
    """One emulated ECAM machine on an air; ``device_information=False`` leaves the
    Device Information Service out (a host then knows only the device name)."""

    device_information = True

    def advertising_data(self) -> bytes:
        return encode(Advert(local_name=self.machine.device_name, service_uuids=[SERVICE_UUID]))

    def _prepare(self, device: Device) -> None:
        device.name = self.machine.device_name  # the GAP service is made from it
        install_strict_server(device)
        machine = self.machine
        if self.device_information:
            device.add_service(device_information({
                "manufacturer": MANUFACTURER, "model": machine.model, "serial": machine.serial,
                "firmware": machine.firmware}))
        service, self._notifier = ecam_service(self._on_write)
        device.add_service(service)
