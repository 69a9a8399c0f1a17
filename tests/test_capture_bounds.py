"""A hostile device cannot grow the bench's memory: floods, babble and a full inbox are
kept in bounded memory, counted, and saved (docs/reliability.md, "Memory and capture bounds")."""

from __future__ import annotations

import contextlib
import io
import os
import random
import subprocess
import sys
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from brewbench.bench.capture import Capture, Entry
from brewbench.bench.capture_store import WINDOW, WINDOW_BYTES, EntryStore
from brewbench.bench.devices import open_device
from brewbench.bench.printout import print_capture
from brewbench.bench.verify.capture_redaction import classify_capture, save_capture
from brewbench.bench.verify.redact import Redactor
from brewbench.bench.verify.verification import verify
from brewbench.drivers.bad_runs import EXCERPT, RUN_KEY
from brewbench.drivers.connection import MAX_INBOX, Connection
from brewbench.drivers.errors import BrewbenchError
from brewbench.drivers.framing import MAX_ENCODED
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.records import NOTE_KEY, RX, Record, Stamp
from brewbench.drivers.serial_transport import SerialTransport
from brewbench.emulator.machine import EmulatedMachine

HostilePty = tuple[int, Connection, Capture]
RSS_GROWTH_MB = 150  # what a flood may add to the test process (docs/reliability.md)
REDACTOR = Redactor(b"k" * 32)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def flood(machine: EmulatedMachine, stop: threading.Event) -> None:
    """Telemetry back to back until ``stop``."""
    while not stop.is_set():
        machine.burst(200)


def test_entry_store_spools_sealed_blocks_and_reads_them_back() -> None:
    planted = b"Ada Canary-7F3A"
    entries = [Entry("brew", Record("serial", RX, Stamp(n, n), planted + bytes([n])))
               for n in range(11)]
    store: EntryStore[Entry] = EntryStore(block=4, weigh=lambda _e: WINDOW_BYTES)
    store.extend(entries[:9])
    store.append(entries[9])
    store.append(entries[10])
    assert len(store) == 11 and list(store) == entries and store == entries
    assert store[5] == entries[5] and store[-1] == entries[-1] and store[2:6] == entries[2:6]
    spool = store._spool
    assert spool is not None and store.spooled_bytes > 0
    on_disk = os.pread(spool.fileno(), store.spooled_bytes, 0)
    assert planted not in on_disk  # sealed: no raw value lands on disk in the clear
    with pytest.raises(IndexError):
        store[11]


def test_entry_store_keeps_a_window_in_memory_and_seals_what_falls_out() -> None:
    entries = [Entry("idle", Record("serial", RX, Stamp(n, n), bytes([n % 256])))
               for n in range(2 * 2 * WINDOW + 3)]
    store: EntryStore[Entry] = EntryStore(entries, block=2)
    assert store.spooled_bytes > 0  # WINDOW blocks of 2 stay; the older ones are sealed
    assert list(store) == entries and store[0] == entries[0] and store[-2] == entries[-2]
    small: EntryStore[Entry] = EntryStore(entries[:2 * WINDOW], block=2)
    assert small.spooled_bytes == 0 and list(small) == entries[:2 * WINDOW]


def test_flood_keeps_memory_bounded_and_the_capture_is_saved(tmp_path: Path) -> None:
    before = rss_mb()
    with open_device("emu://?firmware=2.1&transport=serial") as device:
        assert device.emulator is not None
        device.capture.max_records = 5_000
        stop = threading.Event()
        thread = threading.Thread(target=flood, args=(device.emulator.machine, stop))
        thread.start()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert device.machine.status()["state"] == "ready"  # answers still come through
            time.sleep(0.2)
        stop.set()
        thread.join()
        device.machine.connection.take()  # records what the full inbox pushed out
    capture = device.capture
    assert rss_mb() - before < RSS_GROWTH_MB
    overflow = capture.meta["overflow"]
    assert overflow["records"] > 0 and overflow["max_records"] == 5_000
    notes = {e.record.meta[NOTE_KEY]: e.record.meta for e in capture.notes()}
    assert notes["capture_full"]["max_records"] == 5_000
    assert notes["inbox_overflow"]["dropped"] > 0
    telemetry = len(capture.messages(direction="rx"))
    assert telemetry + overflow["records"] > 5_000
    saved = save_capture(capture, tmp_path / "flood.jsonl", redactor=REDACTOR)
    loaded = Capture.load(saved)
    assert len(loaded.entries) == len(capture.entries)
    assert loaded.meta["overflow"] == overflow
    printed = io.StringIO()
    print_capture(loaded, printed)
    assert "not kept:" in printed.getvalue() and "dropped by a full inbox" in printed.getvalue()
    answers = loaded.messages(action="status", direction="rx")
    assert any(m.type == MsgType.STATUS for m in answers)  # answers are kept past the bound


