"""UsbTransport end to end: specs, selection, packets, faults, unplug and re-plug."""

import errno
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from serial.tools.list_ports_common import ListPortInfo

from brewbench.bench.capture import Capture
from brewbench.bench.devices import open_device
from brewbench.bench.usb_pcap import USBMON_HEADER, export_usb_pcap
from brewbench.drivers.connection import Connection
from brewbench.drivers.errors import (
    DeviceDisconnected,
    DeviceNotFound,
    DeviceSpecError,
    Timeout,
    TransferError,
)
from brewbench.drivers.machine import CoffeeMachine
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.specs import parse_spec
from brewbench.drivers.transport_table import transport_for
from brewbench.drivers.usb_protocol import EP_IN, EP_OUT, MAX_PACKET
from brewbench.drivers.usb_serial import UsbSerialTransport
from brewbench.drivers.usb_transport import UsbTransport
from brewbench.emulator.machine import EmulatedMachine
from brewbench.emulator.usb_backend import EmulatedUsbBus
from brewbench.emulator.usb_link import UsbLink


@pytest.fixture
def link() -> Iterator[UsbLink]:
    link = UsbLink(EmulatedMachine("2.1"))
    link.start()
    yield link
    link.stop()


@contextmanager
def connected(spec: str) -> Iterator[tuple[CoffeeMachine, Capture]]:
    connection = Connection(transport_for(parse_spec(spec)), timeout=3.0)
    capture = Capture(spec)
    connection.attach(capture)
    with CoffeeMachine(connection) as machine:
        yield machine, capture


def open_spec(spec: str) -> None:
    Connection(transport_for(parse_spec(spec))).open()


def event_of_length(length: int) -> bytes:
    """An EVENT frame whose encoded form is exactly ``length`` bytes."""
    for pad in range(length):
        raw = Message(Kind.EVENT, MsgType.EVENT, 7, {"pad": "p" * pad}).encode()
        if len(raw) == length:
            return raw
    raise AssertionError(f"no padding gives a {length}-byte frame")


def test_two_machines_on_one_bus_are_picked_by_serial_and_by_port() -> None:
    bus = EmulatedUsbBus()
    links = [UsbLink(EmulatedMachine(fw, serial=f"BB00{n}"), bus) for n, fw in ((1, "1.0"),
                                                                              (2, "2.0"))]
    for one in links:
        one.start()
    try:
        with connected(links[1].url) as (machine, _):
            assert machine.identify().serial == "BB002"
        with connected(f"usb://?port=1-1&backend={bus.name}") as (machine, _):
            assert machine.identify().firmware == "1.0"
        with pytest.raises(DeviceSpecError, match=r"2 USB devices match.*BB001.*add \?serial"):
            open_spec(f"usb://1209:c0fe?backend={bus.name}")
    finally:
        for one in links:
            one.stop()


def test_exact_multiple_of_packet_and_frames_larger_than_a_packet(link: UsbLink) -> None:
    with connected(link.url) as (machine, capture):
        exact = event_of_length(2 * MAX_PACKET)
        link.device.send_in(exact)
        link.machine.emit_event({"blob": "b" * 3000})
        events = machine.events(timeout=2.0)
        while len(events) < 2:
            events += machine.events(timeout=2.0)
        assert events[0].body["pad"] and events[1].body["blob"] == "b" * 3000
        assert [e.record.raw for e in capture.frames(direction="rx")][-2] == exact
        machine.provision("M" * 300, "Owner " * 40, "Org", "Site", "Floor 9")
        assert link.machine.settings["machine_name"] == "M" * 300  # 64-byte OUT packets
        assert machine.connection.transport.max_write == MAX_PACKET


def test_stalled_out_endpoint_is_a_clear_error_and_recovers(link: UsbLink) -> None:
    with connected(link.url) as (machine, capture):
        link.device.halt(EP_OUT)
        with pytest.raises(TransferError, match=r"bulk OUT 0x01.*stalled.*cleared the halt"):
            machine.status()
        assert link.device.cleared == [EP_OUT]
        assert machine.status()["state"] == "ready"
        [stall] = [e.record.meta for e in capture.link_events() if e.record.meta["status"] != "ok"]
        assert (stall["endpoint"], stall["status"], stall["recovery"]) == (EP_OUT, "stall",
                                                                           "clear_halt")


