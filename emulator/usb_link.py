"""The USB device end of a link: an emulated machine plugged into a virtual bus.

The host reaches it with ``usb://1209:c0fe?serial=SN&backend=BUS``: the bus is
registered as a pyusb backend under its name while a link uses it, so the
host's ``UsbTransport`` runs the same pyusb calls it runs on hardware.
"""

from __future__ import annotations

import threading

from ..drivers.usb_backends import USB_BACKENDS, register_backend, unregister_backend
from ..drivers.usb_protocol import PRODUCT_ID, VENDOR_ID
from .links import DeviceLink, call_later
from .machine import EmulatedMachine
from .usb_backend import EmulatedUsbBus
from .usb_device import EmulatedUsbDevice


class UsbLink(DeviceLink[EmulatedMachine]):
    """One machine as a USB device on ``bus`` (a bus of its own unless one is given)."""

    def __init__(self, machine: EmulatedMachine, bus: EmulatedUsbBus | None = None) -> None:
        super().__init__(machine)
        self.bus = bus if bus is not None else EmulatedUsbBus()
        self.device = EmulatedUsbDevice(machine)
        self._timers: list[threading.Timer] = []

    @property
    def url(self) -> str:
        return (f"usb://{VENDOR_ID:04x}:{PRODUCT_ID:04x}?serial={self.machine.serial}"
                f"&backend={self.bus.name}")

    def start(self) -> None:
        """Register the bus and plug the machine in; the host's transfers drive it."""
        if USB_BACKENDS.get(self.bus.name) is not self.bus:
            register_backend(self.bus.name, self.bus)
        self.plug()
        self.machine.rebooter = lambda: self.replug(reason="reset")

    def plug(self, boot: str | None = None) -> None:
        """Plug in (again): the device enumerates, at a new address; with ``boot`` the
        machine boots, its banner waiting on bulk IN for the host."""
        if self._stop.is_set():
            return
        self.bus.plug(self.device)
        if boot is not None:
            self.machine.boot(boot)

    def replug(self, gap: float = 0.2, reason: str = "replug") -> None:
        """Unplug now and plug in again ``gap`` seconds later (same port, new address);
        the machine then boots. Returns at once."""
        self.unplug()
        call_later(self._timers, gap, self.plug, boot=reason)

    def unplug(self) -> None:
        """Pull the cable: the device leaves the bus and the host's transfers fail."""
        self.bus.unplug(self.device)

    def _serve(self) -> None:
        """Nothing to pump: bulk transfers call into the device directly."""

    def _release(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self.unplug()
        if not self.bus.devices() and USB_BACKENDS.get(self.bus.name) is self.bus:
            unregister_backend(self.bus.name)
