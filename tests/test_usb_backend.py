"""The emulated USB bus through real usb.core/usb.util calls, as a host program sees it."""

import errno
import itertools
from collections.abc import Iterator

import pytest
import usb.backend.libusb1 as libusb1
import usb.core
import usb.util
from hypothesis import given, settings
from hypothesis import strategies as st

from brewbench.drivers.framing import FrameSplitter
from brewbench.drivers.messages import Kind, Message, MsgType, decode_message
from brewbench.drivers.usb_protocol import EP_IN, EP_OUT, MAX_PACKET, PRODUCT_ID, VENDOR_ID
from brewbench.emulator.machine import EmulatedMachine
from brewbench.emulator.usb_backend import EmulatedUsbBus
from brewbench.emulator.usb_device import EmulatedUsbDevice

VENDOR_GET_STATUS = (0xC0, 0x01)


@pytest.fixture
def bus() -> Iterator[EmulatedUsbBus]:
    bus = EmulatedUsbBus()
    yield bus
    for device in bus.devices():
        bus.unplug(device)


def plug(bus: EmulatedUsbBus, firmware: str = "2.1", serial: str | None = None
         ) -> EmulatedUsbDevice:
    device = EmulatedUsbDevice(EmulatedMachine(firmware, serial=serial))
    bus.plug(device)
    return device


def find(bus: EmulatedUsbBus, **match: object) -> usb.core.Device:
    dev = usb.core.find(backend=bus, idVendor=VENDOR_ID, idProduct=PRODUCT_ID, **match)
    assert dev is not None
    return dev


def request_bytes(type_code: int = MsgType.STATUS, seq: int = 1) -> bytes:
    return Message(Kind.REQUEST, type_code, seq, {}).encode()


def test_two_devices_enumerate_and_are_told_apart_by_serial(bus: EmulatedUsbBus) -> None:
    plug(bus, "1.0", serial="BB0001")
    plug(bus, "2.1", serial="BB0002")
    found = list(usb.core.find(find_all=True, backend=bus, idVendor=VENDOR_ID))
    assert sorted(d.serial_number for d in found) == ["BB0001", "BB0002"]
    assert len({d.address for d in found}) == 2
    second = find(bus, serial_number="BB0002")
    assert second.bcdDevice == 0x0210
    assert usb.core.find(backend=bus, serial_number="BB0003") is None