def test_stalled_in_endpoint_and_babble_are_recovered_by_the_reader(link: UsbLink) -> None:
    with connected(link.url) as (machine, capture):
        link.device.halt(EP_IN)
        assert machine.status()["state"] == "ready"
        link.device.faults.babble_reads = 1
        assert machine.status()["state"] == "ready"
        faults = [(e.record.meta["endpoint"], e.record.meta["status"])
                  for e in capture.link_events() if e.record.meta["status"] != "ok"]
        assert faults == [(EP_IN, "stall"), (EP_IN, "overflow")]
        assert link.device.cleared == [EP_IN]


def test_control_request_stalls_are_recorded_and_do_not_end_the_link(link: UsbLink) -> None:
    link.device.faults.stall_vendor_requests = 1  # GET_STATUS at open: a machine without it
    with connected(link.url) as (machine, capture):
        transport = machine.connection.transport
        assert isinstance(transport, UsbTransport)
        with pytest.raises(TransferError, match=r"control request 0x7f.*stalled"):
            transport.control(0xC0, 0x7F, data_or_length=4)
        assert transport.status().ready is True
        transport.reset_link()  # vendor RESET: the link starts afresh, the machine keeps going
        assert machine.status()["state"] == "ready"
    controls = [(e.record.meta["request"], e.record.meta["status"])
                for e in capture.link_events()]
    assert controls == [(0x01, "stall"), (0x7F, "stall"), (0x01, "ok"), (0x02, "ok")]


def test_device_that_naks_writes_times_out_with_its_name(link: UsbLink) -> None:
    transport = UsbTransport.from_spec(parse_spec(link.url))
    transport.write_timeout_ms = 30
    with CoffeeMachine(Connection(transport)) as machine:
        link.device.faults.nak_writes = 1
        with pytest.raises(Timeout, match=r"bulk OUT 0x01.*timed out") as timeout:
            machine.status()
        assert link.url in str(timeout.value)
        assert machine.status()["state"] == "ready"


def test_unplug_mid_action_is_a_disconnect_with_the_capture_kept(link: UsbLink,
                                                                 tmp_path: Path) -> None:
    with connected(link.url) as (machine, capture):
        link.machine.faults.hang_up_on = "BREW"
        with pytest.raises(DeviceDisconnected, match=r"left the bus|link lost"):
            machine.brew("latte")
        assert isinstance(machine.connection.link_error, DeviceDisconnected)
        saved = Capture.load(capture.save(tmp_path / "unplugged.jsonl"))
    [brew] = [span for span in saved.actions if span.name == "brew"]
    assert brew.outcome == "error" and "DeviceDisconnected" in brew.detail
    assert saved.messages(action="brew", direction="tx")[0].body["drink"] == "latte"


def test_replug_is_found_again_by_the_same_spec(link: UsbLink) -> None:
    with connected(link.url) as (machine, _):
        first = machine.connection.transport.describe()
        link.unplug()
        with pytest.raises(DeviceDisconnected):
            machine.status()
    link.machine.faults.hang_up_on = None
    link.plug()
    with connected(link.url) as (machine, _):
        again = machine.connection.transport.describe()
        assert machine.status()["state"] == "ready"
    assert again["port"] == first["port"] and again["address"] != first["address"]


def test_interface_claimed_elsewhere_is_reported(link: UsbLink) -> None:
    with connected(link.url), pytest.raises(DeviceNotFound, match="claimed by another"):
        open_spec(link.url)


def test_kernel_driver_is_detached_and_given_back(link: UsbLink) -> None:
    link.device.kernel_driver = True
    with connected(link.url) as (machine, _):
        assert link.device.kernel_driver is False
        assert machine.status()["state"] == "ready"
    assert link.device.kernel_driver is True


@pytest.mark.parametrize(("spec", "message"), [
    ("usb://zz:c0fe", "not VID:PID in hex"),
    ("usb://1209:c0fe?colour=red", "unknown parameter"),
    ("usb://", "name the device"),
    ("usb://1209:c0fe?backend=nowhere", "no USB backend 'nowhere'"),
    ("serial+usb://0403:6001?speed=9", "unknown parameter"),
])
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(DeviceSpecError, match=message):
        open_spec(spec)


