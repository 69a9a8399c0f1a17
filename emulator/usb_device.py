"""The device side of an emulated USB coffee machine: endpoints, control requests, faults.

An ``EmulatedUsbDevice`` wraps one ``EmulatedMachine``. What the machine sends
is queued on bulk IN as the packets a device controller would put on the wire
(64-byte packets, a short packet or zero-length packet ending each write);
what the host writes on bulk OUT is fed to the machine. Errors are raised as
libusb reports them through pyusb (``usb_error``), so the host sees the same
``USBError``/``USBTimeoutError`` codes and errno values as on hardware.
"""

from __future__ import annotations

import errno
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import usb.core

from ..drivers.usb_protocol import (
    EP_IN,
    EP_OUT,
    MAX_PACKET,
    REQ_GET_STATUS,
    REQ_RESET,
    VENDOR_IN,
    VENDOR_OUT,
    LinkStatus,
)
from .machine import EmulatedMachine
from .usb_descriptors import (
    DT_CONFIG,
    DT_DEVICE,
    DT_STRING,
    ConfigDescriptor,
    DeviceDescriptor,
    Strings,
    vendor_config,
)

# libusb's error codes, texts and errno values, as usb.backend.libusb1 maps them.
ERROR_IO, ERROR_ACCESS, ERROR_NO_DEVICE, ERROR_NOT_FOUND = -1, -3, -4, -5
ERROR_BUSY, ERROR_TIMEOUT, ERROR_OVERFLOW, ERROR_PIPE = -6, -7, -8, -9
_LIBUSB_ERRORS: dict[int, tuple[str, int]] = {
    ERROR_IO: ("Input/output error", errno.EIO),
    ERROR_ACCESS: ("Access denied (insufficient permissions)", errno.EACCES),
    ERROR_NO_DEVICE: ("No such device (it may have been disconnected)", errno.ENODEV),
    ERROR_NOT_FOUND: ("Entity not found", errno.ENOENT),
    ERROR_BUSY: ("Resource busy", errno.EBUSY),
    ERROR_TIMEOUT: ("Operation timed out", errno.ETIMEDOUT),
    ERROR_OVERFLOW: ("Overflow", errno.EOVERFLOW),
    ERROR_PIPE: ("Pipe error", errno.EPIPE),
}

# Standard requests (USB 2.0 chapter 9) the device answers on endpoint 0.
GET_STATUS, CLEAR_FEATURE, SET_FEATURE, GET_DESCRIPTOR = 0x00, 0x01, 0x03, 0x06
GET_CONFIGURATION, SET_CONFIGURATION, GET_INTERFACE, SET_INTERFACE = 0x08, 0x09, 0x0A, 0x0B
ENDPOINT_HALT = 0
IN_BACKLOG = 1 << 20  # bytes a device holds for bulk IN before its writes block


def usb_error(code: int) -> usb.core.USBError:
    """The exception pyusb's libusb1 backend raises for libusb error ``code``."""
    text, number = _LIBUSB_ERRORS[code]
    cls = usb.core.USBTimeoutError if code == ERROR_TIMEOUT else usb.core.USBError
    return cls(text, code, number)


@dataclass
class UsbFaults:
    """USB-level faults, on top of the machine's own (``machine.faults``).

    Attributes:
        nak_writes: NAK this many coming bulk OUT transfers until they time out.
        babble_reads: end this many coming bulk IN transfers in babble (overflow);
            the data queued on the endpoint is kept.
        stall_vendor_requests: STALL this many coming vendor control requests (as
            a device does with a request it does not implement).
    """

    nak_writes: int = 0
    babble_reads: int = 0
    stall_vendor_requests: int = 0