@pytest.fixture
def hostile_pty() -> Iterator[HostilePty]:
    """A device of our own on a real pty that sends whatever the test writes to ``master``."""
    master, slave = os.openpty()
    tty.setraw(slave)
    connection = Connection(SerialTransport(os.ttyname(slave)))
    capture = Capture("hostile-pty")
    connection.attach(capture)
    connection.open()
    try:
        yield master, connection, capture
    finally:
        connection.close()
        os.close(master)
        os.close(slave)


def settle(connection: Connection) -> None:
    """Wait until the reader has taken everything written (bad-frame count stops moving)."""
    last, still = -1, 0
    while still < 3:
        time.sleep(0.1)
        still = still + 1 if connection.frame_errors == last else 0
        last = connection.frame_errors


def test_babble_is_kept_as_bounded_runs_and_analysed(hostile_pty: HostilePty) -> None:
    master, connection, capture = hostile_pty
    noise = random.Random(7).randbytes(1 << 20)
    no_delimiter = noise.replace(b"\x00", b"\x01")
    for _ in range(6):
        os.write(master, no_delimiter)
    os.write(master, noise)  # random bytes: a 0x00 every 256 bytes on average
    settle(connection)
    connection.close()
    runs = [e.record for e in capture.entries if e.record.error is not None]
    assert 1 <= len(runs) < 40
    assert all(len(r.raw) <= EXCERPT for r in runs)
    counted = sum(r.meta[RUN_KEY]["bytes"] for r in runs if RUN_KEY in r.meta)
    assert 7 * (1 << 20) - 2 * MAX_ENCODED <= counted <= 7 * (1 << 20)
    assert capture.frame_errors == connection.frame_errors
    started = time.monotonic()
    verify(capture)
    classify_capture(capture)
    assert time.monotonic() - started < 5


def test_a_lone_corrupt_frame_keeps_all_its_bytes(hostile_pty: HostilePty) -> None:
    master, connection, capture = hostile_pty
    os.write(master, b"\x07garbage\x00")
    settle(connection)
    connection.close()
    (bad,) = [e.record for e in capture.entries if e.record.error is not None]
    assert bad.raw == b"\x07garbage" and RUN_KEY not in bad.meta


def test_a_full_inbox_drops_the_oldest_and_says_how_many() -> None:
    with open_device("emu://?firmware=2.1&transport=serial") as device:
        assert device.emulator is not None
        sent = MAX_INBOX + 500
        device.emulator.machine.burst(sent)
        deadline = time.monotonic() + 30
        while len(device.capture.messages(direction="rx")) < sent + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        taken = device.machine.connection.take(lambda m: m.type == MsgType.TELEMETRY)
    assert len(taken) == MAX_INBOX and taken[-1].body["n"] == sent - 1
    (note,) = device.capture.notes()
    assert note.record.meta["dropped"] == 500 and note.record.meta["max_inbox"] == MAX_INBOX
    assert verify(device.capture).classified  # the note itself is not an emission


def test_soak_random_faults_end_within_bounds(request: pytest.FixtureRequest) -> None:
    """Random faults for --soak-seconds (20 s by default): the run ends, memory stays under
    the bound, and every telemetry frame the emulator sent is in the capture or counted."""
    seconds = float(request.config.getoption("--soak-seconds"))
    chance = random.Random(int(os.environ.get("CI_SEED", "12")))
    before = rss_mb()
    with open_device("emu://?firmware=2.1&transport=serial", timeout=2) as device:
        assert device.emulator is not None
        machine, faults = device.emulator.machine, device.emulator.machine.faults
        device.capture.max_records = 20_000
        sent = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            faults.corrupt_next = chance.choice([0, 0, 1, 3])
            faults.split_every = chance.choice([0, 0, 1, 7])
            faults.events_before_reply = chance.choice([0, 5, 50])
            burst = chance.choice([0, 10, 2_000])
            machine.burst(burst)
            sent += burst
            with contextlib.suppress(BrewbenchError):  # a corrupted answer times out
                device.machine.status()
            assert rss_mb() - before < RSS_GROWTH_MB
        faults.corrupt_next, faults.split_every = 0, 0
        device.machine.status()
    capture = device.capture
    kept = sum(1 for m in capture.messages(direction="rx") if m.type == MsgType.TELEMETRY)
    counted = capture.meta.get("overflow", {}).get("records", 0)
    assert kept + counted + capture.frame_errors >= sent


