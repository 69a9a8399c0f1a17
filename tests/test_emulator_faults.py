"""The emulator's hostile fault modes, switched on per test: in the emu:// spec, on the
Emulator object, and through the brewbench_emulator fixture. Read with pyserial on the
emulator's pty and the codec alone, so what is checked is the bytes a host receives."""

from __future__ import annotations

import threading
import time
from typing import Any

import cbor2
import pytest
import serial

from brewbench.bench.devices import BenchDevice, open_device
from brewbench.drivers.errors import DeviceSpecError, FrameError
from brewbench.drivers.framing import decode_frame, encode_frame
from brewbench.drivers.messages import Kind, Message, MsgType, decode_wire
from brewbench.emulator.faults import FAULTS, parse_faults
from brewbench.emulator.hostile import HOSTILE_BODIES, MALFORMED_ANSWERS
from brewbench.emulator.serve import Emulator

HELLO = {"versions": [1], "max_frame": 8192}


class Wire:
    """The host end of a pty: write requests, read frames, nothing else."""

    def __init__(self, emulator: Emulator) -> None:
        self.port = serial.Serial(emulator.url, timeout=0.05)
        self.buffer = bytearray()
        self.raw = bytearray()  # every byte read, for faults judged on bytes
        self.seq = 0
        self.unread: list[bytes] = []  # spans read past an answer

    def close(self) -> None:
        self.port.close()

    def send(self, type_code: int, body: dict[str, Any] | None = None) -> int:
        self.seq += 1
        self.port.write(encode_frame(Kind.REQUEST, self.seq, type_code, cbor2.dumps(body or {})))
        return self.seq

    def read(self) -> list[bytes]:
        """The spans completed by what is waiting on the port (encoded, no delimiters)."""
        if self.unread:
            spans, self.unread = self.unread, []
            return spans
        data = self.port.read(max(1, self.port.in_waiting))
        self.raw += data
        self.buffer += data
        *spans, rest = bytes(self.buffer).split(b"\x00")
        self.buffer = bytearray(rest)
        return [span for span in spans if span]

    def until_answer(self, seq: int, timeout: float = 5.0) -> tuple[Message, list[Message]]:
        """The answer to ``seq`` and the frames before it."""
        before: list[Message] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            spans = self.read()
            for at, span in enumerate(spans):
                message = decode_wire(span)
                if message.kind in (Kind.RESPONSE, Kind.ERROR) and message.seq == seq:
                    self.unread = spans[at + 1 :]
                    return message, before
                before.append(message)
        raise AssertionError(f"no answer to seq {seq} within {timeout}s")

    def call(self, type_code: int, body: dict[str, Any] | None = None) -> Message:
        return self.until_answer(self.send(type_code, body))[0]


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Any:
    """An emulator on a pty with the faults of the test's parameter, and a Wire to it."""
    with Emulator(faults=getattr(request, "param", "")) as emulator:
        wire = Wire(emulator)
        try:
            yield emulator, wire
        finally:
            wire.close()


def test_every_fault_is_documented_and_unknown_ones_are_refused() -> None:
    with (pytest.raises(DeviceSpecError, match="no emulator fault 'tsunami'; known faults: flood"),
          open_device("emu://?fault=tsunami")):
        pass
    with (pytest.raises(DeviceSpecError, match="'lots' is not a whole number"),
          open_device("emu://?fault=babble:lots")):
        pass
    with (pytest.raises(DeviceSpecError, match="fault= is for the cm500 family"),
          open_device("emu://?family=jura&fault=flood")):
        pass
    with pytest.raises(ValueError, match="'BREWING' is not one of"):
        parse_faults("malformed_answers:BREWING")
    assert set(FAULTS) >= {"flood", "endless_pages", "babble", "hostile_bodies",
                           "malformed_answers", "slow_drip"}


def test_faults_compose_in_one_spec() -> None:
    faults = parse_faults("flood:100,babble:2k,endless_pages:SYNC,hostile_bodies:nan,"
                          "malformed_answers:IDENTIFY,malformed_answers:ERROR,slow_drip:2.5")
    assert (faults.flood, faults.babble, faults.slow_drip_ms) == (100, 2000, 2.5)
    assert faults.endless_pages == {"SYNC"} and faults.hostile_bodies == ("nan",)
    assert faults.malformed_answers == {"IDENTIFY", "ERROR"}