def test_descriptors_and_strings(bus: EmulatedUsbBus) -> None:
    plug(bus, serial="BB00AA")
    dev = find(bus)
    assert (dev.bDeviceClass, dev.bcdUSB, dev.bNumConfigurations) == (0, 0x0200, 1)
    assert dev.langids == (0x0409,)
    assert (dev.manufacturer, dev.product, dev.serial_number) == (
        "Acme Kaffeetechnik", "CM-500 coffee machine", "BB00AA")
    assert usb.util.get_string(dev, dev.iSerialNumber, 0x0409) == "BB00AA"
    intf = dev.get_active_configuration()[(0, 0)]
    assert intf.bInterfaceClass == 0xFF
    assert usb.util.get_string(dev, intf.iInterface) == "brewbench protocol"
    eps = {ep.bEndpointAddress: ep for ep in intf}
    assert set(eps) == {EP_IN, EP_OUT}
    assert all(ep.wMaxPacketSize == MAX_PACKET for ep in eps.values())
    assert all(usb.util.endpoint_type(ep.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK
               for ep in eps.values())
    raw = dev.ctrl_transfer(0x80, 0x06, 0x0100, 0, 64)  # GET_DESCRIPTOR(DEVICE)
    assert bytes(raw[8:12]) == bytes.fromhex("0912fec0")
    config = dev.ctrl_transfer(0x80, 0x06, 0x0200, 0, 255)
    assert len(config) == config[2] == 32


def test_request_and_response_over_bulk(bus: EmulatedUsbBus) -> None:
    plug(bus)
    dev = find(bus)
    dev.set_configuration()
    assert dev.write(EP_OUT, request_bytes()) == len(request_bytes())
    data = bytes(dev.read(EP_IN, 4096))
    [span] = FrameSplitter().feed(data)
    assert span.frame is not None
    assert decode_message(span.frame).body["state"] == "ready"


def test_write_that_fills_whole_packets_ends_with_a_zero_length_packet(
        bus: EmulatedUsbBus) -> None:
    device = plug(bus)
    dev = find(bus)
    whole = bytes(range(2 * MAX_PACKET))
    device.send_in(whole)
    device.send_in(b"next")
    assert bytes(dev.read(EP_IN, 4096)) == whole  # the ZLP ended the transfer at 128 bytes
    assert bytes(dev.read(EP_IN, 4096)) == b"next"
    device.send_in(whole)
    assert bytes(dev.read(EP_IN, len(whole))) == whole  # a full buffer ends it first...
    assert len(dev.read(EP_IN, 4096)) == 0  # ...so the ZLP arrives as a transfer of its own
    with pytest.raises(usb.core.USBTimeoutError):
        dev.read(EP_IN, 4096, timeout=20)


def test_reading_less_than_a_packet_overflows(bus: EmulatedUsbBus) -> None:
    device = plug(bus)
    dev = find(bus)
    device.send_in(b"x" * 40)
    with pytest.raises(usb.core.USBError) as overflow:
        dev.read(EP_IN, 16)
    assert (overflow.value.errno, overflow.value.backend_error_code) == (errno.EOVERFLOW, -8)
    device.faults.babble_reads = 1
    with pytest.raises(usb.core.USBError, match="Overflow"):
        dev.read(EP_IN, 4096)
    assert bytes(dev.read(EP_IN, 4096)) == b"x" * 40  # babble costs no queued data


def test_stall_is_a_pipe_error_until_the_halt_is_cleared(bus: EmulatedUsbBus) -> None:
    device = plug(bus)
    dev = find(bus)
    device.halt(EP_OUT)
    assert dev.ctrl_transfer(0x82, 0x00, 0, EP_OUT, 2)[0] == 1  # GET_STATUS(endpoint): halted
    with pytest.raises(usb.core.USBError) as stall:
        dev.write(EP_OUT, request_bytes())
    assert (stall.value.errno, stall.value.backend_error_code) == (errno.EPIPE, -9)
    dev.clear_halt(EP_OUT)
    assert dev.write(EP_OUT, request_bytes()) > 0
    assert len(dev.read(EP_IN, 4096)) > 0
    assert device.cleared == [EP_OUT]


def test_nak_times_out_like_libusb(bus: EmulatedUsbBus) -> None:
    device = plug(bus)
    dev = find(bus)
    device.faults.nak_writes = 1
    with pytest.raises(usb.core.USBTimeoutError) as timeout:
        dev.write(EP_OUT, request_bytes(), timeout=20)
    assert (timeout.value.errno, timeout.value.backend_error_code) == (errno.ETIMEDOUT, -7)
    assert dev.write(EP_OUT, request_bytes()) > 0


def test_vendor_requests(bus: EmulatedUsbBus) -> None:
    device = plug(bus)
    dev = find(bus)
    device.send_in(b"pending")
    assert bytes(dev.ctrl_transfer(*VENDOR_GET_STATUS, 0, 0, 4)) == bytes((1, 0, 7, 0))
    assert dev.ctrl_transfer(0x40, 0x02, 0, 0, b"") == 0  # vendor RESET flushes bulk IN
    assert bytes(dev.ctrl_transfer(*VENDOR_GET_STATUS, 0, 0, 4)) == bytes((1, 0, 0, 0))
    with pytest.raises(usb.core.USBError) as unknown:
        dev.ctrl_transfer(0xC0, 0x7F, 0, 0, 4)
    assert unknown.value.errno == errno.EPIPE  # a request the device does not know stalls


def test_a_claimed_interface_is_busy_for_another_handle(bus: EmulatedUsbBus) -> None:
    plug(bus)
    first, second = find(bus), find(bus)
    usb.util.claim_interface(first, 0)
    with pytest.raises(usb.core.USBError) as busy:
        usb.util.claim_interface(second, 0)
    assert busy.value.errno == errno.EBUSY
    usb.util.dispose_resources(first)
    usb.util.claim_interface(second, 0)


def test_unplug_and_replug(bus: EmulatedUsbBus) -> None:
    device = plug(bus, serial="BB00CC")
    dev = find(bus)
    old_address = dev.address
    bus.unplug(device)
    assert usb.core.find(backend=bus) is None
    with pytest.raises(usb.core.USBError) as gone:
        dev.write(EP_OUT, request_bytes())
    assert (gone.value.errno, gone.value.backend_error_code) == (errno.ENODEV, -4)
    bus.plug(device)
    again = find(bus, serial_number="BB00CC")
    assert again.address != old_address and again.port_numbers == dev.port_numbers
    with pytest.raises(usb.core.USBError):  # the old handle stays dead
        dev.write(EP_OUT, request_bytes())
    assert again.write(EP_OUT, request_bytes()) > 0


@pytest.mark.parametrize("code", [-1, -3, -4, -5, -6, -7, -8, -9])
def test_errors_carry_libusb_texts_and_errno(code: int) -> None:
    from brewbench.emulator.usb_device import usb_error

    error = usb_error(code)
    # pyusb's own table: libusb1._strerror answers from libusb itself once some test has
    # loaded it, in libusb's wording of the day, so the result would depend on test order
    assert error.strerror == libusb1._str_error_map[code]
    assert (error.errno, error.backend_error_code) == (libusb1._libusb_errno[code], code)
    assert isinstance(error, usb.core.USBTimeoutError) == (code == libusb1.LIBUSB_ERROR_TIMEOUT)


SIZES = st.one_of(st.sampled_from([0, MAX_PACKET, 2 * MAX_PACKET]), st.integers(0, 300))


@given(writes=st.lists(SIZES.map(lambda n: bytes(i % 251 for i in range(n))), max_size=12),
       packets_per_read=st.integers(min_value=1, max_value=8))
@settings(max_examples=60, deadline=None)
def test_reads_give_back_every_write_in_order(writes: list[bytes], packets_per_read: int) -> None:
    """Whatever the write sizes and read buffer, every byte arrives once, in order,
    and no transfer runs past the end of a device write (short packet or ZLP)."""
    bus = EmulatedUsbBus()
    device = plug(bus)
    dev = find(bus)
    for data in writes:
        device.send_in(data)
    got: list[bytes] = []
    while True:
        try:
            got.append(bytes(dev.read(EP_IN, packets_per_read * MAX_PACKET, timeout=5)))
        except usb.core.USBTimeoutError:
            break
    bus.unplug(device)
    assert b"".join(got) == b"".join(writes)
    ends = set(itertools.accumulate(len(w) for w in writes))
    start = 0
    for transfer in got:
        stop = start + len(transfer)
        assert not any(start < end < stop for end in ends), "a transfer ran past a write"
        start = stop