def test_past_max_records_answers_are_kept_in_order_and_the_rest_counted() -> None:
    def event(n: int) -> Record:
        message = Message(Kind.EVENT, MsgType.TELEMETRY, n, {"n": n})
        return Record("serial", RX, Stamp(n, n), message.encode(), message)

    answer = Message(Kind.RESPONSE, MsgType.STATUS, 9, {"state": "ready"})
    reply = Record("serial", RX, Stamp(9, 9), answer.encode(), answer)
    capture = Capture("dev", max_records=3)
    capture.records([event(1), event(2), event(3), event(4), reply, event(5)])
    capture.record(event(6))
    kinds = [(e.record.message.kind if e.record.message else e.record.meta[NOTE_KEY])
             for e in capture.entries]
    assert kinds == [Kind.EVENT] * 3 + [Kind.RESPONSE, "capture_full"]
    assert capture.meta["overflow"]["records"] == 3
    assert capture.meta["overflow"]["bytes"] == sum(len(event(n).raw) for n in (4, 5, 6))


def test_emulator_babble_is_bounded_and_the_link_resynchronises() -> None:
    with open_device("emu://?firmware=2.1&transport=serial") as device:
        assert device.emulator is not None
        device.emulator.inject("babble:5000000")
        device.machine.status()  # answered, then 5 MB without a delimiter
        deadline = time.monotonic() + 30
        while device.machine.connection.frame_errors == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        settle(device.machine.connection)
        assert device.machine.status()["state"] == "ready"
    runs = [e.record for e in device.capture.entries if e.record.error is not None]
    assert 1 <= len(runs) < 40 and all(len(r.raw) <= EXCERPT for r in runs)
    counted = sum(r.meta[RUN_KEY]["bytes"] if RUN_KEY in r.meta else len(r.raw) for r in runs)
    assert 5_000_000 - 2 * MAX_ENCODED <= counted <= 5_000_000
    started = time.monotonic()
    verify(device.capture)
    assert time.monotonic() - started < 5


# Runs the command and, at its exit, writes its own peak (VmHWM): the kernel's ru_maxrss of
# a child also holds the pre-exec copy of its parent, an xdist worker that may have grown to
# hundreds of MB on other tests (the voice tests load a speech model).
OWN_PEAK = """
import atexit, runpy, sys
def _peak(path):
    with open("/proc/self/status") as status, open(path, "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(_peak, sys.argv[1])
sys.argv = ["brewbench", *sys.argv[2:]]
runpy.run_module("brewbench", run_name="__main__")
"""


def test_brewbench_run_under_a_flood_ends_with_the_capture_saved(tmp_path: Path) -> None:
    """The real command against an emulated machine that floods after its first answer."""
    env = {**os.environ, "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key")}
    started = time.monotonic()
    with (tmp_path / "out").open("w") as out, (tmp_path / "err").open("w") as err:
        proc = subprocess.run(
            [sys.executable, "-c", OWN_PEAK, str(tmp_path / "peak"), "run", "--device",
             "emu://?firmware=2.1&transport=serial&fault=flood", "--results", str(tmp_path / "r")],
            stdout=out, stderr=err, env=env, timeout=300)
    assert proc.returncode in (0, 1), (tmp_path / "err").read_text()[-2000:]
    assert time.monotonic() - started < 300
    peak_mb = int((tmp_path / "peak").read_text()) / 1024
    (saved,) = (tmp_path / "r").rglob("*.jsonl")
    loaded = Capture.load(saved)
    assert peak_mb < 300, (  # the stated bound (docs/reliability.md)
        f"peak {peak_mb:.0f} MB, {len(loaded.entries)} entries, overflow "
        f"{loaded.meta.get('overflow')}; " + (tmp_path / "out").read_text()[-3000:])
    telemetry = [m for m in loaded.messages(direction="rx") if m.type == MsgType.TELEMETRY]
    assert telemetry and loaded.actions
