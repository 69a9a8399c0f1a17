"""Serial transport over any pyserial URL: a device path, socket://, rfc2217://, loop://."""

from __future__ import annotations

import contextlib
import os
import select
from collections.abc import Callable

import serial

from .errors import DeviceDisconnected, DeviceNotFound, DeviceSpecError
from .records import Stamp
from .transport import LinkEvents, ReaderThread, Transport

READ_TIMEOUT = 0.05  # how often the reader looks up to see whether it should stop
CHUNK = 1 << 16


class SerialTransport(Transport):
    """A serial port opened with ``serial.serial_for_url``."""

    channel = "serial"

    def __init__(self, url: str, baudrate: int = 115200, device: str | None = None) -> None:
        super().__init__(device or url)
        self.url = url
        self.baudrate = baudrate
        self._port: serial.SerialBase | None = None
        self._fd: int | None = None
        self._reader: ReaderThread | None = None
        self._wake: tuple[int, int] | None = None  # a pipe that ends a wait in select()

    def open(self, events: LinkEvents) -> None:
        try:
            port = serial.serial_for_url(self.url, baudrate=self.baudrate,
                                         timeout=READ_TIMEOUT, write_timeout=5)
        except ValueError as exc:
            raise DeviceSpecError(f"{self.device}: pyserial cannot use {self.url!r}: {exc}") from None
        except serial.SerialException as exc:
            raise DeviceNotFound(self.device, f"cannot open serial port {self.url!r} ({exc}); "
                                 "check the path (python -m serial.tools.list_ports lists "
                                 "ports), that the device is plugged in and that you may "
                                 "open it (dialout group)") from None
        self._port = port
        self._fd = _fileno(port)
        if self._fd is None:  # URL handlers without a file descriptor (socket://, loop://)
            self._reader = ReaderThread(self.device, self._read_blocking, events)
        else:
            port.timeout = 0  # readers wait in select(); read() then takes all there is
            self._wake = os.pipe()
            for fd in self._wake:  # two threads may find it ready; only one drains it
                os.set_blocking(fd, False)
            self._reader = ReaderThread(self.device, self._read_ready, events,
                                        self._wait_ready, self._interrupt)
        self._reader.start()

    def _read_blocking(self) -> bytes:
        port = self._port
        return b"" if port is None else bytes(port.read(port.in_waiting or 1))

    def _wait_ready(self, timeout: float) -> bool:
        """Wait until bytes can be read (True) or ``timeout``/``_interrupt`` (False)."""
        wake = self._wake
        if wake is None or self._fd is None:
            return False
        ready, _, _ = select.select([self._fd, wake[0]], [], [], timeout)
        if wake[0] in ready:
            with contextlib.suppress(BlockingIOError):  # the other thread drained it
                os.read(wake[0], 512)
        return self._fd in ready

    def _read_ready(self) -> bytes:
        port = self._port
        return b"" if port is None else bytes(port.read(CHUNK))  # timeout 0: never blocks

    def _interrupt(self) -> None:
        """Make a wait in ``_wait_ready`` return now."""
        wake = self._wake
        if wake is not None:
            with contextlib.suppress(OSError):  # full (a wake-up is pending) or closed
                os.write(wake[1], b"!")

    def exchange(self, send: Callable[[], None], done: Callable[[], bool],
                 timeout: float) -> bool:
        reader = self._reader
        return reader is not None and reader.exchange(send, done, timeout)

    def write(self, data: bytes) -> Stamp:
        port = self._port
        if port is None:
            raise DeviceDisconnected(self.device, "serial port is not open; connect first")
        stamp = Stamp.now()
        try:
            port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise DeviceDisconnected(self.device, f"write to {self.url!r} failed ({exc}); "
                                     "the device may have been unplugged") from None
        return stamp

    def close(self) -> None:
        if self._reader is not None:
            self._reader.stop()
            self._reader = None
        if self._port is not None:
            port, self._port = self._port, None
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()  # a port that is gone already needs no closing
        if self._wake is not None:
            wake, self._wake = self._wake, None
            for fd in wake:
                os.close(fd)

    def describe(self) -> dict[str, str]:
        return {"transport": self.channel, "port": self.url, "baud": str(self.baudrate)}


def _fileno(port: serial.SerialBase) -> int | None:
    """The port's file descriptor, where the platform and URL handler have one."""
    try:
        return int(port.fileno())
    except (AttributeError, OSError, ValueError, serial.SerialException):
        return None