@pytest.mark.parametrize("served", ["flood:300"], indirect=True)
def test_flood_sends_telemetry_at_full_speed_after_the_next_answer(served: Any) -> None:
    emulator, wire = served
    wire.call(MsgType.HELLO, HELLO)
    telemetry: list[int] = []
    deadline = time.monotonic() + 30  # a margin for a loaded machine
    while len(telemetry) < 300 and time.monotonic() < deadline:
        telemetry += [decode_wire(s).body["n"] for s in wire.read()]
    assert telemetry == list(range(300))
    # a counted flood ends and clears itself, just after its last frame left
    while emulator.machine.faults.flood is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert emulator.machine.faults.flood is None
    assert wire.call(MsgType.STATUS).body["state"] == "ready"


def test_endless_flood_stops_when_the_link_stops_even_if_the_host_never_reads() -> None:
    emulator = Emulator(faults="flood")
    emulator.start()
    wire = Wire(emulator)
    wire.send(MsgType.HELLO, HELLO)
    time.sleep(0.5)  # the flood fills the pty and blocks: nobody reads
    assert emulator.machine.frames_sent > 10
    stopper = threading.Thread(target=emulator.stop)
    stopper.start()
    stopper.join(timeout=5)
    wire.close()
    assert not stopper.is_alive(), "stopping a flooding emulator hung"


@pytest.mark.parametrize("served", ["endless_pages"], indirect=True)
def test_endless_pages_never_let_sync_or_read_logs_finish(served: Any) -> None:
    _, wire = served
    start = 0
    for _ in range(5):
        assert wire.call(MsgType.SYNC, {"max_records": 8}).body["remaining"] > 0
        logs = wire.call(MsgType.READ_LOGS, {"from": start}).body
        assert logs["remaining"] > 0 and logs["lines"] and logs["next"] > start
        start = logs["next"]


@pytest.mark.parametrize("served", ["babble:200k"], indirect=True)
def test_babble_is_bytes_without_a_delimiter_then_one(served: Any) -> None:
    _, wire = served
    hello_seq = wire.send(MsgType.HELLO, HELLO)
    wire.until_answer(hello_seq)
    seq = wire.send(MsgType.STATUS)
    with pytest.raises(FrameError):  # the babble, ended by its lone delimiter
        wire.until_answer(seq)
    assert wire.call(MsgType.STATUS).body["state"] == "ready"
    babble = max(bytes(wire.raw).split(b"\x00"), key=len)
    assert len(babble) == 200_000


@pytest.mark.parametrize("served", ["hostile_bodies"], indirect=True)
def test_hostile_bodies_arrive_as_events_before_each_answer(served: Any) -> None:
    _, wire = served
    spans: list[bytes] = []
    seq = wire.send(MsgType.STATUS)
    deadline = time.monotonic() + 5
    while len(spans) < len(HOSTILE_BODIES) + 1 and time.monotonic() < deadline:
        spans += wire.read()
    events = [decode_wire(span) for span in spans]
    assert [m.kind for m in events] == [Kind.EVENT] * len(HOSTILE_BODIES) + [Kind.RESPONSE]
    assert events[-1].seq == seq
    for span, raw in zip(spans, HOSTILE_BODIES.values(), strict=False):
        decoded = decode_wire(span)
        assert decoded.body["event"].startswith("hostile.")
        assert decode_frame(span).body == raw
    body = events[0].body
    assert body["self"] is body  # tag 28/29: a map that holds itself
    assert events[2].body["value"] == 10**7000 - 1


@pytest.mark.parametrize("served", ["malformed_answers"], indirect=True)
def test_malformed_answers_keep_hello_and_spoil_the_rest(served: Any) -> None:
    _, wire = served
    assert wire.call(MsgType.HELLO, HELLO).body["version"] == 1
    assert wire.call(MsgType.IDENTIFY).body == MALFORMED_ANSWERS["IDENTIFY"]
    error = wire.call(MsgType.BREW, {"strength": 3})
    assert error.kind is Kind.ERROR and isinstance(error.body["code"], str)


