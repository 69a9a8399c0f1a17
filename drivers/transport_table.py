"""From a parsed device spec to the transport it names: one entry per scheme.

A new transport adds one factory to ``TRANSPORTS``. The factories import their
transport lazily, so parsing a spec never imports pyusb or bleak.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from .errors import DeviceSpecError
from .specs import DeviceSpec, check_params
from .transport import Transport


def _serial(spec: DeviceSpec) -> Transport:
    from .serial_transport import SerialTransport

    kind = spec.scheme.partition("+")[2]  # TRANSPORTS only routes known flavours here
    if kind:  # pyserial's URL handlers take their own options (rfc2217://h:p?ign_set_control)
        options = {k: v for k, v in spec.params.items() if k != "baud"}
        url = f"{kind}://{spec.target}" + (f"?{_query(options)}" if options else "")
    else:
        check_params(spec.text, spec.scheme, spec.params, ("baud",))
        url = spec.target
    if not url:
        raise DeviceSpecError(f"{spec.text}: no port given; e.g. serial:///dev/ttyUSB0")
    return SerialTransport(url, baudrate=spec.int_param("baud", 115200), device=spec.text)


def _query(options: dict[str, str]) -> str:
    """Options as pyserial reads them: a bare flag stays bare (``ign_set_control``)."""
    return "&".join(urllib.parse.quote(k) + (f"={urllib.parse.quote(v)}" if v else "")
                    for k, v in options.items())


def _usb(spec: DeviceSpec) -> Transport:
    from .usb_transport import UsbTransport

    return UsbTransport.from_spec(spec)


def _usb_serial(spec: DeviceSpec) -> Transport:
    from .usb_serial import UsbSerialTransport

    return UsbSerialTransport.from_spec(spec)


def _ble(spec: DeviceSpec) -> Transport:
    from .ble_transport import transport_from_spec

    return transport_from_spec(spec.text, urllib.parse.unquote(spec.target), spec.params)


TransportFactory = Callable[[DeviceSpec], Transport]

TRANSPORTS: dict[str, TransportFactory] = {
    "serial": _serial,
    "serial+socket": _serial,
    "serial+rfc2217": _serial,
    "serial+loop": _serial,
    "usb": _usb,
    "serial+usb": _usb_serial,
    "ble": _ble,
}


def transport_for(spec: DeviceSpec) -> Transport:
    """Build (but do not open) the transport a spec names.

    Raises:
        DeviceSpecError: the scheme is unknown.
    """
    factory = TRANSPORTS.get(spec.scheme)
    if factory is None:
        known = ", ".join([*sorted(TRANSPORTS), "emu", "labgrid"])  # the bench opens these two
        raise DeviceSpecError(f"{spec.text}: unknown scheme {spec.scheme!r}; known: {known}")
    return factory(spec)
