"""Captures lose nothing and survive a round trip through their file."""

import json

import pytest

from brewbench.bench.capture import IDLE, Capture
from brewbench.bench.devices import open_device
from brewbench.drivers.messages import MsgType


def test_ten_thousand_back_to_back_frames_all_arrive_in_order() -> None:
    with open_device("emu://?firmware=1.0") as device:
        assert device.emulator is not None
        device.emulator.machine.burst(10_000)
        telemetry = []
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


def test_saved_capture_loads_back_identical(tmp_path) -> None:  # type: ignore[no-untyped-def]
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


def test_loading_something_else_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "notes.jsonl"
    path.write_text('{"hello": 1}\n')
    with pytest.raises(ValueError, match="not a brewbench capture"):
        Capture.load(path)
    path.write_text("{broken\n")
    with pytest.raises(ValueError, match=r"notes.jsonl:1: not JSON"):
        Capture.load(path)
