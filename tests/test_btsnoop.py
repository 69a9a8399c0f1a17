"""brewbench import btsnoop: phone Bluetooth logs as captures."""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from brewbench.bench.bluetooth.btsnoop import UNIX_EPOCH_US, BtsnoopError, read_btsnoop
from brewbench.bench.bluetooth.btsnoop_import import import_btsnoop
from brewbench.bench.capture import Capture
from brewbench.bench.devices import open_device
from brewbench.bench.verify.classify import classify
from brewbench.bench.verify.emissions import emissions
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.records import RX, TX
from brewbench.emulator.ble_air import Air
from brewbench.emulator.ble_link import BleLink
from brewbench.emulator.machine import EmulatedMachine

SERIAL_NUMBER = "BB5151"
WALL_US = 1_700_000_000_000_000  # 2023-11-14, in microseconds since 1970
REQUEST = Message(Kind.REQUEST, MsgType.STATUS, 7, {"verbose": True})
ANSWER = Message(Kind.RESPONSE, MsgType.STATUS, 7, {"state": "ready", "owner": "Ada Canary"})


def header(version: int = 1, datalink: int = 1002) -> bytes:
    return b"btsnoop\0" + struct.pack(">II", version, datalink)


def record(h4: bytes, received: bool, at_us: int, flags: int = 0) -> bytes:
    stamp = UNIX_EPOCH_US + WALL_US + at_us
    return struct.pack(">IIIIq", len(h4), len(h4), flags | received, 0, stamp) + h4


def acl(l2cap: bytes, connection: int = 0x40, cut: int | None = None) -> list[bytes]:
    """The H4 ACL packets carrying one L2CAP PDU, in two pieces when ``cut`` is given."""
    pieces = [l2cap] if cut is None else [l2cap[:cut], l2cap[cut:]]
    return [b"\x02" + struct.pack("<HH", connection | ((0b01 if i else 0b10) << 12), len(p)) + p
            for i, p in enumerate(pieces)]


def att(pdu: bytes) -> bytes:
    return struct.pack("<HH", len(pdu), 4) + pdu


def built_log() -> bytes:
    """A phone's view: it writes a request in two ACL pieces, reads the serial number,
    gets the answer notified split over two notifications, and one HCI event passes by."""
    wire, answer = REQUEST.encode(), ANSWER.encode()
    packets = [(b"\x04\x0e\x04\x01\x03\x0c\x00", True)]  # Command Complete: not ATT
    packets += [(p, False) for p in acl(att(b"\x12\x10\x00" + wire), cut=7)]
    packets += [(acl(att(b"\x0a\x03\x00"))[0], False),
                (acl(att(b"\x0b" + SERIAL_NUMBER.encode()))[0], True),
                (acl(att(b"\x1b\x12\x00" + answer[:9]))[0], True),
                (acl(att(b"\x1b\x12\x00" + answer[9:]))[0], True)]
    body = b"".join(record(h4, received, 1000 * n) for n, (h4, received) in enumerate(packets))
    return header() + body + record(b"\x02\x40\x20", True, 9999)[:-2]  # cut short: ignored


def test_a_log_built_byte_by_byte_imports_as_sent(tmp_path: Path) -> None:
    path = tmp_path / "btsnoop_hci.log"
    path.write_bytes(built_log())
    assert len(read_btsnoop(path)) == 7
    records = [entry.record for entry in import_btsnoop(path).entries]
    assert [(r.direction, r.message) for r in records] == [
        (TX, REQUEST), (RX, None), (RX, ANSWER)]
    write, read, notify = records
    assert write.raw == REQUEST.encode() and notify.raw == ANSWER.encode()
    assert write.meta["gatt"] == "write" and write.meta["handle"] == 0x10
    assert write.stamp.wall_ns == (WALL_US + 2000) * 1000  # the packet that completed it
    assert read.raw == SERIAL_NUMBER.encode()
    assert read.meta == {"gatt": "read", "handle": 3, "connection": 0x40, "packet": 5,
                         "value": SERIAL_NUMBER}
    assert notify.meta["gatt"] == "notify" and notify.meta["packet"] == 7