@pytest.mark.parametrize("served", ["slow_drip:20"], indirect=True)
def test_slow_drip_sends_one_byte_at_a_time(served: Any) -> None:
    _, wire = served
    seq = wire.send(MsgType.IDENTIFY)
    started = time.monotonic()
    while wire.raw[-1:] != b"\x00":
        wire.read()
        assert time.monotonic() - started < 10
    took = time.monotonic() - started
    frame_bytes = len(wire.raw)
    assert took >= (frame_bytes - 1) * 0.02 * 0.9
    assert decode_wire(bytes(wire.raw[:-1])).seq == seq


@pytest.mark.brewbench_devices("emu://?transport=serial&fault=fail_on:STATUS",
                               "emu://?transport=usb&fault=busy_on:STATUS")
def test_faults_through_the_fixture_spec(brewbench_device: BenchDevice,
                                         brewbench_emulator: Emulator) -> None:
    from brewbench.drivers.errors import DeviceError

    with pytest.raises(DeviceError, match="STATUS"):
        brewbench_device.machine.status()
    brewbench_emulator.machine.faults.busy_on = brewbench_emulator.machine.faults.fail_on = None
    assert brewbench_device.machine.status()["state"] == "ready"
    brewbench_emulator.inject("flood:50")
    brewbench_device.machine.status()
    got: list[Message] = []
    deadline = time.monotonic() + 5
    while len(got) < 50 and time.monotonic() < deadline:
        got += brewbench_device.machine.events(timeout=0.2)
    assert [m.body["n"] for m in got if m.type == MsgType.TELEMETRY] == list(range(50))


@pytest.mark.parametrize("transport", ["socket", "usb", "ble"])
def test_flood_arrives_whole_over_every_link(transport: str) -> None:
    with open_device(f"emu://?transport={transport}&fault=flood:2000") as device:
        got: list[int] = []
        deadline = time.monotonic() + 60
        while len(got) < 2000 and time.monotonic() < deadline:
            got += [m.body["n"] for m in device.machine.events(timeout=0.2)
                    if m.type == MsgType.TELEMETRY]
        assert got == list(range(2000))
        assert device.machine.status()["state"] == "ready"


def test_a_flood_on_usb_waits_for_the_host_instead_of_growing_the_device_buffer() -> None:
    from brewbench.emulator.usb_device import IN_BACKLOG

    with Emulator(transport="usb") as emulator:
        device = emulator.link.device  # type: ignore[attr-defined]
        flood = threading.Thread(target=emulator.machine.burst, args=(100_000,), daemon=True)
        flood.start()  # no host reads: the machine must block, not queue 100k frames
        time.sleep(1.0)
        assert flood.is_alive()
        assert device._queued <= IN_BACKLOG + 4096
        emulator.link.unplug()  # type: ignore[attr-defined]
        flood.join(timeout=5)
        assert not flood.is_alive()


def test_brewbench_emulate_serves_faults_to_any_client() -> None:
    import subprocess
    import sys

    command = [sys.executable, "-m", "brewbench", "emulate"]
    refused = subprocess.run([*command, "--fault", "tsunami"], capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("brewbench emulate: no emulator fault 'tsunami'")
    proc = subprocess.Popen([*command, "--fault", "malformed_answers:IDENTIFY"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        port = next(line.split(": ", 1)[1].strip() for line in lines if line.startswith("port:"))
        with serial.Serial(port, timeout=2) as tty:
            tty.write(encode_frame(Kind.REQUEST, 5, MsgType.IDENTIFY, b"\xa0"))
            reply = decode_wire(tty.read_until(b"\x00")[:-1])
        assert (reply.seq, reply.body) == (5, MALFORMED_ANSWERS["IDENTIFY"])
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_the_emulator_never_holds_more_than_one_frame_of_a_babbling_host() -> None:
    from brewbench.drivers.framing import MAX_ENCODED
    from brewbench.emulator.receiver import SpanReader

    reader = SpanReader()
    for _ in range(200):
        assert reader.feed(b"\x01" * 50_000) == []
        assert len(reader._buffer) <= MAX_ENCODED
    [span] = reader.feed(b"\x00")
    assert span.oversize and len(span.encoded) <= 16
