"""Bluetooth LE transport over bleak: find a machine by advertisement, stream frames over GATT.

    ble://name=CM-Lobby                  the machine advertising this local name
    ble://address=C0:FF:EE:00:00:01      by Bluetooth address (a UUID on macOS)
    ble://service=c0ffee00-...           the first machine advertising this service
      ?scan=10        seconds to look for it before giving up (default 10)
      &connect=20     seconds to connect and discover its services (default 20)
      &write=response|command   write with response (default) or without
      &adapter=hci1   Linux: the BlueZ adapter to use (default: BlueZ's own choice)
      &linger=3       after disconnecting, listen up to 3 s for what the machine
                      advertises once the bench has left (default 0: don't)
      &backend=NAME   a bleak backend from ``BLE_BACKENDS`` (default: the platform's)
      &gatt=NAME      the family's GATT layout from ``GATT_LAYOUTS`` (default: cm500;
                      a family's defaults set it, e.g. ``family=ecam``)

bleak is asyncio; the driver above is blocking. Each transport runs its own event
loop on its own thread (``LoopThread``) and blocks the caller on it with a bound.
Notifications are stamped on arrival and queued; a consumer thread hands them to
the connection in order, so a slow observer never stalls bleak and nothing is lost.
Everything bleak raises is turned into brewbench's typed errors naming the device.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bleak import BleakClient, BleakScanner
from bleak.args.bluez import BlueZClientArgs, BlueZScannerArgs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)

from .ble_adverts import Advert, advert_record
from .ble_host import scan_failure
from .ble_profile import (
    BLE_BACKENDS,
    CM500_LAYOUT,
    MAX_ATTRIBUTE_VALUE,
    PLATFORM,
    BleBackend,
    GattLayout,
)
from .ecam.gatt import ECAM_LAYOUT
from .errors import (
    DeviceDisconnected,
    DeviceError,
    DeviceNotFound,
    DeviceRejected,
    DeviceSpecError,
    Timeout,
)
from .loop_thread import LoopThread
from .records import RX, Chunk, Record, Stamp
from .specs import check_params
from .transport import LinkEvents, Transport

log = logging.getLogger(__name__)
SELECTORS = ("name", "address", "service")
PARAMS = {"scan", "connect", "write", "backend", "adapter", "linger", "gatt"}
#: name -> the GATT layout a ``?gatt=`` parameter picks
GATT_LAYOUTS: dict[str, GattLayout] = {CM500_LAYOUT.name: CM500_LAYOUT,
                                       ECAM_LAYOUT.name: ECAM_LAYOUT}
MAX_ADVERTS = 64  # distinct advertisements kept per device while scanning
SLACK = 5.0  # seconds added to bleak's own bounds before the caller gives up


@dataclass(frozen=True)
class Selector:
    """Which advertisement picks the device: by name, address or service UUID."""

    kind: str
    value: str

    def matches(self, device: BLEDevice, adv: AdvertisementData) -> bool:
        if self.kind == "name":
            return self.value in (adv.local_name, device.name)
        if self.kind == "address":
            return device.address.lower() == self.value.lower()
        return self.value.lower() in adv.service_uuids

    def __str__(self) -> str:
        return f"{self.kind}={self.value}"


class BleTransport(Transport):
    """A coffee machine's protocol stream over its vendor GATT service."""

    channel = "ble"

    def __init__(self, selector: Selector, device: str | None = None,
                 backend: BleBackend = PLATFORM, scan_timeout: float = 10.0,
                 connect_timeout: float = 20.0, with_response: bool = True,
                 adapter: str | None = None, linger: float = 0.0,
                 layout: GattLayout = CM500_LAYOUT) -> None:
        super().__init__(device or f"ble://{selector}")
        self.layout = layout
        self.selector = selector
        self.backend = backend
        self.scan_timeout = scan_timeout
        self.connect_timeout = connect_timeout
        self.with_response = with_response
        self.adapter = adapter
        self.linger = linger
        self.address = ""
        self.name = ""
        self.mtu = 0
        self.device_information: dict[str, str] = {}
        self._thread: LoopThread | None = None
        self._client: BleakClient | None = None
        self._write_char: BleakGATTCharacteristic | None = None
        self._inbox: queue.SimpleQueue[Chunk | DeviceError | None] = queue.SimpleQueue()
        self._consumer: threading.Thread | None = None
        self._lost: DeviceError | None = None
        self._closing = False
        self._stage = "closed"  # scanning, connecting, open: says what a failure means
        self._events: LinkEvents | None = None

    # -- Transport ------------------------------------------------------------

    def open(self, events: LinkEvents) -> None:
        self._closing, self._lost, self._events = False, None, events
        self._thread = LoopThread(f"ble {self.device}")
        self._thread.start()
        self._consumer = threading.Thread(target=self._consume, args=(events,),
                                          name=f"ble consumer {self.device}", daemon=True)
        self._consumer.start()
        try:
            with self._mapped("connecting"):
                self._thread.run(self._open(events),
                                 self.scan_timeout + self.connect_timeout + SLACK)
        except BaseException:
            self.close()
            raise

    def write(self, data: bytes) -> Stamp:
        thread = self._thread
        if thread is None or self._lost is not None:
            raise DeviceDisconnected(self.device, f"BLE link is down ({self._lost or 'not open'}); "
                                     "reconnect first")
        stamp = Stamp.now()
        with self._mapped("writing"):
            thread.run(self._write(data), self.connect_timeout + SLACK)
        return stamp

    def close(self) -> None:
        self._closing = True
        thread, self._thread = self._thread, None
        if thread is not None:
            if self._client is not None:
                try:
                    thread.run(self._client.disconnect(), self.connect_timeout)
                except Exception as exc:  # gone already: nothing left to release
                    log.debug("%s: disconnect: %r", self.device, exc)
            if self.linger > 0 and self.address and self._events is not None:
                try:
                    thread.run(self._listen_after(self._events), self.linger + SLACK)
                except Exception as exc:  # closing must not fail over a last look around
                    log.debug("%s: listening after disconnect: %r", self.device, exc)
            thread.stop()
        self._client = None
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            self._inbox.put(None)
            if consumer is not threading.current_thread():
                consumer.join(timeout=5)

    def describe(self) -> dict[str, str]:
        facts = {"transport": self.channel, "selector": str(self.selector),
                 "backend": self.backend.name}
        if self.adapter:
            facts["adapter"] = self.adapter
        if self.layout is not CM500_LAYOUT:
            facts["gatt"] = self.layout.name
        if self.address:
            facts.update(address=self.address, name=self.name, mtu=str(self.mtu))
        return facts

    # -- on the transport's loop --------------------------------------------------

    async def _open(self, events: LinkEvents) -> None:
        self._stage = "scanning"
        device, adverts = await self._find(self.selector, self.scan_timeout)
        self._stage = "connecting"
        self.address, self.name = device.address, device.name or ""
        for stamp, advert, rssi in adverts:
            events.note(advert_record(device.address, advert, rssi, stamp))
        client = BleakClient(device, disconnected_callback=self._on_disconnect,
                             timeout=self.connect_timeout,
                             bluez=BlueZClientArgs(adapter=self.adapter) if self.adapter else {},
                             **self.backend.client_args())
        await client.connect()
        self._client = client
        layout = self.layout
        service = client.services.get_service(layout.service)
        if service is None:
            raise DeviceNotFound(self.device, f"{device.address} has no coffee-machine service "
                                 f"({layout.service}, {layout.name} layout); is this the "
                                 "right device and family?")
        write_char = service.get_characteristic(layout.write)
        notify_char = service.get_characteristic(layout.notify)
        if write_char is None or notify_char is None:
            raise DeviceNotFound(self.device, f"{device.address}'s coffee-machine service lacks "
                                 "its write or notify characteristic")
        self._write_char = write_char
        self.mtu = client.mtu_size
        self.max_write = (MAX_ATTRIBUTE_VALUE if self.with_response
                          else write_char.max_write_without_response_size)
        await self._read_device_information(client, events)
        await client.start_notify(notify_char, self._on_notify)
        self._stage = "open"

    async def _listen_after(self, events: LinkEvents) -> None:
        """Record what the machine advertises once the bench has disconnected."""
        try:
            _, adverts = await self._find(Selector("address", self.address), self.linger)
        except DeviceNotFound:
            return  # it stayed quiet: nothing to record
        for stamp, advert, rssi in adverts:
            events.note(advert_record(self.address, advert, rssi, stamp))

    async def _find(self, selector: Selector,
                    timeout: float) -> tuple[BLEDevice, list[tuple[Stamp, Advert, int]]]:
        found: asyncio.Future[BLEDevice] = asyncio.get_running_loop().create_future()
        heard: dict[str, list[tuple[Stamp, Advert, int]]] = {}
        names: dict[str, str] = {}

        def on_advert(device: BLEDevice, adv: AdvertisementData) -> None:
            advert = Advert(adv.local_name, dict(adv.manufacturer_data), dict(adv.service_data),
                            list(adv.service_uuids), adv.tx_power)
            seen = heard.setdefault(device.address, [])
            if len(seen) < MAX_ADVERTS and all(a != advert for _, a, _ in seen):
                seen.append((Stamp.now(), advert, adv.rssi))
            names[device.address] = adv.local_name or device.name or device.address
            if not found.done() and selector.matches(device, adv):
                found.set_result(device)

        uuids = [selector.value.lower()] if selector.kind == "service" else None
        bluez = BlueZScannerArgs(adapter=self.adapter) if self.adapter else {}
        async with BleakScanner(on_advert, uuids, bluez=bluez, **self.backend.scanner_args()):
            try:
                device = await asyncio.wait_for(found, timeout)
            except TimeoutError as exc:
                heard_of = ", ".join(sorted(set(names.values()))) or "nothing"
                raise DeviceNotFound(self.device, f"no BLE device with {selector} within "
                                     f"{timeout:g}s (heard: {heard_of}); check it is "
                                     "powered, in range and not connected to a phone, or raise "
                                     "?scan=") from exc
        return device, heard.get(device.address, [])

    async def _read_device_information(self, client: BleakClient, events: LinkEvents) -> None:
        """Read the Device Information Service, recording each read as GATT traffic."""
        for uuid, name in self.layout.reads.items():
            char = client.services.get_characteristic(uuid)
            if char is None or "read" not in char.properties:
                continue
            value = bytes(await client.read_gatt_char(char))
            text = value.decode(errors="replace")
            self.device_information[name] = text
            events.note(Record(self.channel, RX, Stamp.now(), value,
                               meta={"gatt": "read", "uuid": uuid, "field": name, "value": text}))

    async def _write(self, data: bytes) -> None:
        client, char = self._client, self._write_char
        if client is None or char is None:
            raise DeviceDisconnected(self.device, "BLE link is not open; connect first")
        step = self.max_write
        for start in range(0, len(data), step):
            await client.write_gatt_char(char, data[start : start + step],
                                         response=self.with_response)

    def _on_notify(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        self._inbox.put(Chunk(bytes(data), Stamp.now()))

    def _on_disconnect(self, _client: BleakClient) -> None:
        if not self._closing:
            self._inbox.put(DeviceDisconnected(
                self.device, "the machine dropped the BLE link; check it is powered and in "
                "range, then reconnect"))

    # -- consumer thread ---------------------------------------------------------------

    def _consume(self, events: LinkEvents) -> None:
        while (item := self._inbox.get()) is not None:
            if isinstance(item, Chunk):
                events.received(item)
            else:
                self._lost = item
                events.lost(item)

    # -- errors ------------------------------------------------------------------------

    @contextmanager
    def _mapped(self, doing: str) -> Iterator[None]:
        """Turn bleak's and asyncio's errors into brewbench's, naming the device."""
        try:
            yield
        except DeviceError:
            raise
        except BleakBluetoothNotAvailableError as exc:
            raise DeviceNotFound(self.device, f"Bluetooth is not available ({exc}); see "
                                 "docs/hardware.md for adapter and permission setup") from exc
        except BleakDeviceNotFoundError as exc:
            raise DeviceNotFound(self.device, f"{doing}: the stack does not know {exc.identifier}; "
                                 "scan again with the machine advertising") from exc
        except BleakGATTProtocolError as exc:
            raise DeviceRejected(self.device, int(exc.code), exc.code.name,
                                 f"GATT error while {doing}") from exc
        except TimeoutError as exc:
            raise Timeout(self.device, f"{doing} took too long; check the machine is in range "
                          "or raise ?connect=") from exc
        except (BleakError, OSError, EOFError) as exc:
            if self._stage == "scanning":
                raise DeviceNotFound(self.device, f"cannot scan: {scan_failure(exc)}") from exc
            if self._stage == "connecting":
                raise DeviceNotFound(self.device, f"found {self.address} but could not connect "
                                     f"({exc}); a machine takes one central at a time: close its "
                                     "phone app, then retry") from exc
            if self._client is not None and self._client.is_connected:
                raise DeviceError(self.device, f"{doing} failed: {exc}") from exc
            raise DeviceDisconnected(self.device, f"{doing} failed, the BLE link is down ({exc}); "
                                     "check the machine is powered and in range") from exc


def transport_from_spec(text: str, target: str, params: dict[str, str]) -> BleTransport:
    """Build a ``BleTransport`` from the parts of a ``ble://`` spec.

    Raises:
        DeviceSpecError: no or an unknown selector, unknown parameters or backend.
    """
    kind, sep, value = target.partition("=")
    if not sep or kind not in SELECTORS or not value:
        raise DeviceSpecError(f"{text}: expected ble://name=..., ble://address=... or "
                              "ble://service=UUID")
    check_params(text, "ble", params, PARAMS)
    backend = BLE_BACKENDS.get(params.get("backend", PLATFORM.name))
    if backend is None:
        raise DeviceSpecError(f"{text}: no BLE backend {params['backend']!r}; known: "
                              f"{', '.join(sorted(BLE_BACKENDS))} (emulated ones exist only "
                              "while their emulator runs)")
    layout = GATT_LAYOUTS.get(params.get("gatt", CM500_LAYOUT.name))
    if layout is None:
        raise DeviceSpecError(f"{text}: no GATT layout {params['gatt']!r}; known: "
                              f"{', '.join(sorted(GATT_LAYOUTS))}")
    write = params.get("write", "response")
    if write not in ("response", "command"):
        raise DeviceSpecError(f"{text}: write={write!r}; use write=response or write=command")
    return BleTransport(Selector(kind, value), text, backend,
                        scan_timeout=_seconds(text, params, "scan", 10.0),
                        connect_timeout=_seconds(text, params, "connect", 20.0),
                        with_response=write == "response", adapter=params.get("adapter"),
                        linger=_seconds(text, params, "linger", 0.0, allow_zero=True),
                        layout=layout)


def _seconds(text: str, params: dict[str, str], name: str, default: float,
             allow_zero: bool = False) -> float:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (value > 0 or (allow_zero and value == 0)):  # also refuses nan
        raise DeviceSpecError(f"{text}: {name}={raw!r} must be a positive number of seconds")
    return value
