"""Serve an emulated Jura machine on a pty or a TCP socket, as emu://?family=jura does."""

from __future__ import annotations

from ..links import DeviceLink, PtyLink, TcpLink
from .machine import EmulatedJura
from .pacer import MACHINE_PACE

__all__ = ["JuraEmulator"]

TRANSPORTS = ("serial", "socket")


class JuraEmulator:
    """One emulated Jura machine on one serial-like link; a context manager."""

    family = "jura"

    def __init__(self, firmware: str | None = None, transport: str = "serial",
                 serial: str | None = None, model: str | None = None,
                 pace: float = MACHINE_PACE) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"an emulated Jura machine is served over {' or '.join(TRANSPORTS)}, "
                             f"not {transport!r} (its service port is a UART)")
        self.transport = transport
        self.machine = EmulatedJura(firmware, serial, model, pace)
        self.link: DeviceLink[EmulatedJura] = (PtyLink(self.machine) if transport == "serial"
                                               else TcpLink(self.machine))

    @property
    def url(self) -> str:
        return self.link.url

    @property
    def spec(self) -> str:
        """The device spec a host opens: the link, the Jura family and the model emulated
        (as a lab names a real machine whose ``TY:`` answer other models share)."""
        base = f"serial://{self.url}" if self.transport == "serial" else f"serial+{self.url}"
        return f"{base}?family=jura&model={self.machine.model.name}"

    def __enter__(self) -> JuraEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
