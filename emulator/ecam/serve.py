"""Serve an emulated ECAM machine on a private emulated air, as emu://?family=ecam does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .machine import EmulatedEcam

if TYPE_CHECKING:
    from .ble import EcamBleLink

__all__ = ["TRANSPORTS", "EcamEmulator", "check_transport"]

TRANSPORTS = ("ble",)


def check_transport(transport: str) -> None:
    """Refuse a transport ECAM machines do not have.

    Raises:
        ValueError: anything but ``ble``.
    """
    if transport not in TRANSPORTS:
        raise ValueError(f"an ECAM machine is reached over Bluetooth LE only "
                         f"(transport=ble), not transport={transport}")


class EcamEmulator:
    """One emulated ECAM machine on a BLE air of its own; a context manager."""

    family = "ecam"

    def __init__(self, firmware: str = "1.0", transport: str = "ble",
                 serial: str | None = None, device_information: bool = True) -> None:
        check_transport(transport)
        self.transport = transport
        self.machine = EmulatedEcam(firmware, serial)
        from .ble import EcamBleLink  # bumble costs ~0.3 s to import: only for an ECAM machine

        self.link: EcamBleLink = EcamBleLink(self.machine)
        self.link.device_information = device_information

    @property
    def url(self) -> str:
        return self.link.url

    @property
    def spec(self) -> str:
        """The device spec a host opens: the peripheral on the air, the ECAM family."""
        return f"{self.url}&family=ecam"

    def __enter__(self) -> EcamEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
