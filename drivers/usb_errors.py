"""pyusb errors translated into brewbench's, at the USB transport's boundary.

libusb reports a failure as a code that pyusb raises as ``USBError`` with the
matching errno (``USBTimeoutError`` for timeouts); each becomes the brewbench
error that says what happened to which device and what to do about it.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

import usb.core

from .errors import DeviceDisconnected, DeviceError, DeviceNotFound, Timeout, TransferError

_STATUS = {errno.EPIPE: "stall", errno.EOVERFLOW: "overflow", errno.ENODEV: "no_device",
           errno.ETIMEDOUT: "timeout", errno.EBUSY: "busy", errno.EACCES: "access",
           errno.EIO: "io_error"}


def status_of(exc: usb.core.USBError) -> str:
    """A short name for the transfer status a pyusb error stands for (``stall``...)."""
    if isinstance(exc, usb.core.USBTimeoutError):
        return "timeout"
    return _STATUS.get(exc.errno or 0, "error")


def translate(exc: usb.core.USBError, device: str, what: str) -> DeviceError:
    """The brewbench error for ``exc``, raised while doing ``what`` on ``device``."""
    status = status_of(exc)
    if status == "timeout":
        return Timeout(device, f"{what} timed out: the device is not taking or giving data "
                       "(busy, hung or in another mode); power-cycle it or raise the timeout")
    if status == "no_device":
        return DeviceDisconnected(device, f"{what} failed: the device left the bus (unplugged "
                                  "or reset); plug it back in and connect again")
    if status == "stall":
        return TransferError(device, f"{what} stalled (USB STALL): the device refused it; the "
                             "bench cleared the halt, so the link can be used again")
    if status == "overflow":
        return TransferError(device, f"{what} overflowed (babble): the device sent more than "
                             "a packet holds; check its firmware and cable")
    if status == "access":
        return DeviceNotFound(device, f"{what}: permission denied; install the udev rule from "
                              "docs/hardware.md (or run as root)")
    if status == "busy":
        return DeviceNotFound(device, f"{what}: the interface is claimed by another program or "
                              "driver; close it and try again")
    return DeviceDisconnected(device, f"{what} failed ({exc}); check the cable and reconnect")


@contextmanager
def map_usb_error(device: str, what: str) -> Iterator[None]:
    """Re-raise any pyusb error inside the block as a brewbench error.

    Raises:
        DeviceError: the translation of the pyusb error (see ``translate``).
    """
    try:
        yield
    except usb.core.USBError as exc:
        raise translate(exc, device, what) from exc