def test_absent_device_is_not_found(link: UsbLink) -> None:
    spec = link.url.replace(link.machine.serial, "NOPE")
    with pytest.raises(DeviceNotFound, match=f"no such USB device.*{link.machine.serial}"):
        open_spec(spec)
    with pytest.raises(DeviceNotFound, match=r"present: 1209:c0fe at 1-1\)"):  # no serials read
        open_spec(f"usb://dead:beef?backend={link.bus.name}")
    with pytest.raises(DeviceNotFound):  # real hardware: no libusb, or no such device on it
        open_spec("usb://1209:c0fe?serial=NOPE")


def usb_port(device: str, vid: int, pid: int, serial: str, location: str) -> ListPortInfo:
    port = ListPortInfo(device)
    port.vid, port.pid, port.serial_number, port.location = vid, pid, serial, location
    return port


def test_usb_serial_port_is_chosen_by_ids_and_serial() -> None:
    ports = [ListPortInfo("/dev/ttyS0"), usb_port("/dev/ttyUSB0", 0x0403, 0x6001, "A1", "1-2:1.0"),
             usb_port("/dev/ttyUSB1", 0x0403, 0x6001, "B2", "1-3:1.0"),
             usb_port("/dev/ttyACM0", 0x1209, 0xC0FE, "BB1", "1-4:1.0")]
    pick = lambda text: UsbSerialTransport.from_spec(parse_spec(text)).find(ports).device  # noqa: E731
    assert pick("serial+usb://0403:6001?serial=B2") == "/dev/ttyUSB1"
    assert pick("serial+usb://1209:c0fe") == "/dev/ttyACM0"
    assert pick("serial+usb://?location=1-2:1.0") == "/dev/ttyUSB0"
    with pytest.raises(DeviceSpecError, match="2 serial ports match"):
        pick("serial+usb://0403:6001")
    with pytest.raises(DeviceNotFound, match=r"no USB serial port matches.*ttyUSB0 0403:6001"):
        pick("serial+usb://0403:6001?serial=C3")
    transport = transport_for(parse_spec("serial+usb://0403:6001?serial=NOT-PLUGGED-IN"))
    with pytest.raises(DeviceNotFound, match="NOT-PLUGGED-IN"):
        Connection(transport).open()


def usb_session(tmp_path: Path) -> tuple[Capture, Path, int]:
    """A short USB session with one stalled write, exported as pcap."""
    with open_device("emu://?firmware=2.1&transport=usb") as device:
        device.machine.brew("latte")
        assert device.emulator is not None
        link = device.emulator.link
        assert isinstance(link, UsbLink)
        link.device.halt(EP_OUT)
        with pytest.raises(TransferError):
            device.machine.status()
        capture = device.capture
    count = export_usb_pcap(capture, tmp_path / "usb.pcap")
    return capture, tmp_path / "usb.pcap", count


def test_capture_exports_as_usbmon_pcap(tmp_path: Path) -> None:
    capture, path, count = usb_session(tmp_path)
    data = path.read_bytes()
    assert int.from_bytes(data[20:24], "little") == 220  # LINKTYPE_USB_LINUX_MMAPPED
    offset, seen = 24, []
    while offset < len(data):
        size = int.from_bytes(data[offset + 8 : offset + 12], "little")
        header = USBMON_HEADER.unpack_from(data, offset + 16)
        seen.append((chr(header[1]), header[2], header[3], header[4]))
        offset += 16 + size
    # the control transfer is a submit and a completion, the stall one bulk submit
    assert len(seen) == count == 2 + len(capture.frames()) + 1
    address = int(capture.meta["address"])
    assert seen[:2] == [("S", 2, 0x80, address), ("C", 2, 0x80, address)]
    assert ("S", 3, EP_OUT, address) in seen and ("C", 3, EP_IN, address) in seen


@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark (apt-get install tshark)")
def test_wireshark_dissects_the_pcap(tmp_path: Path) -> None:
    _, path, count = usb_session(tmp_path)
    fields = ["usb.urb_type", "usb.transfer_type", "usb.endpoint_address", "usb.urb_status"]
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields",
                          *(arg for field in fields for arg in ("-e", field))],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert len(rows) == count
    assert rows[0][:3] == ["'S'", "0x02", "0x80"] and rows[1][:3] == ["'C'", "0x02", "0x80"]
    assert ["'S'", "0x03", "0x01", "0"] in rows and ["'C'", "0x03", "0x81", "0"] in rows
    assert rows[-1] == ["'C'", "0x03", "0x01", f"-{errno.EPIPE}"]  # the stalled write