def as_datalink(log: bytes, datalink: int) -> bytes:
    """The H4 log re-written as another datalink, record by record, as BlueZ's
    src/shared/btsnoop.c writes them: 1001 drops the type byte and keeps the flags;
    2001 (btmon) puts the adapter index in the flags' high half and an opcode in the low
    (2 command, 3 event, 4 ACL sent, 5 ACL received), and logs other things between."""
    out, at = [header(datalink=datalink)], 16
    opcodes = {(1, False): 2, (4, True): 3, (2, False): 4, (2, True): 5}
    if datalink == 2001:  # an adapter appears (New Index: type, bus, address, name)
        out.append(struct.pack(">IIIIq", 16, 16, 0, 0, 0) + bytes(16))
    while at + 24 <= len(log):
        _, included, flags, drops, stamp = struct.unpack(">IIIIq", log[at:at + 24])
        data = log[at + 24:at + 24 + included]
        if len(data) < included:
            break
        at += 24 + included
        if datalink == 1001:  # bit 1 marks commands and events (H4 types 1 and 4)
            flags, data = (flags & 1) | (2 if data[0] in (1, 4) else 0), data[1:]
        else:
            flags, data = (1 << 16) | opcodes[data[0], bool(flags & 1)], data[1:]
            out.append(struct.pack(">IIIIq", 5, 5, (1 << 16) | 12, 0, stamp) + b"note\0")
        out.append(struct.pack(">IIIIq", len(data), len(data), flags, drops, stamp) + data)
    return b"".join(out)


@pytest.mark.parametrize("datalink", [1001, 2001])
def test_hci_and_btmon_logs_import_as_the_h4_log_does(tmp_path: Path, datalink: int) -> None:
    h4 = tmp_path / "h4.log"
    h4.write_bytes(built_log())
    other = tmp_path / f"{datalink}.log"
    other.write_bytes(as_datalink(built_log(), datalink))
    assert [(p.h4_type, p.received, p.data) for p in read_btsnoop(other)] == [
        (p.h4_type, p.received, p.data) for p in read_btsnoop(h4)]
    expected = [(e.record.direction, e.record.message, e.record.raw, e.record.meta)
                for e in import_btsnoop(h4).entries]
    got = [(e.record.direction, e.record.message, e.record.raw, e.record.meta)
           for e in import_btsnoop(other).entries]
    assert got == expected and len(got) == 3


