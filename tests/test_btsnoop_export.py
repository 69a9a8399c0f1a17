"""brewbench export btsnoop: captures of emulated BLE sessions as btsnoop logs that real
tshark lists and brewbench import btsnoop reads back to the same records."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from brewbench.bench.bluetooth.btsnoop_export import export_btsnoop
from brewbench.bench.bluetooth.btsnoop_import import import_btsnoop
from brewbench.bench.capture import Capture, Entry
from brewbench.bench.cli.main import main
from brewbench.bench.devices import open_device
from brewbench.bench.verify.capture_redaction import save_capture
from brewbench.drivers.ecam.frames import ANSWER, encode
from brewbench.drivers.records import RX, TX, Record, Stamp

ECAM = "emu://?family=ecam&transport=ble"
KEYS = ("family", "command", "data", "status", "profiles", "statistics", "brew")


def signature(capture: Capture) -> list[tuple[str, bytes, dict[str, Any]]]:
    """What must survive the round trip: direction, bytes and what the frame means."""
    return [(e.record.direction, e.record.raw, {k: e.record.meta[k] for k in KEYS
                                                if k in e.record.meta})
            for e in capture.entries if e.record.channel == "ble"]


def session(spec: str, tmp_path: Path) -> Path:
    """A short session on an emulated machine, saved with its raw bytes."""
    with open_device(spec) as device:
        machine = device.machine
        machine.status()
        machine.brew("espresso")
        if device.family == "ecam":
            machine.read_counters()
            machine.write_profile(3, "Zoë")
            machine.read_settings()
        capture = device.capture
    path = tmp_path / "session.jsonl"
    save_capture(capture, path, raw=True)
    return path


def tshark_att(log: Path) -> list[tuple[int, int | None, bytes]]:
    if shutil.which("tshark") is None:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail("tshark is not installed (CI=true: it must be)", pytrace=False)
        pytest.skip("needs tshark (apt-get install tshark)")
    out = subprocess.run(["tshark", "-r", str(log), "-Y", "btatt", "-T", "fields",
                          "-E", "separator=/t", "-e", "btatt.opcode", "-e", "btatt.handle",
                          "-e", "btatt.value"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    rows = []
    for line in out.splitlines():
        opcode, handle, value = [*line.split("\t"), "", ""][:3]
        rows.append((int(opcode, 16), int(handle, 16) if handle else None,
                     bytes.fromhex(value.replace(":", ""))))
    return rows


def test_tshark_lists_the_ecam_session_and_the_import_gives_it_back(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = session(ECAM, tmp_path)
    log = tmp_path / "session.btsnoop"
    assert main(["export", "btsnoop", str(saved), "-o", str(log)]) == 0
    assert "handles: write 0x0012, notify 0x0012" in capsys.readouterr().out
    original = Capture.load(saved)
    rows = tshark_att(log)
    writes = [value for opcode, handle, value in rows if opcode == 0x12 and handle == 0x12]
    notified = [value for opcode, handle, value in rows if opcode == 0x1B and handle == 0x12]
    sent = [raw for d, raw, meta in signature(original) if d == TX]
    received = [raw for d, raw, meta in signature(original) if d == RX and "family" in meta]
    assert writes == sent and bytes.fromhex("0d05750fda25") in writes  # the monitor request
    assert notified == received and any(v.startswith(bytes.fromhex("d012750f")) for v in notified)
    reads = {value for opcode, _, value in rows if opcode == 0x0B}
    assert b"ECAM 650.75.MS" in reads and b"D1538752" in reads
    back = import_btsnoop(log)
    assert signature(back) == signature(original)
    assert any(p.get("name") == "Zoë" for e in back.entries
               for p in e.record.meta.get("profiles", []))


def test_a_cm500_ble_session_round_trips_too(tmp_path: Path) -> None:
    saved = session("emu://?transport=ble", tmp_path)
    log = tmp_path / "cm500.btsnoop"
    summary = export_btsnoop(Capture.load(saved), log)
    assert summary.handles["write"] == 0x10 and summary.handles["notify"] == 0x12
    rows = tshark_att(log)
    assert {opcode for opcode, _, _ in rows} >= {0x02, 0x03, 0x0A, 0x0B, 0x12, 0x13, 0x1B}
    original, back = Capture.load(saved), import_btsnoop(log)
    keep = [(e.record.direction, e.record.raw) for e in original.entries
            if e.record.channel == "ble"]
    assert [(e.record.direction, e.record.raw) for e in back.entries] == keep
    assert [e.record.message.type for e in back.entries if e.record.message] == \
        [e.record.message.type for e in original.entries if e.record.message]


def test_values_longer_than_one_pdu_go_as_long_writes_and_split_notifications(
        tmp_path: Path) -> None:
    capture = Capture("long", {"family": "ecam", "address": "C0:FF:EE:00:00:01"})
    request, answer = encode(0xA5, bytes(range(251))), encode(0xA5, bytes(251), ANSWER)
    for direction, raw in ((TX, request), (RX, answer)):
        capture.entries.append(Entry("idle", Record("ble", direction, Stamp(1, 10**18), raw)))
    log = tmp_path / "long.btsnoop"
    export_btsnoop(capture, log)
    rows = tshark_att(log)
    opcodes = [opcode for opcode, _, _ in rows]
    assert opcodes.count(0x16) == 2 and 0x18 in opcodes  # prepare, prepare, execute
    assert [len(v) for o, _, v in rows if o == 0x1B] == [244, 12]
    back = import_btsnoop(log)
    assert [(d, raw) for d, raw, _ in signature(back)] == [(TX, request), (RX, answer)]
    assert [meta["command"] for _, _, meta in signature(back)] == ["set_profile_name"] * 2


def test_a_redacted_capture_says_what_to_do(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with open_device(ECAM) as device:
        device.machine.status()
        capture = device.capture
    saved = tmp_path / "redacted.jsonl"
    save_capture(capture, saved)
    assert main(["export", "btsnoop", str(saved)]) == 2
    err = capsys.readouterr().err.strip()
    assert "nothing to export" in err and "--raw-captures" in err and "\n" not in err
    assert not saved.with_suffix(".btsnoop").exists()
    assert main(["export", "btsnoop", str(tmp_path / "missing.jsonl")]) == 2


def test_a_capture_imported_from_a_log_keeps_its_handles(tmp_path: Path) -> None:
    capture = Capture("imported", {"imported": "btsnoop"})
    request = bytes.fromhex("0d 05 75 0f da 25")
    answer = bytes.fromhex("d0 12 75 0f 01 15 00 00 00 07 00 00 00 00 00 00 00 aa 31")
    for direction, raw, handle in ((TX, request, 0x2A), (RX, answer, 0x2C)):
        capture.entries.append(Entry("idle", Record("ble", direction, Stamp(1, 10**18), raw,
                                                    meta={"handle": handle})))
    first = tmp_path / "first.btsnoop"
    export_btsnoop(capture, first)
    assert [(o, h) for o, h, _ in tshark_att(first) if o in (0x12, 0x1B)] == [(0x12, 0x2A),
                                                                             (0x1B, 0x2C)]
    again = tmp_path / "again.btsnoop"
    export_btsnoop(import_btsnoop(first), again)
    assert signature(import_btsnoop(again)) == signature(import_btsnoop(first))
    assert import_btsnoop(again).entries[1].record.meta["status"]["switches_named"] == \
        ["water_tank_out"]