class EmulatedUsbDevice:
    """One emulated machine as a USB vendor-class device (descriptors, pipes, faults)."""

    def __init__(self, machine: EmulatedMachine) -> None:
        self.machine = machine
        profile = machine.profile
        self.strings = Strings(profile.manufacturer, f"{profile.model} coffee machine",
                               machine.serial)
        self.config: ConfigDescriptor = vendor_config()
        self.bcd_device = _bcd(profile.version)
        self.faults = UsbFaults()
        self.halted: set[int] = set()
        self.configuration = 1  # single-configuration devices come up configured (as on Linux)
        self.kernel_driver = False  # set to present a bound kernel driver the host must detach
        self.cleared: list[int] = []  # endpoints whose halt the host cleared, in order
        self._packets: deque[bytes] = deque()
        self._queued = 0
        self._arrived = threading.Condition()
        self._connected = False
        self._hang_up: Callable[[], None] = _nothing

    # -- link side -----------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    def connect(self, hang_up: Callable[[], None]) -> None:
        """Power up on the bus: fresh pipes, the machine attached to them."""
        self._hang_up = hang_up
        with self._arrived:
            self._connected = True
            self._flush()
        self.machine.attach(self.send_in, hang_up)

    def disconnect(self) -> None:
        """Power down: blocked transfers fail, the machine is detached."""
        self.machine.detach()
        with self._arrived:
            self._connected = False
            self._flush()
            self._arrived.notify_all()

    def halt(self, endpoint: int) -> None:
        """STALL ``endpoint`` until the host clears the halt."""
        with self._arrived:
            self.halted.add(endpoint)
            self._arrived.notify_all()

    def send_in(self, data: bytes) -> None:
        """One device write on bulk IN, as packets ending in a short one or a ZLP.

        Blocks while more than IN_BACKLOG bytes wait for the host, as a device whose
        buffer is full does, so a flooding machine cannot grow this queue without end.
        """
        with self._arrived:
            while self._connected and self._queued > IN_BACKLOG:
                self._arrived.wait(0.1)
            if not self._connected:
                return
            for start in range(0, len(data), MAX_PACKET):
                self._packets.append(data[start : start + MAX_PACKET])
            if len(data) % MAX_PACKET == 0:
                self._packets.append(b"")
            self._queued += len(data)
            self._arrived.notify_all()

    def _flush(self) -> None:
        self._packets.clear()
        self._queued = 0
        self.halted.clear()

    # -- host side: bulk -------------------------------------------------------

    def bulk_out(self, endpoint: int, data: bytes, timeout_ms: int) -> int:
        """The host writes ``data`` on bulk OUT; the machine reads it."""
        self._check_endpoint(endpoint, EP_OUT)
        with self._arrived:
            self._check_alive(endpoint)
            naked = self.faults.nak_writes > 0
            if naked:
                self.faults.nak_writes -= 1
                self._arrived.wait_for(lambda: not self._connected, _seconds(timeout_ms))
                self._check_alive(endpoint)
                raise usb_error(ERROR_TIMEOUT)
        self.machine.feed(data)
        return len(data)

    def bulk_in(self, endpoint: int, size: int, timeout_ms: int) -> bytes:
        """The host reads up to ``size`` bytes: one transfer, ended by a short packet."""
        self._check_endpoint(endpoint, EP_IN)
        deadline = None if timeout_ms == 0 else time.monotonic() + timeout_ms / 1000
        got = bytearray()
        with self._arrived:
            while True:
                self._check_alive(endpoint)
                if self.faults.babble_reads > 0 and self._packets:
                    self.faults.babble_reads -= 1
                    raise usb_error(ERROR_OVERFLOW)
                if self._take(got, size):
                    self._arrived.notify_all()  # room for a sender waiting on IN_BACKLOG
                    return bytes(got)
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    if got:  # libusb reports a timed-out transfer's partial data
                        return bytes(got)
                    raise usb_error(ERROR_TIMEOUT)
                self._arrived.wait(left)

    def _take(self, got: bytearray, size: int) -> bool:
        """Move queued packets into ``got``; True once the transfer is complete."""
        while self._packets:
            packet = self._packets[0]
            if len(packet) > size - len(got):
                raise usb_error(ERROR_OVERFLOW)  # a packet larger than the room left
            self._packets.popleft()
            got += packet
            self._queued -= len(packet)
            if len(packet) < MAX_PACKET or len(got) == size:
                return True
        return False

    def _check_alive(self, endpoint: int | None = None) -> None:
        if not self._connected:
            raise usb_error(ERROR_NO_DEVICE)
        if endpoint is not None and endpoint in self.halted:
            raise usb_error(ERROR_PIPE)

    @staticmethod
    def _check_endpoint(endpoint: int, expected: int) -> None:
        if endpoint != expected:
            raise usb_error(ERROR_NOT_FOUND)

    def clear_halt(self, endpoint: int) -> None:
        """The host clears a halt (CLEAR_FEATURE ENDPOINT_HALT)."""
        if endpoint not in (EP_IN, EP_OUT):
            raise usb_error(ERROR_NOT_FOUND)
        with self._arrived:
            self._check_alive()
            self.halted.discard(endpoint)
            self.cleared.append(endpoint)

    def reset_link(self) -> None:
        """Vendor RESET or a port reset: both pipes flushed, the machine's parser restarted."""
        with self._arrived:
            self._check_alive()
            self._flush()
        self.machine.attach(self.send_in, self._hang_up)

    # -- host side: endpoint 0 --------------------------------------------------

    def control(self, request_type: int, request: int, value: int, index: int,
                data: bytes | int) -> bytes | int:
        """One control transfer: OUT returns bytes taken, IN returns the answer.

        ``data`` is the OUT payload, or the wLength of an IN request.
        """
        with self._arrived:
            self._check_alive()
            if self.faults.stall_vendor_requests > 0 and request_type & 0x60 == 0x40:
                self.faults.stall_vendor_requests -= 1
                raise usb_error(ERROR_PIPE)
        answer = self._answer(request_type, request, value, index, data)
        if answer is None:
            raise usb_error(ERROR_PIPE)  # a request the device does not know: STALL
        if isinstance(data, int):
            return bytes(answer)[:data]
        return len(data)

    def _answer(self, request_type: int, request: int, value: int, index: int,
                data: bytes | int) -> bytes | None:
        key = (request_type, request)
        if key == (VENDOR_IN, REQ_GET_STATUS):
            return self.status().to_bytes()
        if key == (VENDOR_OUT, REQ_RESET):
            self.reset_link()
            return b""
        if key == (0x80, GET_DESCRIPTOR):
            return self.descriptor(value >> 8, value & 0xFF, index)
        if key == (0x80, GET_STATUS):
            return b"\x00\x00"
        if key == (0x82, GET_STATUS):
            return bytes((int(index in self.halted), 0))
        if key == (0x80, GET_CONFIGURATION):
            return bytes((self.configuration,))
        if key == (0x00, SET_CONFIGURATION) and value in (0, self.config.bConfigurationValue):
            self.configuration = value
            return b""
        if key in ((0x02, CLEAR_FEATURE), (0x02, SET_FEATURE)) and value == ENDPOINT_HALT:
            return self._feature(request == SET_FEATURE, index)
        if key == (0x81, GET_INTERFACE) and index == 0:
            return b"\x00"
        if key == (0x01, SET_INTERFACE) and (index, value) == (0, 0):
            return b""
        return None

    def _feature(self, halt: bool, endpoint: int) -> bytes | None:
        if endpoint not in (EP_IN, EP_OUT):
            return None
        if halt:
            self.halt(endpoint)
        else:
            self.clear_halt(endpoint)
        return b""

    def descriptor(self, kind: int, index: int, langid: int) -> bytes | None:
        """The descriptor GET_DESCRIPTOR asks for (device bytes lack bus facts)."""
        if kind == DT_STRING:
            return self.strings.descriptor(index, langid)
        if kind == DT_CONFIG and index == 0:
            return self.config.to_bytes()
        if kind == DT_DEVICE and index == 0:
            return DeviceDescriptor(self.bcd_device, 0, 0, 0).to_bytes()
        return None

    def status(self) -> LinkStatus:
        with self._arrived:
            return LinkStatus(self._connected, EP_IN in self.halted, EP_OUT in self.halted,
                              self._queued)


def _nothing() -> None:
    """The hang-up of a device that was never plugged in."""


def _seconds(timeout_ms: int) -> float | None:
    return None if timeout_ms == 0 else timeout_ms / 1000


def _bcd(version: str) -> int:
    """Firmware "2.1" as bcdDevice 0x0210."""
    major, _, minor = version.partition(".")
    return int(major) << 8 | int((minor or "0")[:2].ljust(2, "0"), 16)
