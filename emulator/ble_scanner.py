"""A bleak scanner backend whose radio is an emulated air.

Use it through bleak's own facade::

    devices = await BleakScanner.discover(backend=EmulatedScanner, air=air)

Each scanner powers on a bumble central of its own on the air and reports every
advertising report it hears, as any platform backend does. RSSI comes from
``air.rssi`` when set for the advertiser (bumble's controller reports -50 for all).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.exc import BleakError
from bleak.uuids import normalize_uuid_str
from bumble.core import UUID
from bumble.device import Advertisement, Device

from ..drivers.ble_adverts import decode
from .ble_radio import Radio, hand_over


def bleak_uuid(value: UUID) -> str:
    """A bumble UUID in bleak's form: lower-case 128-bit text."""
    text = value.to_hex_str()
    return normalize_uuid_str(text) if len(text) <= 8 else str(uuid.UUID(text))


def advertisement_data(advertisement: Advertisement, rssi: int) -> AdvertisementData:
    """bleak's view of one bumble advertising report."""
    advert = decode(bytes(advertisement.data_bytes))
    return AdvertisementData(
        local_name=advert.local_name, manufacturer_data=dict(advert.manufacturer_data),
        service_data=dict(advert.service_data), service_uuids=list(advert.service_uuids),
        tx_power=advert.tx_power, rssi=rssi, platform_data=(advertisement,))


def address_text(address: object) -> str:
    """bumble prints public addresses with a '/P' suffix; bleak wants the bare address."""
    return str(address).removesuffix("/P")


class EmulatedScanner(BaseBleakScanner):
    """bleak scanner backend over an ``Air``; pass ``air=`` to ``BleakScanner``.

    Raises:
        BleakError: no ``air`` was given, or it is not running.
    """

    def __init__(self, detection_callback: AdvertisementDataCallback | None,
                 service_uuids: list[str] | None, scanning_mode: str = "active", *,
                 air: Radio | None = None, **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        if air is None or not air.running:
            raise BleakError("the emulated BLE backend needs a running air: "
                             "BleakScanner(backend=EmulatedScanner, air=air)")
        self._air = air
        self._passive = scanning_mode == "passive"
        self._device: Device | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._loop = asyncio.get_running_loop()
        await self._air.relay(self._start())

    async def stop(self) -> None:
        await self._air.relay(self._stop())

    async def _start(self) -> None:
        if self._device is None:
            self._device = await self._air.new_device("scanner")
            self._device.on("advertisement", self._heard)
        await self._device.start_scanning(active=not self._passive, filter_duplicates=False)

    async def _stop(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            await self._air.remove_device(device)

    def _heard(self, advertisement: Advertisement) -> None:
        """On the air's loop: pass the report to the loop bleak runs on."""
        hand_over(self._loop, self._report, advertisement)

    def _report(self, advertisement: Advertisement) -> None:
        address = address_text(advertisement.address)
        data = advertisement_data(advertisement, self._air.rssi.get(address, advertisement.rssi))
        if not self.is_allowed_uuid(data.service_uuids):
            return
        device = self.create_or_update_device(address, address, data.local_name, self._air, data)
        self.call_detection_callbacks(device, data)
