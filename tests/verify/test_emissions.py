"""Emissions: every field a device emitted, and nothing dropped."""

from __future__ import annotations

from brewbench.bench.capture import Capture, Entry
from brewbench.bench.devices import open_device
from brewbench.bench.verify.classify import classify
from brewbench.bench.verify.emissions import emissions
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.records import RX, TX, Record, Stamp


def test_paths_types_directions_and_actions() -> None:
    capture = Capture("test")
    record = Message(Kind.EVENT, MsgType.RECORD, 1, {"drink": "latte", "ingredients": ["a", "b"],
                                                     "location": {"lat": 48.1, "lon": 11.5}})
    capture.entries.append(Entry("sync", Record("usb", RX, Stamp(1, 2), record.encode(), record)))
    error = Message(Kind.ERROR, MsgType.PAY, 2, {"code": 5, "message": "declined"})
    capture.entries.append(Entry("pay", Record("usb", RX, Stamp(3, 4), error.encode(), error)))
    sent = Message(Kind.REQUEST, MsgType.PAY, 2, {"method": "card"})
    capture.entries.append(Entry("pay", Record("usb", TX, Stamp(2, 3), sent.encode(), sent)))
    found = emissions(capture)
    assert [(e.path, e.value, e.message_type, e.channel, e.action) for e in found] == [
        ("RECORD.drink", "latte", "RECORD", "usb", "sync"),
        ("RECORD.ingredients[]", "a", "RECORD", "usb", "sync"),
        ("RECORD.ingredients[]", "b", "RECORD", "usb", "sync"),
        ("RECORD.location.lat", 48.1, "RECORD", "usb", "sync"),
        ("RECORD.location.lon", 11.5, "RECORD", "usb", "sync"),
        ("ERROR.code", 5, "PAY", "usb", "pay"),
        ("ERROR.message", "declined", "PAY", "usb", "pay"),
    ]
    assert found[0].field == "drink" and found[0].stamp == Stamp(1, 2)
    assert [e.path for e in emissions(capture, direction=TX)] == ["PAY.method"]
    assert len(emissions(capture, direction=None)) == 8
    labels = classify(found)
    assert labels[3].categories == ("location",) and labels[3].labels[0].reason == "schema"


def test_undecodable_and_link_records_become_opaque_emissions() -> None:
    capture = Capture("test")
    capture.entries.append(Entry("brew", Record("serial", RX, Stamp(1, 1), b"\x07garbage",
                                                error="CRC mismatch")))
    capture.entries.append(Entry("idle", Record("ble-adv", RX, Stamp(2, 2), b"\x02\x01\x06",
                                                meta={"local_name": "CM-Lobby", "rssi": -60,
                                                      "manufacturer_data": {"65535": "00ff"}})))
    found = emissions(capture)
    assert [(e.path, e.value, e.opaque) for e in found] == [
        ("unknown.frame", b"\x07garbage", True),
        ("link.ble-adv", b"\x02\x01\x06", True),
        ("link.ble-adv.local_name", "CM-Lobby", False),
        ("link.ble-adv.rssi", -60, False),
        ("link.ble-adv.manufacturer_data.65535", "00ff", False),
    ]
    assert [item.categories for item in classify(found)] == [
        ("unknown",), ("unknown",), ("device",), ("device",), ("unknown",)]


def test_a_corrupted_frame_on_the_serial_link_is_kept_as_unknown() -> None:
    with open_device("emu://?firmware=1.0&transport=serial") as device:
        assert device.emulator is not None
        device.emulator.machine.faults.corrupt_next = 1  # the first event of the brew
        device.machine.brew("latte")  # the reply follows the bad frame on the same stream
        found = emissions(device.capture)
    opaque = [e for e in found if e.path == "unknown.frame"]
    assert len(opaque) == 1 and opaque[0].action == "brew" and opaque[0].value
