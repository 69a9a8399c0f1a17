"""Captures lose nothing and survive a round trip through their file."""

import io
import json
import threading
from pathlib import Path

import pytest

from brewbench.bench.capture import IDLE, Capture
from brewbench.bench.devices import open_device
from brewbench.bench.printout import print_capture
from brewbench.drivers.messages import Message, MsgType
from brewbench.drivers.records import BatchObserver, Record, Stamp


def test_ten_thousand_back_to_back_frames_all_arrive_in_order() -> None:
    with open_device("emu://?firmware=1.0") as device:
        assert device.emulator is not None
        device.emulator.machine.burst(10_000)
        telemetry: list[Message] = []
        while len(telemetry) < 10_000:
            got = device.machine.connection.take(lambda m: m.type == MsgType.TELEMETRY, timeout=10)
            assert got, f"stalled after {len(telemetry)} frames"
            telemetry += got
        captured = [m.body["n"] for m in device.capture.messages(direction="rx")
                    if m.type == MsgType.TELEMETRY]
    assert captured == list(range(10_000))
    assert [m.body["n"] for m in telemetry] == list(range(10_000))
    assert device.capture.frame_errors == 0


def test_frames_between_actions_are_idle() -> None:
    with open_device("emu://?firmware=2.0") as device:
        assert device.emulator is not None
        device.emulator.machine.burst(2)
        device.machine.connection.take(lambda m: m.body.get("n") == 1, timeout=2)
        device.machine.status()
    idle = device.capture.messages(action=IDLE)
    assert [m.body["n"] for m in idle] == [0, 1]


def test_saved_capture_loads_back_identical(tmp_path: Path) -> None:
    with open_device("emu://?firmware=2.1") as device:
        device.machine.brew("latte", milk="oat")
        device.machine.sync()
    path = device.capture.save(tmp_path / "run" / "capture.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["format"] == "brewbench-capture"
    assert {line["type"] for line in lines[1:]} == {"frame", "action"}
    loaded = Capture.load(path)
    assert loaded.device == device.capture.device
    assert loaded.meta["firmware"] == "2.1"
    assert [a.name for a in loaded.actions] == [a.name for a in device.capture.actions]
    assert loaded.entries == device.capture.entries


def test_loading_something_else_says_so(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text('{"hello": 1}\n')
    with pytest.raises(ValueError, match="not a brewbench capture"):
        Capture.load(path)
    path.write_text("{broken\n")
    with pytest.raises(ValueError, match=r"notes.jsonl:1: not JSON"):
        Capture.load(path)


class _OneByOne:
    """An observer written before batches existed: it only has ``record``."""

    def __init__(self) -> None:
        self.seen: list[Record] = []

    def record(self, record: Record) -> None:
        self.seen.append(record)

    def action_started(self, action: str, stamp: Stamp) -> None:
        pass

    def action_ended(self, action: str, stamp: Stamp, outcome: str, detail: str) -> None:
        pass


def test_an_observer_without_batches_sees_what_the_capture_sees() -> None:
    old = _OneByOne()
    with open_device("emu://?firmware=2.1") as device:
        assert device.emulator is not None
        device.machine.connection.attach(old)
        device.emulator.machine.burst(500)
        device.machine.connection.take(lambda m: m.body.get("n") == 499, timeout=10)
        device.machine.status()
    assert not isinstance(old, BatchObserver) and isinstance(device.capture, BatchObserver)
    later = [e.record for e in device.capture.entries][-len(old.seen):]
    assert old.seen == later and len(old.seen) == 500 + 2


def test_a_burst_during_requests_arrives_whole_and_in_order() -> None:
    """Answers and a burst of events share the link: nothing is lost or reordered."""
    with open_device("emu://?firmware=2.1&transport=serial") as device:
        assert device.emulator is not None
        machine = device.emulator.machine
        burst = threading.Thread(target=machine.burst, args=(3000,))
        burst.start()
        answers = [device.machine.status() for _ in range(100)]
        burst.join()
        device.machine.connection.take(lambda m: m.body.get("n") == 2999, timeout=10)
    assert all("state" in answer for answer in answers)
    rx = device.capture.frames(direction="rx")
    numbers = [e.record.message.body["n"] for e in rx
               if e.record.message and e.record.message.type == MsgType.TELEMETRY]
    assert numbers == list(range(3000))
    stamps = [e.record.stamp.mono_ns for e in rx]
    assert stamps == sorted(stamps)
    assert device.capture.frame_errors == 0


def test_the_device_line_marks_an_empty_identity_field_unknown() -> None:
    """A machine that reports no serial number (a Jura's TY: answer has none) shows
    ``serial ?`` like any missing fact, never a blank that shifts the line."""
    capture = Capture("emu://?family=jura", {"manufacturer": "JURA", "model": "EF516M",
                                             "serial": "", "firmware": "V01.25",
                                             "transport": "serial"})
    printed = io.StringIO()
    print_capture(capture, printed)
    assert printed.getvalue().splitlines()[0] == (
        "   device: JURA EF516M serial ? firmware V01.25 over serial")


@pytest.mark.parametrize(("device", "meta"), [
    ("tap rx /dev/pts/0", {"spec": "tap rx /dev/pts/0", "transport": "tap"}),
    ("btsnoop:session.btsnoop", {"source": "session.btsnoop", "transport": "ble"}),
])
def test_a_device_that_never_said_what_it_is_is_named_by_where_it_was_heard(
        device: str, meta: dict[str, str]) -> None:
    """A tap or an imported log has no identity answer: the line says so in words, never
    ``? ? serial ? firmware ?``."""
    printed = io.StringIO()
    print_capture(Capture(device, meta), printed)
    assert printed.getvalue().splitlines()[0] == (
        f"   device: not identified ({device}, over {meta['transport']}: listened to, not asked)")
