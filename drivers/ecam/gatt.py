"""Where ECAM frames travel over Bluetooth LE, as public projects document it.

One vendor service holds one characteristic that carries both directions: the app
writes request frames to it and subscribes to its notifications for the answers
(Arbuzov/home_assistant_delonghi_primadonna, ``const.py``: ``SERVICE`` and
``CHARACTERISTIC``). The machine's GAP device name (0x2A00) is read on connecting,
as that project does; a Device Information Service is read when one is there.

Shared by the driver and the emulated peripheral (``emulator.ecam``).
"""

from __future__ import annotations

from ..ble_profile import DIS_FIELDS, GattLayout

__all__ = ["CHARACTERISTIC_UUID", "DEVICE_NAME_UUID", "ECAM_LAYOUT", "SERVICE_UUID"]

SERVICE_UUID = "00035b03-58e6-07dd-021a-08123a000300"
CHARACTERISTIC_UUID = "00035b03-58e6-07dd-021a-08123a000301"  # write + notify
DEVICE_NAME_UUID = "00002a00-0000-1000-8000-00805f9b34fb"  # GAP device name

ECAM_LAYOUT = GattLayout("ecam", SERVICE_UUID, CHARACTERISTIC_UUID, CHARACTERISTIC_UUID,
                         {DEVICE_NAME_UUID: "device_name", **DIS_FIELDS})
