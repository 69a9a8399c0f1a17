"""The USB device end of a link: an emulated machine plugged into a virtual bus.

The host reaches it with ``usb://1209:c0fe?serial=SN&backend=BUS``: the bus is
registered as a pyusb backend under its name while a link uses it, so the
host's ``UsbTransport`` runs the same pyusb calls it runs on hardware.
"""

from __future__ import annotations

from ..drivers.usb_backends import USB_BACKENDS, register_backend, unregister_backend
from ..drivers.usb_protocol import PRODUCT_ID, VENDOR_ID
from .links import DeviceLink
from .machine import EmulatedMachine
from .usb_backend import EmulatedUsbBus
from .usb_device import EmulatedUsbDevice


class UsbLink(DeviceLink[EmulatedMachine]):
    """One machine as a USB device on ``bus`` (a bus of its own unless one is given)."""

    def __init__(self, machine: EmulatedMachine, bus: EmulatedUsbBus | None = None) -> None:
        super().__init__(machine)
        self.bus = bus if bus is not None else EmulatedUsbBus()
        self.device = EmulatedUsbDevice(machine)

    @property
    def url(self) -> str:
        return (f"usb://{VENDOR_ID:04x}:{PRODUCT_ID:04x}?serial={self.machine.serial}"
                f"&backend={self.bus.name}")

    def start(self) -> None:
        """Register the bus and plug the machine in; the host's transfers drive it."""
        if USB_BACKENDS.get(self.bus.name) is not self.bus:
            register_backend(self.bus.name, self.bus)
        self.plug()

    def plug(self) -> None:
        """Plug in (again): the device enumerates, at a new address."""
        self.bus.plug(self.device)

    def unplug(self) -> None:
        """Pull the cable: the device leaves the bus and the host's transfers fail."""
        self.bus.unplug(self.device)

    def _serve(self) -> None:
        """Nothing to pump: bulk transfers call into the device directly."""

    def _release(self) -> None:
        self.unplug()
        if not self.bus.devices() and USB_BACKENDS.get(self.bus.name) is self.bus:
            unregister_backend(self.bus.name)
