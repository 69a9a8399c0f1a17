"""A hostile btsnoop log cannot exhaust or stall ``brewbench import btsnoop``.

The logs are written byte by byte (the format's layout: bench/bluetooth/btsnoop.py)
and each test shows the bound and the line that says what was cut
(docs/reliability.md, "Imports").
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brewbench.bench.bluetooth import att as att_module
from brewbench.bench.bluetooth.att import MAX_PREPARED
from brewbench.bench.bluetooth.btsnoop_import import import_btsnoop
from brewbench.bench.cli.main import main
from brewbench.bench.printout import print_capture

from .test_btsnoop import acl, att, header, record


def notify(handle: int, value: bytes) -> bytes:
    return acl(att(b"\x1b" + struct.pack("<H", handle) + value))[0]


def prepare(handle: int, offset: int, part: bytes) -> bytes:
    return acl(att(b"\x16" + struct.pack("<HH", handle, offset) + part))[0]


EXECUTE = acl(att(b"\x18\x01"))[0]
PACKETS = 60_000  # twice the capture's record bound
# The import's own peak (VmHWM, in kB): a child's ru_maxrss also counts the copy of its
# parent (this test process, grown by the capture above) it held before exec.
PEAK_RSS = """import sys
from pathlib import Path
from brewbench.bench.bluetooth.btsnoop_import import import_btsnoop
import_btsnoop(Path(sys.argv[1]))
with open("/proc/self/status") as status:
    print(int(next(line.split()[1] for line in status if line.startswith("VmHWM:"))) / 1024)
"""


def write_log(path: Path, packets: list[tuple[bytes, bool]]) -> Path:
    path.write_bytes(header() + b"".join(record(h4, received, n)
                                         for n, (h4, received) in enumerate(packets)))
    return path


def test_twenty_thousand_prepared_parts_join_in_linear_time_within_the_bound(
        tmp_path: Path) -> None:
    parts = [(prepare(0x100 + n, 0, b"%05d" % n), False) for n in range(20_000)]
    path = write_log(tmp_path / "long-writes.log", [*parts, (EXECUTE, False)])
    started = time.monotonic()
    capture = import_btsnoop(path)
    assert time.monotonic() - started < 10  # 20.6 s when joining was quadratic
    writes = [e.record for e in capture.entries if e.record.meta.get("gatt") == "write"]
    kept_parts = MAX_PREPARED // 5
    assert len(writes) + capture.meta.get("overflow", {}).get("records", 0) == kept_parts
    assert writes[0].raw == b"00000" and writes[0].meta["parts_dropped"] == 20_000 - kept_parts


def test_a_large_log_imports_in_bounded_memory_and_says_what_it_did_not_keep(
        tmp_path: Path) -> None:
    value = b"Ada Canary-7F3A telemetry " * 8
    path = tmp_path / "flood.log"
    with path.open("wb") as out:
        out.write(header())
        packet = notify(0x12, value)
        for n in range(PACKETS):
            out.write(record(packet, True, n))
    capture = import_btsnoop(path)
    assert capture.meta["btsnoop"]["packets"] == PACKETS
    kept = len(capture.entries)
    cut = capture.meta["overflow"]["channels"]["ble"]["records"]
    assert kept <= capture.max_records + 1 and kept + cut == PACKETS + 1  # + the note
    peak = subprocess.run([sys.executable, "-c", PEAK_RSS, str(path)], check=True,
                          capture_output=True, text=True, timeout=120).stdout
    assert float(peak) < 300, f"peak RSS {peak} MB"  # issue 28: at most 300 MB
    printed = io.StringIO()
    print_capture(capture, printed)
    assert "not kept: ble:" in printed.getvalue()


def test_a_damaged_record_after_good_ones_keeps_them_and_says_where(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_log(tmp_path / "damaged.log", [(notify(0x12, b"first"), True),
                                                  (notify(0x12, b"second"), True)])
    with path.open("ab") as out:
        out.write(struct.pack(">IIIIq", 1 << 30, 1 << 30, 1, 0, 0) + b"junk")
    capture = import_btsnoop(path)
    assert [e.record.raw for e in capture.entries] == [b"first", b"second"]
    assert "the 2 packet(s) before it are kept" in capture.meta["btsnoop"]["damaged"]
    monkeypatch.setenv("BREWBENCH_LAB_KEY_FILE", str(tmp_path / "lab.key"))
    assert main(["import", "btsnoop", str(path)]) == 0
    assert "file damaged:" in capsys.readouterr().out



def test_links_followed_in_the_middle_of_a_pdu_are_bounded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(att_module, "MAX_LINKS", 2)
    pdu = att(b"\x1b\x12\x00" + b"value of link %d")
    packets = []
    for connection in (0x40, 0x41, 0x42):  # three links each start a PDU in two pieces
        packets.append((acl(pdu % connection, connection=connection, cut=5)[0], True))
    for connection in (0x40, 0x41, 0x42):
        packets.append((acl(pdu % connection, connection=connection, cut=5)[1], True))
    capture = import_btsnoop(write_log(tmp_path / "many-links.log", packets))
    assert sorted(e.record.raw for e in capture.entries) == [b"value of link 64",
                                                             b"value of link 65"]
