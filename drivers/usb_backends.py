"""Which pyusb backend a USB device spec talks through, chosen once per transport.

``libusb`` (the default) is pyusb's libusb-1.0 backend: real hardware. Anything
else that implements ``usb.backend.IBackend`` can be registered under a name
and selected with ``usb://...?backend=NAME``; the emulator registers each
virtual bus it starts this way. The transport code is the same for all.
"""

from __future__ import annotations

from typing import Any

from .errors import DeviceNotFound, DeviceSpecError

LIBUSB = "libusb"

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
        DeviceNotFound: libusb-1.0 is not installed on this host.
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
        raise DeviceNotFound(device, "libusb-1.0 is not available on this host, or it sees no "
                             "USB bus; install it (apt-get install libusb-1.0-0, or pip install "
                             "libusb-package) and see docs/hardware.md")
    return backend
