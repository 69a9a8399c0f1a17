"""USB transport: a vendor-class coffee machine driven with pyusb.

    usb://VID:PID?serial=SN             by vendor/product id and serial number
    usb://VID:PID?port=1-4.2            by bus and port path (as in /sys/bus/usb/devices)
    usb://?port=1-4.2                   whatever is plugged into that port
    ...&backend=NAME                    a registered pyusb backend (default: libusb)
    ...&interface=0                     the vendor interface to claim (default: 0)

The transport claims the interface (detaching a bound kernel driver first),
reads bulk IN on a background thread so nothing the device sends is lost,
and writes bulk OUT one max-size packet at a time. Control transfers and
transfer faults (STALL, babble) are reported to the capture as link-level
records on channel ``usb``. pyusb errors become brewbench errors naming the
device (drivers/usb_errors.py); the backend is chosen once and the code is the same
for hardware and emulated devices.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import usb.core
import usb.util

from .errors import (
    DeviceDisconnected,
    DeviceNotFound,
    DeviceSpecError,
    Timeout,
    TransferError,
    UnexpectedAnswer,
)
from .records import RX, TX, Record, Stamp
from .specs import DeviceSpec, check_params
from .transport import LinkEvents, ReaderThread, Transport
from .usb_backends import LIBUSB, find_backend
from .usb_errors import map_usb_error, status_of
from .usb_protocol import (
    MAX_PACKET,
    REQ_GET_STATUS,
    REQ_RESET,
    STATUS_LENGTH,
    VENDOR_IN,
    VENDOR_OUT,
    LinkStatus,
)

log = logging.getLogger(__name__)

READ_SIZE = 16384  # a multiple of every max packet size, so no read overflows
READ_TIMEOUT_MS = 50  # how often the reader looks up to see whether it should stop
WRITE_TIMEOUT_MS = 2000
CONTROL_TIMEOUT_MS = 1000
SPEC_PARAMS = {"serial", "port", "backend", "interface"}


class UsbTransport(Transport):
    """One vendor-class USB device, found by ids, serial number or port path.

    Args:
        vendor_id: idVendor to match, or None for any.
        product_id: idProduct to match, or None for any.
        serial: the serial number string to match.
        port: the ``bus-port.port`` path to match (as in /sys/bus/usb/devices).
        backend: ``"libusb"`` (hardware), the name of a registered backend, or a
            pyusb backend object.
        interface: bInterfaceNumber of the vendor interface to claim.
        write_timeout_ms: how long one bulk OUT packet may wait for the device.
        device: how errors name the device (defaults to a spec built from the above).
    """

    channel = "usb"
    max_write = MAX_PACKET  # until open reads the endpoint's own wMaxPacketSize

    def __init__(self, vendor_id: int | None = None, product_id: int | None = None, *,
                 serial: str | None = None, port: str | None = None,
                 backend: str | Any = LIBUSB, interface: int = 0,
                 write_timeout_ms: int = WRITE_TIMEOUT_MS, device: str | None = None) -> None:
        super().__init__(device or _describe_target(vendor_id, product_id, serial, port))
        self.vendor_id, self.product_id = vendor_id, product_id
        self.serial, self.port, self.interface = serial, port, interface
        self.write_timeout_ms = write_timeout_ms
        self.backend_name = backend if isinstance(backend, str) else type(backend).__name__
        self._backend = None if isinstance(backend, str) else backend
        self._dev: Any = None
        self._ep_in = self._ep_out = 0
        self._detached = False
        self._events: LinkEvents | None = None
        self._reader: ReaderThread | None = None
        self._buffer = usb.util.create_buffer(READ_SIZE)  # reused by every read: no allocation

    @classmethod
    def from_spec(cls, spec: DeviceSpec) -> UsbTransport:
        """Build the transport a ``usb://`` spec names.

        Raises:
            DeviceSpecError: malformed ids or an unknown parameter.
        """
        check_params(spec.text, "usb", spec.params, SPEC_PARAMS)
        vendor_id, product_id = parse_ids(spec)
        if vendor_id is None and "port" not in spec.params:
            raise DeviceSpecError(f"{spec.text}: name the device, e.g. usb://1209:c0fe?serial=SN "
                                  "or usb://?port=1-4.2")
        return cls(vendor_id, product_id, serial=spec.params.get("serial"),
                   port=spec.params.get("port"), backend=spec.param("backend", LIBUSB),
                   interface=spec.int_param("interface", 0), device=spec.text)

    # -- lifecycle -------------------------------------------------------------

    def open(self, events: LinkEvents) -> None:
        """Find the device, claim its interface and start reading bulk IN.

        Raises:
            DeviceNotFound: no such device, no access, or its interface is busy.
            DeviceSpecError: the spec matches several devices, or names no backend.
            DeviceDisconnected: the device left the bus while being opened.
        """
        backend = self._backend or find_backend(self.backend_name, self.device)
        self._events = events
        try:
            with map_usb_error(self.device, "opening the device"):
                self._dev = self._find(backend)
                self._claim(self._dev)
            with contextlib.suppress(TransferError):  # a machine without vendor requests
                self.status()  # the first control transfer is on record
        except BaseException:
            self.close()
            raise
        self._reader = ReaderThread(self.device, self._read_some, events)
        self._reader.start()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.stop()
            self._reader = None
        dev, self._dev = self._dev, None
        if dev is None:
            return
        with contextlib.suppress(usb.core.USBError):
            usb.util.release_interface(dev, self.interface)
        if self._detached:
            with contextlib.suppress(usb.core.USBError, NotImplementedError):
                dev.attach_kernel_driver(self.interface)
        usb.util.dispose_resources(dev)

    def describe(self) -> dict[str, str]:
        facts = {"transport": self.channel, "backend": self.backend_name}
        if self.vendor_id is not None:
            facts["usb_id"] = f"{self.vendor_id:04x}:{self.product_id or 0:04x}"
        if self.serial:
            facts["serial_number"] = self.serial
        if self.port:
            facts["port"] = self.port
        dev = self._dev
        if dev is not None:
            facts.update(port=_port_path(dev), address=str(dev.address))
        return facts

    def locate(self) -> str:
        """The device's usbfs path now (``/dev/bus/usb/BUS/ADDRESS``): a new address on
        every re-enumeration, found again by ids, serial number or port path.

        Raises:
            DeviceNotFound: nothing matches (or no libusb).
            DeviceSpecError: several devices match.
        """
        dev = self._dev
        if dev is None:
            backend = self._backend or find_backend(self.backend_name, self.device)
            with map_usb_error(self.device, "looking for the device"):
                dev = self._find(backend)
        return f"/dev/bus/usb/{dev.bus:03d}/{dev.address:03d}"

    # -- finding and claiming ----------------------------------------------------

    def _find(self, backend: Any) -> Any:
        ids = {k: v for k, v in (("idVendor", self.vendor_id), ("idProduct", self.product_id))
               if v is not None}
        present = list(usb.core.find(find_all=True, backend=backend))
        found = [dev for dev in present if _matches(dev, ids, self.port, self.serial)]
        if not found:
            # Serial numbers only of devices with the wanted ids: reading one opens the device.
            alike = [dev for dev in present if ids and _matches(dev, ids, None, None)]
            seen = ("; ".join(_summary(dev) for dev in alike) if alike else
                    "; ".join(_summary(dev, serial=False) for dev in present)
                    or "no USB devices at all")
            raise DeviceNotFound(self.device, f"no such USB device (present: {seen}); check the "
                                 "cable, the ids and serial number (lsusb -v) and access rights "
                                 "(docs/hardware.md)")
        if len(found) > 1:
            serials = ", ".join(_serial_of(dev) or "?" for dev in found)
            raise DeviceSpecError(f"{self.device}: {len(found)} USB devices match ({serials}); "
                                  "add ?serial=... to pick one")
        return found[0]

    def _claim(self, dev: Any) -> None:
        try:
            config = dev.get_active_configuration()
        except usb.core.USBError:  # unconfigured: pick the first configuration
            dev.set_configuration()
            config = dev.get_active_configuration()
        intf = usb.util.find_descriptor(config, bInterfaceNumber=self.interface)
        if intf is None:
            raise DeviceNotFound(self.device, f"the device has no interface {self.interface}; "
                                 "set ?interface= to its vendor interface (lsusb -v lists them)")
        with contextlib.suppress(NotImplementedError):  # not every OS can tell
            if dev.is_kernel_driver_active(self.interface):
                dev.detach_kernel_driver(self.interface)
                self._detached = True
        usb.util.claim_interface(dev, self.interface)
        ep_in, ep_out = _bulk_endpoint(intf, usb.util.ENDPOINT_IN), _bulk_endpoint(
            intf, usb.util.ENDPOINT_OUT)
        if ep_in is None or ep_out is None:
            raise DeviceNotFound(self.device, f"interface {self.interface} has no bulk IN and "
                                 "bulk OUT endpoint pair; is this the machine's vendor interface?")
        self._ep_in, self._ep_out = ep_in.bEndpointAddress, ep_out.bEndpointAddress
        self.max_write = int(ep_out.wMaxPacketSize)

    # -- data ----------------------------------------------------------------------

    def _read_some(self) -> bytes:
        dev = self._dev
        if dev is None:
            return b""
        try:
            count = dev.read(self._ep_in, self._buffer, timeout=READ_TIMEOUT_MS)
            return memoryview(self._buffer)[:count].tobytes()
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as exc:
            if status_of(exc) not in ("stall", "overflow"):
                raise
            self._transfer_fault(exc, self._ep_in, RX, b"")
            return b""

    def write(self, data: bytes) -> Stamp:
        dev = self._dev
        if dev is None:
            raise DeviceDisconnected(self.device, "the USB device is not open; connect first")
        stamp = Stamp.now()
        what = f"bulk OUT {self._ep_out:#04x} ({len(data)} bytes)"
        try:
            written = dev.write(self._ep_out, data, timeout=self.write_timeout_ms)
        except usb.core.USBError as exc:
            if status_of(exc) == "stall":
                self._transfer_fault(exc, self._ep_out, TX, data)
            with map_usb_error(self.device, what):
                raise
        if written != len(data):  # libusb reports a partly done transfer that timed out
            raise Timeout(self.device, f"{what}: only {written} bytes were taken before the "
                          "timeout; the device stopped reading, power-cycle it")
        return stamp

    def _transfer_fault(self, exc: usb.core.USBError, endpoint: int, direction: str,
                        raw: bytes) -> None:
        """Report a refused bulk transfer and clear a halt so the pipe works again."""
        status = status_of(exc)
        meta: dict[str, Any] = {"endpoint": endpoint, "transfer": "bulk", "length": len(raw),
                                "status": status}
        if status == "stall":
            with map_usb_error(self.device, f"clearing the halt on endpoint {endpoint:#04x}"):
                self._dev.clear_halt(endpoint)
            meta["recovery"] = "clear_halt"
        log.info("%s: %s on endpoint %#04x", self.device, status, endpoint)
        meta["detail"] = str(exc)
        self._note(Record(self.channel, direction, Stamp.now(), raw, meta=meta))

    # -- control ---------------------------------------------------------------------

    def control(self, request_type: int, request: int, value: int = 0, index: int = 0,
                data_or_length: bytes | int = 0, timeout_ms: int = CONTROL_TIMEOUT_MS) -> bytes:
        """One control transfer on endpoint 0, reported as a link-level record.

        Returns the answer of an IN request (``data_or_length`` is its length),
        or ``b""`` for an OUT request (``data_or_length`` is the payload).

        Raises:
            TransferError: the device stalled the request (it does not know it).
            DeviceDisconnected: the device left the bus.
            Timeout: no answer within ``timeout_ms``.
        """
        dev = self._dev
        if dev is None:
            raise DeviceDisconnected(self.device, "the USB device is not open; connect first")
        incoming = bool(request_type & 0x80)
        meta: dict[str, Any] = {"endpoint": 0, "transfer": "control",
                                "request_type": request_type, "request": request,
                                "value": value, "index": index}
        stamp = Stamp.now()
        sent = b"" if isinstance(data_or_length, int) else bytes(data_or_length)
        try:
            answer = dev.ctrl_transfer(request_type, request, value, index,
                                       data_or_length if incoming else sent, timeout_ms)
        except usb.core.USBError as exc:
            meta.update(length=len(sent), status=status_of(exc), detail=str(exc))
            self._note(Record(self.channel, RX if incoming else TX, stamp, sent, meta=meta))
            with map_usb_error(self.device, f"control request {request:#04x}"):
                raise
        raw = bytes(answer) if incoming else sent
        meta.update(length=len(raw), status="ok")
        self._note(Record(self.channel, RX if incoming else TX, stamp, raw, meta=meta))
        return raw if incoming else b""

    def status(self) -> LinkStatus:
        """The machine's link status (vendor GET_STATUS).

        Raises:
            UnexpectedAnswer: the answer has the wrong length.
            TransferError: the machine does not know the request (STALL).
        """
        answer = self.control(VENDOR_IN, REQ_GET_STATUS, data_or_length=STATUS_LENGTH)
        try:
            return LinkStatus.from_bytes(answer)
        except ValueError as exc:
            raise UnexpectedAnswer(self.device, str(exc)) from exc

    def reset_link(self) -> None:
        """Flush both bulk pipes on the device (vendor RESET)."""
        self.control(VENDOR_OUT, REQ_RESET)

    def _note(self, record: Record) -> None:
        if self._events is not None:
            self._events.note(record)


def parse_ids(spec: DeviceSpec) -> tuple[int | None, int | None]:
    """``VID:PID`` (hex) from a spec's target; ``(None, None)`` when it is empty.

    Raises:
        DeviceSpecError: not two hex numbers.
    """
    if not spec.target:
        return None, None
    vid, sep, pid = spec.target.partition(":")
    try:
        return int(vid, 16), int(pid, 16) if sep else None
    except ValueError as exc:
        raise DeviceSpecError(f"{spec.text}: {spec.target!r} is not VID:PID in hex, "
                              "e.g. usb://1209:c0fe") from exc


def _describe_target(vid: int | None, pid: int | None, serial: str | None,
                     port: str | None) -> str:
    text = "usb://" + (f"{vid:04x}:{pid or 0:04x}" if vid is not None else "")
    query = "&".join(f"{k}={v}" for k, v in (("serial", serial), ("port", port)) if v)
    return f"{text}?{query}" if query else text


def _matches(dev: Any, ids: dict[str, int], port: str | None, serial: str | None) -> bool:
    if any(getattr(dev, key) != value for key, value in ids.items()):
        return False
    if port is not None and _port_path(dev) != port:
        return False
    return serial is None or _serial_of(dev) == serial


def _serial_of(dev: Any) -> str | None:
    """The serial number string, or None when it cannot be read (no access, no string)."""
    try:
        return str(dev.serial_number) if dev.iSerialNumber else None
    except (usb.core.USBError, ValueError, NotImplementedError):
        return None


def _port_path(dev: Any) -> str:
    """``bus-port.port`` as Linux names the device in /sys/bus/usb/devices."""
    ports = ".".join(str(n) for n in (dev.port_numbers or ()))
    return f"{dev.bus}-{ports}" if ports else str(dev.bus)


def _summary(dev: Any, serial: bool = True) -> str:
    text = f"{dev.idVendor:04x}:{dev.idProduct:04x} at {_port_path(dev)}"
    if not serial:
        return text
    try:
        number = dev.serial_number if dev.iSerialNumber else None
    except usb.core.USBError as exc:  # typically no access: say so, it is the likely cause
        return f"{text} (serial number unreadable: {status_of(exc)})"
    except (ValueError, NotImplementedError):
        number = None
    return f"{text} serial {number}" if number else text


def _bulk_endpoint(intf: Any, direction: int) -> Any:
    return usb.util.find_descriptor(
        intf, custom_match=lambda ep: usb.util.endpoint_direction(ep.bEndpointAddress) == direction
        and usb.util.endpoint_type(ep.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK)
