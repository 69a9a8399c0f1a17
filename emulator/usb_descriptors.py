"""USB descriptors of an emulated coffee machine, as objects and as wire bytes.

The objects carry the field names libusb's structures have, which is all pyusb
reads from a backend; ``*_bytes`` give the same descriptors as a device returns
them to GET_DESCRIPTOR, so ``usb.util.get_string`` and
``usb.control.get_descriptor`` see a real device's answers.

The machine is a full-speed vendor-class device with one configuration, one
interface and two bulk endpoints (IN 0x81, OUT 0x01) of 64-byte packets.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ..drivers.usb_protocol import EP_IN, EP_OUT, MAX_PACKET, PRODUCT_ID, VENDOR_ID

LANGID_EN_US = 0x0409
SPEED_FULL = 2  # libusb's LIBUSB_SPEED_FULL

DT_DEVICE, DT_CONFIG, DT_STRING, DT_INTERFACE, DT_ENDPOINT = 1, 2, 3, 4, 5
CLASS_VENDOR = 0xFF
BULK = 0x02
STRING_MANUFACTURER, STRING_PRODUCT, STRING_SERIAL, STRING_INTERFACE = 1, 2, 3, 4


@dataclass
class DeviceDescriptor:
    """libusb_device_descriptor plus the bus facts pyusb's Device reads."""

    bcdDevice: int  # libusb's field names are pyusb's contract
    bus: int
    address: int
    port_number: int
    idVendor: int = VENDOR_ID
    idProduct: int = PRODUCT_ID
    bLength: int = 18
    bDescriptorType: int = DT_DEVICE
    bcdUSB: int = 0x0200
    bDeviceClass: int = 0  # class given per interface
    bDeviceSubClass: int = 0
    bDeviceProtocol: int = 0
    bMaxPacketSize0: int = 64
    iManufacturer: int = STRING_MANUFACTURER
    iProduct: int = STRING_PRODUCT
    iSerialNumber: int = STRING_SERIAL
    bNumConfigurations: int = 1
    speed: int = SPEED_FULL

    @property
    def port_numbers(self) -> tuple[int, ...]:
        return (self.port_number,)

    def to_bytes(self) -> bytes:
        return struct.pack("<BBHBBBBHHHBBBB", self.bLength, self.bDescriptorType, self.bcdUSB,
                           self.bDeviceClass, self.bDeviceSubClass, self.bDeviceProtocol,
                           self.bMaxPacketSize0, self.idVendor, self.idProduct, self.bcdDevice,
                           self.iManufacturer, self.iProduct, self.iSerialNumber,
                           self.bNumConfigurations)


@dataclass(frozen=True)
class EndpointDescriptor:
    bEndpointAddress: int
    wMaxPacketSize: int = MAX_PACKET
    bmAttributes: int = BULK
    bLength: int = 7
    bDescriptorType: int = DT_ENDPOINT
    bInterval: int = 0
    bRefresh: int = 0
    bSynchAddress: int = 0
    extra_descriptors: bytes = b""

    def to_bytes(self) -> bytes:
        return struct.pack("<BBBBHB", self.bLength, self.bDescriptorType, self.bEndpointAddress,
                           self.bmAttributes, self.wMaxPacketSize, self.bInterval)


@dataclass(frozen=True)
class InterfaceDescriptor:
    endpoints: tuple[EndpointDescriptor, ...]
    bInterfaceNumber: int = 0
    bAlternateSetting: int = 0
    bInterfaceClass: int = CLASS_VENDOR
    bInterfaceSubClass: int = 0
    bInterfaceProtocol: int = 0
    iInterface: int = STRING_INTERFACE
    bLength: int = 9
    bDescriptorType: int = DT_INTERFACE
    extra_descriptors: bytes = b""

    @property
    def bNumEndpoints(self) -> int:
        return len(self.endpoints)

    def to_bytes(self) -> bytes:
        head = struct.pack("<BBBBBBBBB", self.bLength, self.bDescriptorType, self.bInterfaceNumber,
                           self.bAlternateSetting, self.bNumEndpoints, self.bInterfaceClass,
                           self.bInterfaceSubClass, self.bInterfaceProtocol, self.iInterface)
        return head + b"".join(ep.to_bytes() for ep in self.endpoints)


@dataclass(frozen=True)
class ConfigDescriptor:
    interfaces: tuple[InterfaceDescriptor, ...]
    bConfigurationValue: int = 1
    iConfiguration: int = 0
    bmAttributes: int = 0x80  # bus powered
    bMaxPower: int = 250  # 500 mA in 2 mA units
    bLength: int = 9
    bDescriptorType: int = DT_CONFIG
    extra_descriptors: bytes = b""

    @property
    def bNumInterfaces(self) -> int:
        return len(self.interfaces)

    @property
    def wTotalLength(self) -> int:
        return self.bLength + sum(len(i.to_bytes()) for i in self.interfaces)

    def to_bytes(self) -> bytes:
        head = struct.pack("<BBHBBBBB", self.bLength, self.bDescriptorType, self.wTotalLength,
                           self.bNumInterfaces, self.bConfigurationValue, self.iConfiguration,
                           self.bmAttributes, self.bMaxPower)
        return head + b"".join(i.to_bytes() for i in self.interfaces)


@dataclass(frozen=True)
class Strings:
    """The string descriptors a machine offers, by index."""

    manufacturer: str
    product: str
    serial: str
    interface: str = "brewbench protocol"
    langids: tuple[int, ...] = field(default=(LANGID_EN_US,))

    def descriptor(self, index: int, langid: int) -> bytes | None:
        """The STRING descriptor at ``index``; None when the device has none there."""
        if index == 0:
            body = b"".join(struct.pack("<H", lang) for lang in self.langids)
        else:
            text = {STRING_MANUFACTURER: self.manufacturer, STRING_PRODUCT: self.product,
                    STRING_SERIAL: self.serial, STRING_INTERFACE: self.interface}.get(index)
            if text is None or langid not in self.langids:
                return None
            body = text.encode("utf-16-le")
        return bytes((2 + len(body), DT_STRING)) + body


def vendor_config() -> ConfigDescriptor:
    """The one configuration: a vendor interface with bulk IN 0x81 and OUT 0x01."""
    return ConfigDescriptor((InterfaceDescriptor((EndpointDescriptor(EP_IN),
                                                  EndpointDescriptor(EP_OUT))),))
