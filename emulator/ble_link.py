"""The device end of a Bluetooth LE link: an emulated machine as a GATT peripheral.

The machine advertises what its firmware profile chooses to broadcast, serves
the Device Information Service and the vendor protocol service, and streams its
output as notifications cut to the negotiated ATT MTU. Host writes go straight
to ``machine.feed``. After a connection ends it advertises again, with fresh data
(a machine provisioned over the link now advertises its new name).

bumble's emulated controller drops scan-response data, so everything a real
machine would split between advertising data and scan response travels in the
advertising data here (the controller does not enforce the 31-byte limit).
"""

from __future__ import annotations

import abc
import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from bumble import gatt
from bumble.device import Connection, Device

from ..drivers.ble_adverts import Advert, encode
from ..drivers.ble_profile import SERVICE_UUID, TEST_COMPANY_ID
from .ble_air import Air
from .ble_gatt import device_information, install_strict_server, vendor_service
from .links import DeviceLink, DeviceSide
from .machine import EmulatedMachine

log = logging.getLogger(__name__)
ADVERTISING_INTERVAL_MS = 20
OUT_BACKLOG = 1 << 20  # bytes the machine may have waiting for the air before its writes block


M = TypeVar("M", bound=DeviceSide)


class GattPeripheral(DeviceLink[M], abc.ABC):
    """One emulated machine of any family on an air, as a connectable BLE peripheral.

    A family's link says what it advertises (``advertising_data``) and which GATT
    services it serves (``_prepare``, which sets ``_notifier``); writes to any
    characteristic whose value calls ``_on_write`` go to ``machine.feed``.

    Args:
        machine: the machine to serve.
        air: the radio environment to join; a private one is made (and started
            and stopped with the link) when none is given.
        rssi: the signal strength scanners on the air report for this machine.
    """

    def __init__(self, machine: M, air: Air | None = None, rssi: int = -60) -> None:
        super().__init__(machine)
        self.rssi = rssi
        self._own_air = air is None
        self.air = air or Air()
        self._device: Device | None = None
        self._notifier: gatt.Characteristic[bytes] | None = None
        self._connection: Connection | None = None
        self._outbox: asyncio.Queue[bytes] | None = None
        self._backlog = 0  # bytes in the outbox, bounded by OUT_BACKLOG for a flooding machine
        self._drained = threading.Condition()
        self._advertise = True
        self._tasks: set[asyncio.Task[None]] = set()
        self.address = ""

    @property
    def url(self) -> str:
        return f"ble://address={self.address}?backend={self.air.name}"

    # -- lifecycle (called from any thread but the air's) ------------------------

    def start(self) -> None:
        if self._own_air:
            self.air.start()
        self.air.call(self._power_on())

    def stop(self) -> None:
        self.machine.detach()
        if self.air.running and self._device is not None:
            self.air.call(self._power_off())
        if self._own_air:
            self.air.stop()

    def _serve(self) -> None:
        """Unused: the air's event loop serves this link."""

    def _release(self) -> None:
        """Unused: ``stop`` takes the device off the air."""

    def stop_advertising(self) -> None:
        """Go quiet: no advertising until ``start_advertising``."""
        self._advertise = False
        self.air.call(self._quiet())

    def start_advertising(self) -> None:
        """Advertise again (with data reflecting the machine's current settings)."""
        self._advertise = True
        self.air.call(self._announce())

    @abc.abstractmethod
    def advertising_data(self) -> bytes:
        """The advertising payload the machine broadcasts right now."""

    # -- on the air's loop --------------------------------------------------------

    async def _power_on(self) -> None:
        self._outbox = asyncio.Queue()
        device = await self.air.new_device("machine", self._prepare)
        device.on("connection", self._on_connection)
        self._device = device
        self.address = str(device.random_address).removesuffix("/P")
        self.air.rssi[self.address] = self.rssi
        self._spawn(self._drain(self._outbox), "drain")
        await self._announce()

    @abc.abstractmethod
    def _prepare(self, device: Device) -> None:
        """Add the GATT services to ``device`` before it powers on; set ``_notifier``."""

    async def _power_off(self) -> None:
        self._advertise = False
        # Let HCI commands in flight finish: bumble cannot take a cancelled one's reply.
        busy = [task for task in self._tasks if task.get_name() != "drain"]
        await asyncio.gather(*busy, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        device, self._device = self._device, None
        if device is not None:
            await self.air.remove_device(device)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str = "") -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name or None)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _announce(self) -> None:
        device = self._device
        if device is None or not self._advertise or self._connection is not None:
            return
        await device.start_advertising(advertising_data=self.advertising_data(),
                                       advertising_interval_min=ADVERTISING_INTERVAL_MS,
                                       advertising_interval_max=ADVERTISING_INTERVAL_MS)

    async def _quiet(self) -> None:
        if self._device is not None:
            await self._device.stop_advertising()

    def _on_connection(self, connection: Connection) -> None:
        self._connection = connection
        connection.on("disconnection", lambda _reason: self._on_disconnection(connection))
        self.machine.attach(self._send, self._hang_up)
        log.debug("%s: host %s connected", self.address, connection.peer_address)

    def _on_disconnection(self, connection: Connection) -> None:
        if self._connection is connection:
            self._connection = None
            self.machine.detach()
            self._spawn(self._announce())

    def _on_write(self, _connection: Connection, value: bytes) -> None:
        self.machine.feed(bytes(value))

    async def _drain(self, outbox: asyncio.Queue[bytes]) -> None:
        """Send what the machine said as notifications, in order, cut to the MTU."""
        while True:
            data = await outbox.get()
            with self._drained:
                self._backlog -= len(data)
                self._drained.notify_all()
            connection, device, notifier = self._connection, self._device, self._notifier
            if connection is None or device is None or notifier is None:
                continue  # nobody to hear it: lost, as over a real radio
            step = connection.att_mtu - 3
            # a host that subscribed with indications (the ECAM vendor app does) gets them
            cccd = device.gatt_server.read_cccd(connection, notifier)[0]
            send = device.indicate_subscriber if cccd & 0x02 and not cccd & 0x01 \
                else device.notify_subscriber
            for start in range(0, len(data), step):
                await send(connection, notifier, data[start : start + step])

    async def _disconnect(self) -> None:
        connection = self._connection
        if connection is not None:
            await connection.disconnect()

    # -- machine side (any thread) -------------------------------------------------

    def _send(self, data: bytes) -> None:
        outbox = self._outbox
        if outbox is None:
            return
        with self._drained:
            # Another thread (a flood) waits for the air to carry the backlog; the air's
            # own thread must not, or nothing would ever drain it.
            while (self._backlog > OUT_BACKLOG and not self.air.thread.on_loop
                   and self._connection is not None and not self._stop.is_set()):
                self._drained.wait(0.1)
            self._backlog += len(data)
        self.air.thread.call_soon(outbox.put_nowait, data)

    def _hang_up(self) -> None:
        self.air.thread.call_soon(self._spawn_disconnect)

    def _spawn_disconnect(self) -> None:
        self._spawn(self._disconnect())


class BleLink(GattPeripheral[EmulatedMachine]):
    """An emulated CM-500 machine on an air: its firmware's advertisement, the Device
    Information Service and the vendor protocol service."""

    def advertising_data(self) -> bytes:
        """The advertising payload the machine broadcasts right now."""
        machine = self.machine
        facts: dict[str, Any] = {"model": machine.profile.model, "serial": machine.serial,
                                 "firmware": machine.profile.version, **machine.settings}
        policy = machine.profile.advertising
        advert = Advert(local_name=policy.local_name(facts), service_uuids=[SERVICE_UUID],
                        manufacturer_data={TEST_COMPANY_ID: policy.manufacturer_data(facts)})
        return encode(advert)  # flags: LE general discoverable, no BR/EDR

    def _prepare(self, device: Device) -> None:
        install_strict_server(device)
        p = self.machine.profile
        device.add_service(device_information({
            "manufacturer": p.manufacturer, "model": p.model, "serial": self.machine.serial,
            "firmware": p.version}))
        service, self._notifier = vendor_service(self._on_write)
        device.add_service(service)
