"""Start an emulated machine behind a link, as ``brewbench emulate`` and emu:// specs do."""

from __future__ import annotations

from collections.abc import Callable

from .flash import flash_for
from .links import DeviceLink, PtyLink, TcpLink
from .machine import EmulatedMachine
from .uplink import Resolve, Uplink
from .uplink_profiles import uplink_profile
from .usb_link import UsbLink
from .usb_serial_link import UsbSerialLink

LinkFactory = Callable[[EmulatedMachine], DeviceLink[EmulatedMachine]]


def _ble_link(machine: EmulatedMachine) -> DeviceLink[EmulatedMachine]:
    """A BLE peripheral on a private air (bumble is imported only when asked for)."""
    from .ble_link import BleLink

    return BleLink(machine)


#: transport name -> device end of the link; a new emulated transport adds one entry.
LINKS: dict[str, LinkFactory] = {
    "serial": PtyLink,
    "socket": TcpLink,
    "usb": UsbLink,
    "usb-serial": UsbSerialLink,
    "ble": _ble_link,
}

#: transports whose device end is an object in this process (the USB link's pyusb
#: backend, the BLE link's emulated air): only code in the same process reaches
#: them, so ``brewbench emulate`` cannot serve them to other programs.
IN_PROCESS = frozenset({"usb", "usb-serial", "ble"})


class Emulator:
    """One emulated machine served on one link; a context manager.

    ``spec`` is the device spec a host uses to reach it with the real client library.
    ``faults`` switches on emulator faults from the start, in the spec form
    (``"flood"``, ``"babble:50M,slow_drip:5"``; see emulator/faults.py); ``inject``
    switches on more while it serves.
    ``unit`` names the flash it shares with every other emulator of that unit in the
    process (emulator/flash.py); ``noise`` and ``seed`` give it a real machine's manners
    (emulator/field_noise.py).
    With ``resolve`` (the bench's DNS for it) a firmware with a cloud connection
    sends its uplink (emulator/uplink.py); without it the machine stays offline.
    """

    def __init__(self, firmware: str = "2.1", transport: str = "serial",
                 serial: str | None = None, resolve: Resolve | None = None,
                 faults: str = "", *, unit: str | None = None, noise: bool | None = None,
                 seed: int | None = None) -> None:
        factory = LINKS.get(transport)
        if factory is None:
            raise ValueError(f"no emulated transport {transport!r}; known: {', '.join(sorted(LINKS))}")
        self.transport = transport
        flash = flash_for(unit, first_boot=seed or 0) if unit is not None else None
        self.machine = EmulatedMachine(firmware, serial=serial, flash=flash, noise=noise,
                                       seed=seed)
        self.machine.inject(faults)  # ValueError names the known faults
        self.link = factory(self.machine)
        cloud = uplink_profile(self.machine.profile.version)
        if resolve is not None and cloud is not None:
            self.machine.uplink = Uplink(cloud, self.machine.serial, self.machine.profile.version,
                                         resolve)

    @property
    def url(self) -> str:
        """What the real client library opens (a pty path, a socket:// URL, a ble:// spec)."""
        return self.link.url

    @property
    def spec(self) -> str:
        """The device spec for this emulator's link (a USB link's url is its spec)."""
        if self.transport == "serial":
            return f"serial://{self.url}"
        if self.transport == "socket":
            return f"serial+{self.url}"
        return self.url

    def inject(self, faults: str) -> None:
        """Switch on faults in the spec form; ValueError names the known ones."""
        self.machine.inject(faults)

    def replug(self, gap: float = 0.2) -> None:
        """Pull the machine's cable and plug it in again ``gap`` seconds later, as a new
        device (a new pty path, a new USB address); it then boots and prints its banner.
        Returns at once. Only links that re-enumerate can (``usb``, ``usb-serial``).

        Raises:
            ValueError: this transport has no cable to pull.
        """
        if not isinstance(self.link, UsbLink | UsbSerialLink):
            raise ValueError(f"transport {self.transport!r} cannot be re-plugged; "
                             "use transport=usb-serial or transport=usb")
        self.link.replug(gap)

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self.machine.uplink is not None:
            self.machine.uplink.start()
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        if self.machine.uplink is not None:
            self.machine.uplink.stop()
