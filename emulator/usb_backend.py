"""A pyusb backend serving emulated machines: a virtual USB bus in pure Python.

``EmulatedUsbBus`` implements ``usb.backend.IBackend``, so the host side runs
``usb.core.find(..., backend=bus)`` and every ``usb.core``/``usb.util`` call
unchanged. Devices are plugged into numbered ports and get a fresh address on
every plug, as a hub would give them; an unplugged device vanishes from
``enumerate_devices`` and its open handles fail with LIBUSB_ERROR_NO_DEVICE.
Handles keep libusb's rules: one handle claims an interface at a time
(LIBUSB_ERROR_BUSY otherwise), and a bound kernel driver must be detached first.

Example::

    bus = EmulatedUsbBus()
    bus.plug(EmulatedUsbDevice(EmulatedMachine("2.1")))
    dev = usb.core.find(idVendor=0x1209, backend=bus)
"""

from __future__ import annotations

import array
import itertools
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import usb.backend

from .usb_descriptors import ConfigDescriptor, DeviceDescriptor, EndpointDescriptor
from .usb_device import (
    ERROR_BUSY,
    ERROR_NO_DEVICE,
    ERROR_NOT_FOUND,
    EmulatedUsbDevice,
    usb_error,
)

BUS_NUMBER = 1


@dataclass(frozen=True)
class DeviceId:
    """What ``enumerate_devices`` yields: one device as it was plugged in, once."""

    device: EmulatedUsbDevice
    address: int
    port: int
    plug: int  # which plug-in this is; a re-plugged device is a new DeviceId


@dataclass
class Handle:
    """An open device, as libusb_open gives one."""

    dev: DeviceId
    claimed: set[int] = field(default_factory=set)
    closed: bool = False


