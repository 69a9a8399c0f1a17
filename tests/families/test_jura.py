"""The Jura family: the obfuscated wire format, answers, the driver over real pyserial
against an emulated machine on a pty, and the standard suite."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from random import Random

import pytest

import brewbench.fixtures.suite
from brewbench.bench.capture import Capture
from brewbench.bench.devices import open_device
from brewbench.bench.verify.classify import classify
from brewbench.bench.verify.emissions import emissions
from brewbench.drivers.errors import DeviceRejected, DeviceSpecError, Timeout
from brewbench.drivers.jura.answers import parse_answer
from brewbench.drivers.jura.connection import JuraConnection
from brewbench.drivers.jura.lines import LineSplitter
from brewbench.drivers.jura.wire import HOST_BASE, MACHINE_BASE, WireDecoder, decode, encode
from brewbench.drivers.jura.wire_lines import WireLineFramer
from brewbench.drivers.records import Chunk, Record, Stamp
from brewbench.drivers.serial_transport import SerialTransport
from brewbench.emulator.jura.serve import JuraEmulator

SUITE = Path(brewbench.fixtures.suite.__file__).parent / "test_standard.py"

# "TY:\r\n" as a machine sends it, bit for bit as public captures show it.
TY_FROM_MACHINE = bytes([0b01011011, 0b01011111, 0b01011111, 0b01011111,
                         0b01011111, 0b01111011, 0b01011111, 0b01011111,
                         0b01111011, 0b01111011, 0b01111111, 0b01011011,
                         0b01011111, 0b01111111, 0b01011011, 0b01011011,
                         0b01111011, 0b01111011, 0b01011011, 0b01011011])


@pytest.mark.parametrize("base", [HOST_BASE, MACHINE_BASE])
def test_every_byte_value_round_trips(base: int) -> None:
    data = bytes(range(256))
    wire = encode(data, base)
    assert len(wire) == 4 * len(data)
    assert decode(wire) == data
    assert all(b & ~0x24 & 0xFF == base & ~0x24 & 0xFF for b in wire)  # only bits 2 and 5 carry data


def test_the_published_capture_decodes_to_ty() -> None:
    assert decode(TY_FROM_MACHINE) == b"TY:\r\n"
    assert encode(b"TY:\r\n", MACHINE_BASE) == TY_FROM_MACHINE


def test_a_stream_decodes_however_it_is_split() -> None:
    wire = encode(b"rt:0001000200030004\r\n", MACHINE_BASE)
    for size in (1, 3, 5, 7, 64):
        decoder = WireDecoder()
        out = b"".join(decoder.feed(wire[i:i + size]) for i in range(0, len(wire), size))
        assert out == b"rt:0001000200030004\r\n"
    decoder = WireDecoder()
    decoder.feed(wire[:2])
    assert decoder.resync() == wire[:2] and decoder.pending == 0


def test_lines_split_at_cr_lf_and_overlong_ones_are_dropped() -> None:
    splitter = LineSplitter(max_line=16)
    assert splitter.split(b"ok:\r\nty:E") == ([b"ok:"], None)
    assert splitter.split(b"30\r\n") == ([b"ty:E30"], None)
    lines, overflow = splitter.split(b"x" * 40)
    assert lines == [] and overflow == b"x" * 40


def test_answers_become_named_fields() -> None:
    assert parse_answer("ty:EF532M V02.03")["machine_type"] == "EF532M V02.03"
    eeprom = parse_answer("rt:" + "0005000100090002" + "0" * 16 + "0007" + "0" * 28, "RT:0000")
    assert "counters" not in eeprom and len(eeprom["words"]) == 16  # no model: no names
    assert parse_answer("ic:00A4")["input_flags"] == 0xA4
    assert parse_answer("ku:3F") == {"line": "ku:3F", "answer": "ku", "debug": "3F"}
    assert parse_answer("rt:XYZ", "RT:0000") == {"line": "rt:XYZ", "answer": "rt", "text": "XYZ"}
    assert parse_answer("garbage") == {"line": "garbage"}


@pytest.fixture
def jura() -> Iterator[JuraEmulator]:
    with JuraEmulator() as emulated:
        yield emulated


def test_the_driver_talks_to_an_emulated_machine_through_pyserial(jura: JuraEmulator) -> None:
    with open_device(jura.spec) as device:
        machine = device.machine
        assert device.family == "jura" and device.capture.meta["baud"] == "9600"
        assert machine.identify().model == "EF516M" and machine.layout.model == "Xs90"
        before = machine.read_counters()
        machine.brew("espresso")
        assert machine.read_counters()["espresso"] == before["espresso"] + 1
        assert jura.machine.eeprom[0] == before["espresso"] + 1 and jura.machine.made == ["espresso"]
        with pytest.raises(DeviceRejected, match="no button makes 'flat white' on a Jura Xs90"):
            machine.brew("flat white")
        with pytest.raises(Timeout, match=r"no answer to XX: within 0\.3s: nothing arrived"):
            machine.connection.command("XX:", timeout=0.3)
        assert not machine.supports("pay") and machine.supports("read_counters")


def test_counters_are_product_data_and_the_type_is_device_data(jura: JuraEmulator) -> None:
    with open_device(jura.spec) as device:
        device.machine.read_counters()
        classified = classify(emissions(device.capture))
    by_path = {item.emission.path: set(item.categories) for item in classified}
    assert by_path["link.jura.counters.espresso"] == {"product"}  # the Xs90's word 0
    assert by_path["link.jura.machine_type"] == {"device"}
    assert by_path["link.jura.maintenance.cleanings"] == {"device"}


def test_an_unknown_family_is_a_spec_error() -> None:
    with pytest.raises(DeviceSpecError, match="unknown family 'melitta'; known: cm500, ecam, jura"), \
            open_device("emu://?family=melitta"):
        pass


def test_the_standard_suite_passes_on_an_emulated_jura(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", str(SUITE), "-p", "no:cacheprovider",
                           "-p", "no:randomly", "--brewbench-device", "emu://?family=jura",
                           "--brewbench-results", str(tmp_path / "results"), "-q", "-rs"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed and int(passed.group(1)) >= 3, done.stdout  # identify, session, counters...
    assert "failed" not in done.stdout and "error" not in done.stdout.lower().split("passed")[-1]
    assert "has no reset action" in done.stdout and "has no sync action" in done.stdout


# -- public vectors: what hosts send -------------------------------------------------

# ryanalden/esphome-jura-component README.md (generate_esphome_jura_yaml.py AN:01), the same
# bytes in SkyFox277/esphome-jura docs/jura-protocol.md ("Example: Encoding AN:01\r\n").
AN_01_FROM_HOST = bytes.fromhex("DFDBDBDF" "FBFFDBDF" "FBFBFFDB" "DBDBFFDB" "DFDBFFDB"
                                "DFFFDBDB" "FBFBDBDB")
# pvtex/esphome-jura-j9 jura_coffee.yaml, "Make Espresso" (FA:03 on a J9.3).
FA_03_FROM_HOST = bytes.fromhex("FBDFDBDF" "DFDBDBDF" "FBFBFFDB" "DBDBFFDB" "FFDBFFDB"
                                "DFFFDBDB" "FBFBDBDB")


@pytest.mark.parametrize(("line", "wire"), [(b"AN:01\r\n", AN_01_FROM_HOST),
                                            (b"FA:03\r\n", FA_03_FROM_HOST)])
def test_what_public_hosts_send_is_what_the_bench_sends(line: bytes, wire: bytes) -> None:
    assert encode(line, 0xDB) == wire  # their fixed bits are 0xDB
    assert decode(wire) == line
    assert [found.payload for found in WireLineFramer().feed(wire)] == [line[:-2]]


# -- framing without a clock ----------------------------------------------------------

def _framed(wire: bytes) -> list[bytes]:
    return [line.payload for line in WireLineFramer().feed(wire) if line.complete]


def test_noise_bytes_are_left_out_and_a_lost_byte_spoils_one_line_only() -> None:
    first, second = encode(b"ty:EF516M V01.25\r\n", MACHINE_BASE), encode(b"ok:\r\n", MACHINE_BASE)
    noisy = first[:9] + b"\x00" + first[9:] + b"\x80\x01" + second  # bits 0,1,3,4,6 missing
    framer = WireLineFramer()
    lines = framer.feed(noisy)
    assert [line.payload for line in lines] == [b"ty:EF516M V01.25", b"ok:"]
    assert lines[0].noise == 1 and lines[1].noise == 2 and framer.pending == 0
    lost = first[:5] + first[6:]  # one wire byte of the "y" never arrived
    lines = WireLineFramer().feed(lost + second)
    assert lines[0].stray == 3 and lines[0].payload.endswith(b"EF516M V01.25")
    assert lines[1].payload == b"ok:"  # the next line is whole


def test_bytes_before_the_first_whole_group_do_not_shift_the_line() -> None:
    wire = encode(b"ok:\r\n", MACHINE_BASE)
    assert _framed(wire[-2:] + wire) == [b"ok:"]  # the tail of an earlier line


def test_an_overlong_line_is_cut_with_its_bytes_kept() -> None:
    framer = WireLineFramer(max_line=8)
    lines = framer.feed(encode(b"x" * 20, MACHINE_BASE))
    assert lines and not lines[0].complete and lines[0].payload.startswith(b"xxxxxxxx")
    assert framer.pending < 4 * 12


def _connection_with_capture() -> tuple[JuraConnection, Capture]:
    connection = JuraConnection(SerialTransport("loop://", 9600, device="replay"), gap=0)
    capture = Capture("replay")
    connection.attach(capture)
    return connection, capture


def test_a_replay_at_the_machines_pace_with_a_stall_mid_group_records_the_line() -> None:
    """Bytes stamped 8 ms apart on the wire, and a 60 ms pause in the host's handling
    between the second and third byte of a group: the line is recorded whole."""
    connection, capture = _connection_with_capture()
    wire = encode(b"ty:EF532M V02.03\r\n", MACHINE_BASE)
    start = time.monotonic_ns()
    for i, byte in enumerate(wire):
        if i == 6:
            time.sleep(0.06)
        connection.received(Chunk(bytes([byte]), Stamp(start + i * 8_000_000, 0)))
    lines = [entry.record.meta.get("line") for entry in capture.entries]
    assert lines == ["ty:EF532M V02.03"]


def test_random_stalls_of_up_to_100_ms_lose_no_answer_in_50_runs() -> None:
    """The machine's 8 ms pace (the emulator's pacer), and a host whose reading thread
    stalls up to 100 ms at random while bytes arrive: every answer arrives."""
    random = Random(27)

    class StallingConnection(JuraConnection):
        def received(self, chunk: Chunk) -> None:
            if random.random() < 0.3:
                time.sleep(random.uniform(0, 0.1))
            super().received(chunk)

    with JuraEmulator() as jura:
        transport = SerialTransport(jura.url, 9600, device="stalled")
        connection = StallingConnection(transport, timeout=3.0, gap=0.001)
        connection.open()
        try:
            answers = [connection.command("RE:00", retries=0) for _ in range(50)]
        finally:
            connection.close()
    assert answers == ["re:0015"] * 50


def test_the_emulator_sends_at_about_8_ms_a_byte() -> None:
    with JuraEmulator() as jura:
        transport = SerialTransport(jura.url, 9600, device="paced")
        connection, capture = JuraConnection(transport, gap=0.001), Capture("paced")
        arrivals: list[int] = []

        class Clock:
            def record(self, record: Record) -> None: ...
            def action_started(self, *_: object) -> None: ...
            def action_ended(self, *_: object) -> None: ...

        original = connection.received

        def stamped(chunk: Chunk) -> None:
            arrivals.extend([chunk.stamp.mono_ns] * len(chunk.data))
            original(chunk)

        connection.received = stamped  # type: ignore[method-assign]
        connection.attach(capture)
        connection.attach(Clock())
        connection.open()
        try:
            assert connection.command("TY:") == "ty:EF516M V01.25"
        finally:
            connection.close()
    span = (arrivals[-1] - arrivals[0]) / 1e9
    assert len(arrivals) == 4 * 18 and span >= 0.9 * 0.008 * (len(arrivals) - 1)


def test_debug_lines_are_not_answers() -> None:
    """FN:8A puts the machine in debug mode (SkyFox277/esphome-jura, FN: table): it sends
    ku:/Ku: lines by itself; commands still get their own answers."""
    with JuraEmulator() as jura, open_device(jura.spec) as device:
        machine = device.machine
        assert machine.connection.command("FN:8A") == "ok:"
        jura.machine._debug_line()
        deadline = time.monotonic() + 5
        while not any(e.record.meta.get("debug") for e in device.capture.entries):
            assert time.monotonic() < deadline, "no debug line arrived"
            time.sleep(0.05)
        assert machine.identify().model == "EF516M"
        assert machine.status()["input_flags"] == 0
        assert "espresso" in machine.read_counters()
        debug = [e.record.meta for e in device.capture.entries if "debug" in e.record.meta]
        assert debug and all(meta["answer"] in ("ku", "Ku") for meta in debug)
        started = time.monotonic()  # debug lines arriving do not hold an unknown command
        with pytest.raises(Timeout, match="no answer to XX:"):
            machine.connection.command("XX:", timeout=0.5)
        assert time.monotonic() - started < 0.5 + 3.0  # its own wait and a line's tail


def test_a_skipped_read_is_sent_again_and_a_skipped_button_is_not() -> None:
    with JuraEmulator() as jura, open_device(jura.spec) as device:
        connection = device.machine.connection
        jura.machine.skip_answers = 1
        assert connection.command("RE:00", timeout=0.5) == "re:0015"
        sent = [e.record.meta.get("command") for e in device.capture.entries
                if e.record.direction == "tx"]
        assert sent[-2:] == ["RE:00", "RE:00"]
        jura.machine.skip_answers = 1
        with pytest.raises(Timeout, match="no answer to FA:03"):
            connection.command("FA:03", timeout=0.5)
        assert jura.machine.made == ["espresso"]  # pressed once, never twice


def test_what_arrived_of_an_unfinished_answer_is_recorded_and_said() -> None:
    connection, capture = _connection_with_capture()
    connection.received(Chunk(encode(b"ty:EF5", MACHINE_BASE), Stamp.now()))
    connection._expect("TY:", "TY:")
    try:
        with pytest.raises(Timeout, match=r"24 wire bytes arrived; b'ty:EF5' without a line end"):
            connection._await_answer("TY:", 0.1, 0, 0)
    finally:
        connection._done()
    [entry] = [e for e in capture.entries if e.record.error]
    assert "line never ended: 24 wire bytes" in str(entry.record.error)
    assert entry.record.raw == b"ty:EF5"


def test_a_line_cut_off_by_closing_is_kept() -> None:
    connection, capture = _connection_with_capture()
    connection.received(Chunk(encode(b"rt:0015", MACHINE_BASE), Stamp.now()))
    connection.close()
    [entry] = capture.entries
    assert entry.record.raw == b"rt:0015" and "line never ended" in str(entry.record.error)


def test_a_babbling_machine_costs_bounded_records_that_say_so() -> None:
    connection, capture = _connection_with_capture()
    for _ in range(20):
        connection.received(Chunk(b"\x00" * 1000 + encode(b"x" * 300, MACHINE_BASE), Stamp.now()))
    errors = [str(e.record.error) for e in capture.entries if e.record.error]
    assert errors and all("without a line end" in error for error in errors)
    assert all(len(e.record.raw) <= 256 and len(e.record.meta.get("wire", "")) <= 512
               for e in capture.entries)
    assert connection._framer.pending <= 4 * 514


def test_a_machine_answering_ty_with_garbage_costs_only_itself() -> None:
    """A device's protocol error is a device error: recorded with its capture, and the run
    goes on to the next device (it used to end the whole run)."""
    import os
    import pty
    import threading

    controller, device = pty.openpty()
    stop = threading.Event()

    def answer_garbage() -> None:  # every line the host sends is answered with nonsense
        heard = b""
        while not stop.is_set():
            try:
                heard += os.read(controller, 4096)
            except OSError:
                return
            lines = decode(heard).count(b"\r\n")
            for _ in range(lines):
                os.write(controller, encode(b"ty:\x1b[2J\xff\x00 garbage\r\n", MACHINE_BASE))
            if lines:
                heard = b""

    peer = threading.Thread(target=answer_garbage, daemon=True)
    peer.start()
    try:
        done = subprocess.run([sys.executable, "-m", "brewbench", "run", "--device",
                               f"serial://{os.ttyname(device)}?family=jura&baud=9600", "--device",
                               "emu://?firmware=1.0"], capture_output=True, text=True, timeout=180)
    finally:
        stop.set()
        os.close(device)
        os.close(controller)
    out = done.stdout + done.stderr
    assert "Traceback" not in out, out
    assert "\x1b" not in out and "step(s) failed" in out, out  # its steps fail, shown safely
    assert "== emu://?firmware=1.0" in out and "firmware 1.0 over serial" in out, out
