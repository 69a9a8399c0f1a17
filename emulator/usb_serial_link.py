"""An emulated machine behind a USB serial port (CDC-ACM) that can be re-plugged.

The port is a pty listed with USB ids, serial number and location by an
``EmulatedSerialPorts`` (emulator/serial_ports.py), so the host finds it with
``serial+usb://1209:c0fe?serial=SN&backend=NAME`` as it finds a real one. Every
plug makes a new pty, as re-enumeration makes a new ``/dev/ttyACMn``: after
``replug`` the old path is gone (the host's reads end) and the machine is back
under a new one at the same location, where it boots and prints its banner.

Like CDC-ACM firmware that waits for the host to open the port (DTR) before it
talks, the machine boots only once the host has the new port open: pyserial
flushes what arrived before its open completed, so a banner sent earlier would
be lost on a pty, and on hardware it never reaches a port nobody has open.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty

from ..drivers.usb_protocol import PRODUCT_ID, VENDOR_ID
from .links import CHUNK, DeviceLink, call_later, write_all
from .machine import EmulatedMachine
from .serial_ports import EmulatedSerialPorts

BOOT_DELAY = 0.1  # seconds from the host's open to the banner: the firmware starting up
BOOT_PATIENCE = 30.0  # how long a re-plugged machine waits for the host before it boots anyway
POLL = 0.05


class _Pty:
    """One plug's port: the emulator holds the master; the host opens the slave's path.

    The emulator does not keep the slave open, so the master reports a hang-up
    while no host has the port open; that is how the link sees the host arrive.
    """

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(self.master, False)
        self._poll = select.poll()
        self._poll.register(self.master, select.POLLIN)
        self._lock = threading.Lock()
        self.closed = False

    def host_has_it_open(self) -> bool:
        return not any(ev & select.POLLHUP for _, ev in self._poll.poll(0))

    def read(self) -> bytes:
        """What the host wrote, or b"" after POLL seconds (or while no host has it open)."""
        events = self._poll.poll(POLL * 1000)
        if any(ev & select.POLLIN for _, ev in events):
            with contextlib.suppress(BlockingIOError, OSError):  # EIO: the host just closed
                return os.read(self.master, CHUNK)
        if events:  # a hang-up: poll returns at once, so wait here instead of spinning
            time.sleep(POLL)
        return b""

    def write(self, data: bytes) -> None:
        with self._lock:
            write_all(self.master, data, lambda: self.closed)

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                self.closed = True
                os.close(self.master)  # the path disappears, the host's reads end


class UsbSerialLink(DeviceLink[EmulatedMachine]):
    """One machine as a USB serial port on ``ports`` (a list of its own unless given)."""

    def __init__(self, machine: EmulatedMachine, ports: EmulatedSerialPorts | None = None) -> None:
        super().__init__(machine)
        self.ports = ports if ports is not None else EmulatedSerialPorts()
        self.location = self.ports.reserve()
        self._pty: _Pty | None = None
        self._boot: str | None = None  # why the machine boots once the host opens the port
        self._plug_lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._last_path = ""
        self.plugs = 0

    @property
    def url(self) -> str:
        """The spec that finds the port wherever it is (its path changes on re-plug)."""
        return (f"serial+usb://{VENDOR_ID:04x}:{PRODUCT_ID:04x}?serial={self.machine.serial}"
                f"&backend={self.ports.name}")

    @property
    def path(self) -> str:
        """The pty path of the current plug ("" while unplugged)."""
        pty = self._pty
        return pty.path if pty is not None else ""

    def start(self) -> None:
        self.ports.use()
        self.plug()
        self.machine.rebooter = lambda: self.replug(reason="reset")
        super().start()

    def plug(self, boot: str | None = None) -> None:
        """Plug in (again) under a new path; with ``boot``, the machine boots (banner and
        all) once the host has opened the new port."""
        with self._plug_lock:
            if self._pty is not None or self._stop.is_set():
                return
            pty = _Pty()
            if pty.path == self._last_path:
                # The kernel hands out the lowest free pty number, so the old path comes
                # back once the host has let go of it; take the next one instead, as a
                # device re-enumerating while its old /dev/ttyACMn is still held does.
                pty, old = _Pty(), pty
                old.close()
            self._last_path = pty.path
            self._boot = boot
            self.machine.attach(pty.write, self.unplug)
            self._pty = pty
            self.plugs += 1
            self.ports.plug(self.location, pty.path, self.machine.serial,
                            f"{self.machine.profile.model} coffee machine")

    def unplug(self) -> None:
        """Pull the cable: the port leaves the list and its path goes away."""
        with self._plug_lock:
            pty, self._pty = self._pty, None
            if pty is None:
                return
            self.ports.unplug(self.location)
            self.machine.detach()
            pty.close()

    def replug(self, gap: float = 0.2, reason: str = "replug") -> None:
        """Unplug now and plug in again ``gap`` seconds later under a new path; the
        machine then boots. Returns at once."""
        self.unplug()
        call_later(self._timers, gap, self.plug, boot=reason)

    def _serve(self) -> None:
        while not self._stop.is_set():
            pty = self._pty
            if pty is None:
                time.sleep(POLL)
                continue
            if self._boot is not None:
                self._boot_when_opened(pty)
            data = pty.read()
            if data and pty is self._pty:
                self.machine.feed(data)

    def _boot_when_opened(self, pty: _Pty) -> None:
        """Boot once the host has the port open (or after BOOT_PATIENCE without it)."""
        waited = time.monotonic()
        while not pty.host_has_it_open() and time.monotonic() - waited < BOOT_PATIENCE:
            if self._stop.wait(POLL) or pty.closed:
                return
        reason, self._boot = self._boot, None
        time.sleep(BOOT_DELAY)
        if pty is self._pty and reason is not None:
            self.machine.boot(reason)

    def _release(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self.unplug()
        self.ports.release()
