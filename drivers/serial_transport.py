"""Serial transport over any pyserial URL: a device path, socket://, rfc2217://, loop://."""

from __future__ import annotations

import contextlib
import os
import select

import serial

from .errors import DeviceDisconnected, DeviceNotFound, DeviceSpecError
from .records import Stamp
from .transport import LinkEvents, ReaderThread, Transport

# URL handlers whose ports refuse a write timeout (pyserial's RFC 2217 client raises
# NotImplementedError for any); writes there go to a socket and do not block on a device.
NO_WRITE_TIMEOUT = ("rfc2217://",)
READ_TIMEOUT = 0.05  # how often a reader without a file descriptor looks up to see whether to stop
# A reader waiting in select() is woken by its wake pipe when the link closes, so closing
# costs no timeout; this bound only backs up a wake that never came.
SELECT_TIMEOUT = 1.0
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
        self._wake: tuple[int, int] | None = None  # read and write ends of the wake pipe

    def open(self, events: LinkEvents) -> None:
        write_timeout = None if self.url.startswith(NO_WRITE_TIMEOUT) else 5
        try:
            port = serial.serial_for_url(self.url, baudrate=self.baudrate,
                                         timeout=READ_TIMEOUT, write_timeout=write_timeout)
        except (ValueError, NotImplementedError) as exc:
            raise DeviceSpecError(f"{self.device}: pyserial cannot use {self.url!r}: {exc}") from exc
        except serial.SerialException as exc:
            if "expected a string in the form" in str(exc):  # pyserial wraps its URL ValueError
                reason = str(exc).partition(f"{self.url}: ")[2] or str(exc)
                raise DeviceSpecError(f"{self.device}: pyserial cannot use {self.url!r}: "
                                      f"{reason}") from exc
            raise DeviceNotFound(self.device, f"cannot open serial port {self.url!r} ({exc}); "
                                 f"{_hint(self.url, str(exc))}") from exc
        self._port = port
        self._fd = _fileno(port)
        if self._fd is not None:
            port.timeout = 0  # the reader waits in select(); read() then takes all there is
            self._wake = os.pipe()
        self._reader = ReaderThread(self.device, self._read_some, events)
        self._reader.start()

    def _read_some(self) -> bytes:
        port = self._port
        if port is None:
            return b""
        if self._fd is None:  # URL handlers without a file descriptor (socket://, loop://)
            return bytes(port.read(port.in_waiting or 1))
        watched = [self._fd] if self._wake is None else [self._fd, self._wake[0]]
        ready, _, _ = select.select(watched, [], [], SELECT_TIMEOUT)
        return bytes(port.read(CHUNK)) if self._fd in ready else b""

    def write(self, data: bytes) -> Stamp:
        port = self._port
        if port is None:
            raise DeviceDisconnected(self.device, "serial port is not open; connect first")
        stamp = Stamp.now()
        try:
            port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise DeviceDisconnected(self.device, f"write to {self.url!r} failed ({exc}); "
                                     "the device may have been unplugged") from exc
        return stamp

    def close(self) -> None:
        if self._reader is not None:
            if self._wake is not None:
                os.write(self._wake[1], b"x")  # the reader leaves select() at once
            self._reader.stop()
            self._reader = None
        if self._wake is not None:
            for end in self._wake:
                os.close(end)
            self._wake = None
        if self._port is not None:
            port, self._port = self._port, None
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()  # a port that is gone already needs no closing

    def describe(self) -> dict[str, str]:
        return {"transport": self.channel, "port": self.url, "baud": str(self.baudrate)}


def _hint(url: str, error: str) -> str:
    """What to check when a port does not open: a local path, or a server behind a URL."""
    if url.startswith("rfc2217://") and "option 'control'" in error:
        return ("the server does not confirm modem lines (ser2net on a pty does not); "
                "add ?ign_set_control to the spec")
    if "://" in url:
        return ("check that the server is running, reachable on that host and port, "
                "and speaks that protocol")
    return ("check the path (python -m serial.tools.list_ports lists ports), that the device "
            "is plugged in and that you may open it (dialout group)")


def _fileno(port: serial.SerialBase) -> int | None:
    """The port's file descriptor, where the platform and URL handler have one."""
    try:
        return int(port.fileno())
    except (AttributeError, OSError, ValueError, serial.SerialException):
        return None
