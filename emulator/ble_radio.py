"""The radio of an emulated air: a bumble link, its loop thread, and devices on it.

``emulator.ble_air.Air`` adds the bleak backends on top; the backends themselves
(``ble_client``, ``ble_scanner``) only need this radio, so nothing imports in a circle.

"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.snoop import BtSnooper
from bumble.transport.common import AsyncPipeSink

from ..drivers.ble_profile import BLE_BACKENDS
from ..drivers.loop_thread import LoopThread

log = logging.getLogger(__name__)
T = TypeVar("T")
CALL_TIMEOUT = 10.0


def hand_over(loop: asyncio.AbstractEventLoop | None, callback: Callable[..., object],
              *args: object) -> None:
    """Call ``callback(*args)`` on another thread's loop; dropped if that loop is gone."""
    if loop is None:
        return
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:  # closed: the bleak caller has finished with us
        log.debug("dropped a callback for a closed event loop")


class Radio:
    """A shared radio environment: start() it, stop() it; ``Air`` is the usual way in."""

    def __init__(self, name: str | None = None, snoop_dir: Path | None = None) -> None:
        self.name = name or f"emu-{secrets.token_hex(3)}"
        #: when set, each device's HCI traffic goes to ``<role>-<n>.btsnoop`` here (Wireshark)
        self.snoop_dir = snoop_dir
        self._snoop_files: dict[int, BinaryIO] = {}
        self.link = LocalLink()  # type: ignore[no-untyped-call]
        self.thread = LoopThread(f"ble air {self.name}")
        # Random static addresses (top bits 11), unique within this air.
        self._numbers = itertools.count(1)
        self._prefix = secrets.token_hex(2).upper()
        self._controllers: dict[int, Controller] = {}
        #: address -> RSSI scanners report; bumble's controller reports -50 for all.
        self.rssi: dict[str, int] = {}

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.thread.stop()
        for file in self._snoop_files.values():
            file.close()
        self._snoop_files.clear()

    @property
    def running(self) -> bool:
        return self.name in BLE_BACKENDS

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT) -> T:
        """Run ``coro`` on the air's loop from another thread and wait for it."""
        return self.thread.run(coro, timeout)

    async def relay(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the air's loop from a coroutine on another loop."""
        if self.thread.on_loop:
            coro.close()
            raise RuntimeError(f"{self.name}: relay() called from the air's own loop")
        return await asyncio.wrap_future(self.thread.submit(coro))

    async def new_device(self, role: str,
                         prepare: Callable[[Device], object] | None = None) -> Device:
        """Power on a bumble device with a fresh controller on this air (call on its loop).

        Args:
            role: a word for logs and the controller's name (``machine``, ``scanner``...).
            prepare: called with the device before it powers on (to add services).
        """
        number = next(self._numbers)
        high, low = divmod(number, 256)
        address = f"C0:{self._prefix[:2]}:{self._prefix[2:]}:00:{high:02X}:{low:02X}"
        controller = Controller(f"{role}-{number}", link=self.link, public_address=address)
        device = Device(name=f"{role}-{number}", address=Address(address),
                        host=Host(controller, AsyncPipeSink(controller)))
        self._controllers[id(device)] = controller
        if self.snoop_dir is not None:
            file = (self.snoop_dir / f"{role}-{number}.btsnoop").open("wb")
            self._snoop_files[id(device)] = file
            device.host.snooper = BtSnooper(file)
        if prepare is not None:
            prepare(device)
        await device.power_on()
        return device

    async def remove_device(self, device: Device) -> None:
        """Take a device off the air (call on its loop)."""
        controller = self._controllers.pop(id(device), None)
        try:
            await device.power_off()
        except Exception as exc:  # a device half torn down already is gone enough
            log.debug("power off %s: %r", device.name, exc)
        if controller is not None and controller in self.link.controllers:
            self.link.remove_controller(controller)
        file = self._snoop_files.pop(id(device), None)
        if file is not None:
            device.host.snooper = None
            file.close()