class EmulatedUsbBus(usb.backend.IBackend):  # type: ignore[misc]  # pyusb is untyped
    """A USB bus with emulated machines on it, as a pyusb backend."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        self.name = name or f"emulated-{secrets.token_hex(3)}"
        self._lock = threading.RLock()
        self._plugged: dict[EmulatedUsbDevice, DeviceId] = {}
        self._ports: dict[EmulatedUsbDevice, int] = {}  # a device keeps its port across plugs
        self._claims: dict[tuple[EmulatedUsbDevice, int], Handle] = {}
        self._addresses = itertools.count(2)  # address 1 is the root hub's
        self._plugs = itertools.count(1)

    # -- the bench's side: plugging ------------------------------------------------

    def plug(self, device: EmulatedUsbDevice) -> DeviceId:
        """Plug ``device`` in; it enumerates with a new address on its port."""
        with self._lock:
            if device in self._plugged:
                return self._plugged[device]
            port = self._ports.setdefault(device, self._free_port())
            dev = DeviceId(device, next(self._addresses), port, next(self._plugs))
            self._plugged[device] = dev
        device.connect(lambda: self.unplug(device))
        return dev

    def unplug(self, device: EmulatedUsbDevice) -> None:
        """Pull ``device`` out: it leaves enumeration, its handles fail. Idempotent."""
        with self._lock:
            dev = self._plugged.pop(device, None)
            for key in [k for k in self._claims if k[0] is device]:
                del self._claims[key]
        if dev is not None:
            device.disconnect()

    def devices(self) -> list[EmulatedUsbDevice]:
        """The devices plugged in now."""
        with self._lock:
            return list(self._plugged)

    def _free_port(self) -> int:
        used = set(self._ports.values())
        return next(n for n in itertools.count(1) if n not in used)

    # -- IBackend: enumeration and descriptors --------------------------------------

    def enumerate_devices(self) -> list[DeviceId]:
        with self._lock:
            return sorted(self._plugged.values(), key=lambda d: d.address)

    def get_parent(self, dev: DeviceId) -> None:
        return None  # plugged straight into the root hub

    def get_device_descriptor(self, dev: DeviceId) -> DeviceDescriptor:
        return DeviceDescriptor(dev.device.bcd_device, BUS_NUMBER, dev.address, dev.port)

    def get_configuration_descriptor(self, dev: DeviceId, config: int) -> ConfigDescriptor:
        if config != 0:
            raise usb_error(ERROR_NOT_FOUND)
        return dev.device.config

    def get_interface_descriptor(self, dev: DeviceId, intf: int, alt: int, config: int) -> Any:
        cfg = self.get_configuration_descriptor(dev, config)
        if intf >= cfg.bNumInterfaces:
            raise IndexError(f"Invalid interface index {intf}")
        if alt != 0:
            raise IndexError(f"Invalid alternate setting index {alt}")
        return cfg.interfaces[intf]

    def get_endpoint_descriptor(self, dev: DeviceId, ep: int, intf: int, alt: int,
                                config: int) -> EndpointDescriptor:
        interface = self.get_interface_descriptor(dev, intf, alt, config)
        if ep >= interface.bNumEndpoints:
            raise IndexError(f"Invalid endpoint index {ep}")
        endpoint: EndpointDescriptor = interface.endpoints[ep]
        return endpoint

    # -- IBackend: handles, configuration, interfaces --------------------------------

    def open_device(self, dev: DeviceId) -> Handle:
        self._alive(dev)
        return Handle(dev)

    def close_device(self, dev_handle: Handle) -> None:
        with self._lock:
            for intf in list(dev_handle.claimed):
                self._claims.pop((dev_handle.dev.device, intf), None)
            dev_handle.claimed.clear()
            dev_handle.closed = True

    def set_configuration(self, dev_handle: Handle, config_value: int) -> None:
        self._device(dev_handle).control(0x00, 0x09, config_value, 0, b"")

    def get_configuration(self, dev_handle: Handle) -> int:
        return int(self._device(dev_handle).configuration)

    def set_interface_altsetting(self, dev_handle: Handle, intf: int, altsetting: int) -> None:
        self._device(dev_handle).control(0x01, 0x0B, altsetting, intf, b"")

    def claim_interface(self, dev_handle: Handle, intf: int) -> None:
        device = self._device(dev_handle)
        if intf != 0:
            raise usb_error(ERROR_NOT_FOUND)
        with self._lock:
            owner = self._claims.get((device, intf))
            if device.kernel_driver or (owner is not None and owner is not dev_handle):
                raise usb_error(ERROR_BUSY)
            self._claims[(device, intf)] = dev_handle
            dev_handle.claimed.add(intf)

    def release_interface(self, dev_handle: Handle, intf: int) -> None:
        device = self._device(dev_handle)
        with self._lock:
            if intf not in dev_handle.claimed:
                raise usb_error(ERROR_NOT_FOUND)
            dev_handle.claimed.discard(intf)
            self._claims.pop((device, intf), None)

    def is_kernel_driver_active(self, dev_handle: Handle, intf: int) -> bool:
        return bool(self._device(dev_handle).kernel_driver)

    def detach_kernel_driver(self, dev_handle: Handle, intf: int) -> None:
        device = self._device(dev_handle)
        if not device.kernel_driver:
            raise usb_error(ERROR_NOT_FOUND)
        device.kernel_driver = False

    def attach_kernel_driver(self, dev_handle: Handle, intf: int) -> None:
        device = self._device(dev_handle)
        if device.kernel_driver or intf in dev_handle.claimed:
            raise usb_error(ERROR_BUSY)
        device.kernel_driver = True

    # -- IBackend: transfers ----------------------------------------------------------

    def bulk_write(self, dev_handle: Handle, ep: int, intf: int, data: array.array[int],
                   timeout: int) -> int:
        device = self._transfer_device(dev_handle, intf)
        return device.bulk_out(ep, data.tobytes(), timeout)

    def bulk_read(self, dev_handle: Handle, ep: int, intf: int, buff: array.array[int],
                  timeout: int) -> int:
        device = self._transfer_device(dev_handle, intf)
        data = device.bulk_in(ep, len(buff) * buff.itemsize, timeout)
        memoryview(buff).cast("B")[: len(data)] = data
        return len(data)

    def ctrl_transfer(self, dev_handle: Handle, bmRequestType: int, bRequest: int,
                      wValue: int, wIndex: int, data: array.array[int], timeout: int) -> int:
        device = self._device(dev_handle)
        length = len(data) * data.itemsize
        if bmRequestType & 0x80:
            answer = device.control(bmRequestType, bRequest, wValue, wIndex, length)
            assert isinstance(answer, bytes)
            memoryview(data).cast("B")[: len(answer)] = answer
            return len(answer)
        taken = device.control(bmRequestType, bRequest, wValue, wIndex, data.tobytes())
        assert isinstance(taken, int)
        return taken

    def clear_halt(self, dev_handle: Handle, ep: int) -> None:
        self._device(dev_handle).clear_halt(ep)

    def reset_device(self, dev_handle: Handle) -> None:
        self._device(dev_handle).reset_link()

    # -- internals ----------------------------------------------------------------------

    def _alive(self, dev: DeviceId) -> EmulatedUsbDevice:
        with self._lock:
            if self._plugged.get(dev.device) is not dev:
                raise usb_error(ERROR_NO_DEVICE)
        return dev.device

    def _device(self, dev_handle: Handle) -> EmulatedUsbDevice:
        if dev_handle.closed:
            raise usb_error(ERROR_NO_DEVICE)
        return self._alive(dev_handle.dev)

    def _transfer_device(self, dev_handle: Handle, intf: int) -> EmulatedUsbDevice:
        """usbfs claims an unclaimed interface on first transfer; another owner is BUSY."""
        if intf not in dev_handle.claimed:
            self.claim_interface(dev_handle, intf)
        return self._device(dev_handle)
