"""A bleak client backend whose radio is an emulated air.

Use it through bleak's own facade::

    async with BleakClient(device, backend=EmulatedClient, air=air) as client:
        await client.write_gatt_char(WRITE_UUID, b"...", response=True)

Each client powers on a bumble central of its own, connects over the air,
exchanges the ATT MTU (asking for ``REQUESTED_MTU``), discovers the whole GATT
database and maps it to bleak's service collection. Calls run on the air's loop;
notifications and the disconnect callback come back on the caller's loop, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bumble import att, gatt
from bumble.device import Connection, Device, Peer
from bumble.hci import Address

from .ble_radio import Radio, hand_over
from .ble_scanner import bleak_uuid

log = logging.getLogger(__name__)
T = TypeVar("T")
REQUESTED_MTU = 247  # what phones commonly ask for: 244-byte notifications

_PROPERTIES: tuple[tuple[int, CharacteristicPropertyName], ...] = (
    (gatt.Characteristic.Properties.BROADCAST, "broadcast"),
    (gatt.Characteristic.Properties.READ, "read"),
    (gatt.Characteristic.Properties.WRITE_WITHOUT_RESPONSE, "write-without-response"),
    (gatt.Characteristic.Properties.WRITE, "write"),
    (gatt.Characteristic.Properties.NOTIFY, "notify"),
    (gatt.Characteristic.Properties.INDICATE, "indicate"),
    (gatt.Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES, "authenticated-signed-writes"),
    (gatt.Characteristic.Properties.EXTENDED_PROPERTIES, "extended-properties"),
)


class EmulatedClient(BaseBleakClient):
    """bleak client backend over an ``Air``; pass ``air=`` (or a device its scanner found).

    Raises:
        BleakError: no running air was given or found on the device.
    """

    def __init__(self, address_or_ble_device: BLEDevice | str, *, air: Radio | None = None,
                 **kwargs: Any) -> None:
        super().__init__(address_or_ble_device,
                         disconnected_callback=kwargs.get("disconnected_callback"),
                         timeout=float(kwargs.get("timeout", 10.0)))
        if air is None and isinstance(address_or_ble_device, BLEDevice):
            details = address_or_ble_device.details
            air = details if isinstance(details, Radio) else None
        if air is None or not air.running:
            raise BleakError("the emulated BLE backend needs a running air: "
                             "BleakClient(device, backend=EmulatedClient, air=air)")
        self._air = air
        self._name = (address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice)
                      else None) or self.address
        self._device: Device | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inflight: set[asyncio.Task[Any]] = set()
        self._mtu = att.ATT_DEFAULT_MTU

    @property
    def name(self) -> str:
        return self._name

    @property
    def mtu_size(self) -> int:
        return self._mtu

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    # Connectivity methods

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if pair:
            log.info("the emulated backend does not pair; connecting without pairing")
        self._loop = asyncio.get_running_loop()
        try:
            self.services = await self._air.relay(self._connect())
        except BaseException:
            await self._air.relay(self._teardown())
            raise

    async def disconnect(self) -> None:
        await self._air.relay(self._teardown())

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise BleakError("pairing is not emulated")

    async def unpair(self) -> None:
        raise BleakError("pairing is not emulated")

    # I/O methods

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *,
                             use_cached: bool = False, **kwargs: Any) -> bytearray:
        peer = self._require_peer()
        return bytearray(await self._io(peer.read_value(characteristic.handle)))

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *,
                                   use_cached: bool = False, **kwargs: Any) -> bytearray:
        peer = self._require_peer()
        return bytearray(await self._io(peer.read_value(descriptor.handle)))

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic,
                              data: SizedBuffer, response: bool) -> None:
        peer = self._require_peer()
        value = bytes(data)
        if not response and len(value) > characteristic.max_write_without_response_size:
            raise BleakError(f"{len(value)} bytes exceed max_write_without_response_size "
                             f"({characteristic.max_write_without_response_size})")
        await self._io(peer.write_value(characteristic.handle, value, with_response=response))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor,
                                    data: SizedBuffer) -> None:
        peer = self._require_peer()
        await self._io(peer.write_value(descriptor.handle, bytes(data), with_response=True))

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: NotifyCallback, **kwargs: Any) -> None:
        self._require_peer()
        loop = asyncio.get_running_loop()

        def deliver(value: bytes) -> None:  # on the air's loop
            hand_over(loop, callback, bytearray(value))

        # bleak's own backends take force_indicate (WinRT): subscribe with indications
        prefer_notify = not kwargs.get("force_indicate", False)
        await self._io(characteristic.obj.subscribe(deliver, prefer_notify=prefer_notify))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._require_peer()
        await self._io(characteristic.obj.unsubscribe(force=True))

    # -- on the air's loop ------------------------------------------------------

    async def _connect(self) -> BleakGATTServiceCollection:
        self._device = device = await self._air.new_device("central")
        try:
            connection = await device.connect(Address(self.address), timeout=self._timeout)
        except Exception as exc:
            raise BleakDeviceNotFoundError(
                self.address, f"nothing connectable at {self.address} ({exc!r})") from exc
        self._connection = connection
        connection.on("disconnection", lambda _reason: self._on_disconnection(connection))
        self._peer = peer = Peer(connection)
        self._mtu = await peer.request_mtu(REQUESTED_MTU)
        return await self._discover(peer)

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for proxy in await peer.discover_services():
            service = BleakGATTService(proxy, proxy.handle, bleak_uuid(proxy.uuid))
            collection.add_service(service)
            for char_proxy in await proxy.discover_characteristics():
                props = [name for bit, name in _PROPERTIES if char_proxy.properties & bit]
                char = BleakGATTCharacteristic(char_proxy, char_proxy.handle,
                                               bleak_uuid(char_proxy.uuid), props,
                                               lambda: self._mtu - 3, service)
                collection.add_characteristic(char)
                for desc_proxy in await char_proxy.discover_descriptors():
                    collection.add_descriptor(BleakGATTDescriptor(
                        desc_proxy, desc_proxy.handle, bleak_uuid(desc_proxy.type), char))
        return collection

    async def _teardown(self) -> None:
        connection, self._connection = self._connection, None
        device, self._device = self._device, None
        self._peer = None
        if connection is not None:
            try:
                await connection.disconnect()
            except Exception as exc:  # already gone from the other side
                log.debug("disconnect %s: %r", self.address, exc)
        if device is not None:
            await self._air.remove_device(device)

    def _on_disconnection(self, connection: Connection) -> None:
        if self._connection is not connection:
            return  # we hung up ourselves: bleak calls back only on unsolicited drops
        self._connection = self._peer = None
        for task in list(self._inflight):
            task.cancel()
        if self._disconnected_callback is not None:
            hand_over(self._loop, self._disconnected_callback)

    async def _guarded(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run one ATT operation; a dropped link or an ATT error becomes a bleak error."""
        task = asyncio.ensure_future(coro)
        self._inflight.add(task)
        try:
            return await task
        except asyncio.CancelledError as exc:
            if self._connection is None:
                raise BleakError(f"{self.address}: disconnected during a GATT operation") from exc
            raise
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
        finally:
            self._inflight.discard(task)

    # -- caller's loop helpers -----------------------------------------------------

    async def _io(self, coro: Coroutine[Any, Any, T]) -> T:
        return await self._air.relay(self._guarded(coro))

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"{self.address}: not connected")
        return self._peer