def test_the_command_classifies_and_hunts_canaries(tmp_path: Path) -> None:
    path = tmp_path / "btsnoop_hci.log"
    path.write_bytes(built_log())
    done = subprocess.run([sys.executable, "-m", "brewbench", "import", "btsnoop", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "3 ATT records" in done.stdout
    saved = (tmp_path / "btsnoop_hci.jsonl").read_text()
    assert "Ada Canary" not in saved  # redacted unless --raw
    assert '"channel": "ble"' in saved


@pytest.mark.parametrize(("data", "says"), [
    (b"hello, not a log", "not a btsnoop file"),
    (header(version=2), "version 2"),
    (header(datalink=1003), "datalink 1003"),
    (header() + struct.pack(">IIIIq", 1 << 30, 1 << 30, 0, 0, 0), "damaged"),
])
def test_a_bad_file_is_one_line_and_exit_2(tmp_path: Path, data: bytes, says: str) -> None:
    path = tmp_path / "bad.log"
    path.write_bytes(data)
    with pytest.raises(BtsnoopError, match=says):
        read_btsnoop(path)
    done = subprocess.run([sys.executable, "-m", "brewbench", "import", "btsnoop", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and says in done.stderr


def emulated_session(tmp_path: Path) -> Capture:
    """A bench session over the emulated BLE air, both sides writing HCI snoop logs."""
    with Air(snoop_dir=tmp_path) as air:
        link = BleLink(EmulatedMachine("1.0", serial=SERIAL_NUMBER), air)
        link.start()
        with open_device(f"ble://address={link.address}?backend={air.name}") as device:
            device.machine.status()
            device.machine.identify()
            capture = device.capture
        link.stop()
    return capture


def frames(capture: Capture) -> list[tuple[str, bytes]]:
    return [(e.record.direction, e.record.raw) for e in capture.frames()]


def test_the_emulated_airs_logs_import_to_what_the_driver_sent(tmp_path: Path) -> None:
    live = emulated_session(tmp_path)
    sent = frames(live)
    assert (TX, sent[0][1]) in sent and any(d == RX for d, _ in sent)
    logs = sorted(tmp_path.glob("machine-*.btsnoop")) + sorted(tmp_path.glob("central-*.btsnoop"))
    assert len(logs) == 2
    for log in logs:  # the machine's side and the phone's (the scanner's has no ATT)
        imported = import_btsnoop(log)
        assert frames(imported) == sent, log.name
        assert imported.frame_errors == 0
        reads = [e.record.meta.get("value") for e in imported.link_events()]
        assert SERIAL_NUMBER in reads, log.name


def test_wireshark_reads_the_logs_the_import_reads(tmp_path: Path) -> None:
    if shutil.which("tshark") is None:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail("tshark is not installed (CI=true: it must be)", pytrace=False)
        pytest.skip("needs tshark (apt-get install tshark)")
    emulated_session(tmp_path)
    log = tmp_path / "central-3.btsnoop"
    out = subprocess.run(["tshark", "-r", str(log), "-Y", "btatt.opcode == 0x12",
                          "-T", "fields", "-e", "btatt.value"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    written = bytes.fromhex("".join(out.split()).replace(":", ""))
    assert written == b"".join(raw for d, raw in frames(import_btsnoop(log)) if d == TX)


def test_ecam_frames_in_a_log_are_decoded(tmp_path: Path) -> None:
    """A De'Longhi app's monitor request and the machine's status answer (frames
    published with their meaning, tests/families/test_ecam.py), the answer split
    over two notifications as a 20-byte ATT payload limit would cut it."""
    request = bytes.fromhex("0d 05 75 0f da 25")
    answer = bytes.fromhex("d0 12 75 0f 01 15 00 00 00 07 00 00 00 00 00 00 00 aa 31")
    packets = [(acl(att(b"\x52\x11\x00" + request))[0], False),
               (acl(att(b"\x1b\x11\x00" + answer[:10]))[0], True),
               (acl(att(b"\x1b\x11\x00" + answer[10:]))[0], True)]
    path = tmp_path / "ecam.log"
    path.write_bytes(header() + b"".join(record(h4, received, n)
                                         for n, (h4, received) in enumerate(packets)))
    capture = import_btsnoop(path)
    records = [entry.record for entry in capture.entries]
    assert [(r.direction, r.raw, r.error) for r in records] == [
        (TX, request, None), (RX, answer, None)]
    assert records[0].meta["command"] == "monitor" and records[0].meta["family"] == "ecam"
    assert records[1].meta["status"]["switches_named"] == ["water_tank_out"]
    assert capture.meta["btsnoop"]["ecam_handles"] == [0x11]
    found = {c.emission.path: c.categories for c in classify(emissions(capture))}
    assert found["link.ble.status.function"] == found["link.ble.command"] == ("device",)
    assert found["link.ble.handle"] == ("device",)


def test_a_mangled_log_imports_or_is_refused_never_crashes(tmp_path: Path) -> None:
    """Flipped, dropped and repeated bytes anywhere after the header: the import
    keeps what it can read or refuses the file with a BtsnoopError."""
    good = built_log()
    rng = random.Random(16)
    path = tmp_path / "mangled.log"
    for _ in range(400):
        data = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(16, len(data))
            choice = rng.random()
            if choice < 0.6:
                data[at] = rng.randrange(256)
            elif choice < 0.8:
                del data[at:at + rng.randint(1, 8)]
            else:
                data[at:at] = data[at:at + rng.randint(1, 8)]
        path.write_bytes(bytes(data))
        try:
            capture = import_btsnoop(path)
        except BtsnoopError:
            continue
        emissions(capture)  # and what it kept can be analysed
