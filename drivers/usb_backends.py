"""Which pyusb backend a USB device spec talks through, chosen once per transport.

``libusb`` (the default) is pyusb's libusb-1.0 backend: real hardware. Anything
else that implements ``usb.backend.IBackend`` can be registered under a name
and selected with ``usb://...?backend=NAME``; the emulator registers each
virtual bus it starts this way. The transport code is the same for all.
"""

from __future__ import annotations

import ctypes.util
import sys
from pathlib import Path
from typing import Any

from .errors import DeviceNotFound, DeviceSpecError

LIBUSB = "libusb"
USB_BUS = Path("/dev/bus/usb")  # where libusb looks for devices on Linux (usbfs)

#: name -> pyusb backend object; an extension registry (the emulator adds its buses).
USB_BACKENDS: dict[str, Any] = {}


def register_backend(name: str, backend: Any) -> None:
    """Make ``backend`` selectable as ``?backend=name``.

    Raises:
        ValueError: another backend already has that name.
    """
    if name == LIBUSB or USB_BACKENDS.get(name, backend) is not backend:
        raise ValueError(f"a USB backend named {name!r} is registered already")
    USB_BACKENDS[name] = backend


def unregister_backend(name: str) -> None:
    """Forget the backend registered as ``name`` (nothing if there is none)."""
    USB_BACKENDS.pop(name, None)


def find_backend(name: str, device: str) -> Any:
    """The backend ``name`` stands for; libusb is loaded on first use.

    Raises:
        DeviceSpecError: no backend has that name.
        DeviceNotFound: libusb-1.0 is not installed on this host, or it has no USB bus.
    """
    if name == LIBUSB:
        return _libusb(device)
    backend = USB_BACKENDS.get(name)
    if backend is None:
        known = ", ".join([LIBUSB, *sorted(USB_BACKENDS)])
        raise DeviceSpecError(f"{device}: no USB backend {name!r}; known: {known} (an emulated "
                              "bus exists only while its emulator runs)")
    return backend


def _libusb(device: str) -> Any:
    import usb.backend.libusb1

    backend = usb.backend.libusb1.get_backend()
    if backend is None:
        try:  # the libusb-package wheel bundles the library where no system copy exists
            import libusb_package

            backend = libusb_package.get_libusb1_backend()
        except ImportError:
            pass
    if backend is None:
        raise DeviceNotFound(device, no_libusb_reason())
    return backend


def no_libusb_reason(usb_bus: Path = USB_BUS) -> str:
    """Why libusb gave no backend: the library is missing, or it is there and this host
    has no USB bus for it (a container or VM without USB passed in)."""
    if _libusb_library() is None:
        return ("libusb-1.0 is not installed; install it (apt-get install libusb-1.0-0, or pip "
                "install libusb-package) and see docs/hardware.md")
    if sys.platform.startswith("linux") and not usb_bus.exists():
        return (f"this host has no USB bus: {usb_bus} does not exist (libusb-1.0 is installed); "
                "in a container pass the bus in (docker run --device /dev/bus/usb), in a VM "
                "attach the device to it")
    return ("libusb-1.0 is installed but could not start (no USB bus it may use); check "
            f"{usb_bus} and docs/hardware.md")


def _libusb_library() -> str | None:
    """Where the libusb-1.0 library is, if anywhere (the system's or libusb-package's)."""
    found = ctypes.util.find_library("usb-1.0")
    if found:
        return found
    try:
        import libusb_package
    except ImportError:
        return None
    path = libusb_package.get_library_path()
    return str(path) if path else None
