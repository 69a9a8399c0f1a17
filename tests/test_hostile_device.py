"""The fault suite: a hostile device over the real links never costs the run or the capture.

One test per row of what a hostile device (or user, or disk) can do; the disk,
lab key and results-folder rows are in test_hostile_disk.py, the value rows in
test_hostile_values.py. Each device here is an emulated machine with a fault
switched on in its spec (``emu://?...&fault=...``, emulator/faults.py), reached
through pyserial on a pty (and pyusb / bleak where a row is cheap to repeat).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import open_device
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.verification import verify
from brewbench.drivers.errors import DeviceProtocolError, DeviceRejected, LimitExceeded, Timeout

BREWBENCH = [sys.executable, "-m", "brewbench"]
GOOD = "emu://?firmware=2.1"


def _run(tmp_path: Path, *specs: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key")}
    args = [arg for spec in specs for arg in ("--device", spec)]
    return subprocess.run([*BREWBENCH, "run", *args, "--timeout", "2",
                           "--results", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=timeout, env=env)


def _captures(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.glob("r/*/captures/*.jsonl"), key=lambda p: p.stat().st_mtime)


def _test_points(tmp_path: Path) -> list[str]:
    return [line for segment in sorted(tmp_path.glob("r/spool/*.lp"))
            for line in segment.read_text().splitlines() if line.startswith("tests,")]


def _assert_no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr


def test_endless_sync_pages_end_in_a_typed_error_and_the_next_device_still_runs(
        tmp_path: Path) -> None:
    done = _run(tmp_path, f"{GOOD}&fault=endless_pages:SYNC", GOOD)
    _assert_no_traceback(done)
    assert done.returncode == 1
    assert "sync: FAILED" in done.stdout and "pages of SYNC, the bound" in done.stdout
    assert len(_captures(tmp_path)) == 2
    first = Capture.load(_captures(tmp_path)[0])
    assert [span.outcome for span in first.actions if span.name == "sync"] == ["error"]


def test_endless_sync_pages_raise_limit_exceeded_naming_device_action_and_bound() -> None:
    with open_device(f"{GOOD}&fault=endless_pages:SYNC") as device:
        with pytest.raises(LimitExceeded) as caught:
            device.machine.sync(max_pages=5)
        error = caught.value
        assert (error.action, error.bound, error.limit) == ("sync", "pages of SYNC", 5)
        assert str(error).startswith(device.machine.device)
        device.machine.status()  # the link is still good after the error


def test_endless_log_pages_raise_limit_exceeded() -> None:
    # Bounded either way: a cursor that stops moving is caught before the page bound.
    with (open_device(f"{GOOD}&fault=endless_pages:READ_LOGS") as device,
          pytest.raises((LimitExceeded, DeviceProtocolError), match="READ_LOGS")):
        device.machine.read_logs(max_pages=4)


def test_read_logs_pages_through_every_line() -> None:
    with open_device(GOOD) as device:
        for n in range(3):
            device.machine.brew("latte")
            device.machine.pay("cash", 100 + n)
        lines = device.machine.read_logs()
    assert lines and all(isinstance(line, str) for line in lines)


@pytest.mark.parametrize("transport", ["serial", "usb", "ble"])
def test_hostile_bodies_are_saved_reloaded_and_analysed_over_each_link(
        transport: str, tmp_path: Path) -> None:
    with open_device(f"{GOOD}&transport={transport}&fault=hostile_bodies") as device:
        device.machine.status()
        device.machine.brew("latte")
    capture = device.capture
    hostile = [m for m in capture.messages(direction="rx")
               if str(m.body.get("event", "")).startswith("hostile.")]
    assert len(hostile) >= 10
    result = verify(capture, plant())
    assert result.problems == []
    loaded = Capture.load(capture.save(tmp_path / "raw.jsonl"))
    assert len(loaded.messages(direction="rx")) == len(capture.messages(direction="rx"))


def test_hostile_bodies_cost_no_capture_and_no_other_device(tmp_path: Path) -> None:
    done = _run(tmp_path, f"{GOOD}&fault=hostile_bodies", GOOD)
    _assert_no_traceback(done)
    assert done.returncode == 0, done.stdout + done.stderr
    first, second = (Capture.load(path) for path in _captures(tmp_path))
    assert any(str(m.body.get("event", "")).startswith("hostile.") for m in first.messages())
    assert second.meta["firmware"] == "2.1"


def test_identify_without_its_keys_is_a_protocol_error_and_the_capture_is_kept(
        tmp_path: Path) -> None:
    done = _run(tmp_path, f"{GOOD}&fault=malformed_answers:IDENTIFY", GOOD)
    _assert_no_traceback(done)
    assert done.returncode == 1
    assert "connect: FAILED" in done.stdout
    assert "IDENTIFY answer: field 'manufacturer' is missing" in done.stdout
    first, _second = _captures(tmp_path)
    kept = Capture.load(first)
    assert [span.name for span in kept.actions] == ["connect", "identify"]
    assert kept.actions[-1].outcome == "error"
    outcomes = [line for line in _test_points(tmp_path) if 'outcome="failed"' in line]
    assert len(outcomes) == 1 and "DeviceProtocolError" in outcomes[0]


def test_malformed_identify_raises_device_protocol_error_naming_the_field() -> None:
    with (pytest.raises(DeviceProtocolError) as caught,
          open_device(f"{GOOD}&fault=malformed_answers:IDENTIFY")):
        pass
    assert caught.value.field == "manufacturer" and caught.value.action == "IDENTIFY"


def test_hello_of_the_wrong_shape_fails_connect_with_a_protocol_error(tmp_path: Path) -> None:
    done = _run(tmp_path, f"{GOOD}&fault=malformed_answers:HELLO")
    _assert_no_traceback(done)
    assert done.returncode == 1
    assert "HELLO answer: field 'features' is str 'brew', expected list[text]" in done.stdout
    [capture] = _captures(tmp_path)
    assert Capture.load(capture).actions[0].name == "connect"


def test_error_with_a_text_code_is_a_protocol_error_naming_the_code() -> None:
    with (open_device(f"{GOOD}&fault=malformed_answers:ERROR,busy_on:STATUS") as device,
          pytest.raises(DeviceProtocolError, match="field 'code' is str 'BAD_REQUEST'")):
        device.machine.status()


def test_a_well_formed_error_is_still_device_rejected() -> None:
    with (open_device(f"{GOOD}&fault=busy_on:STATUS") as device,
          pytest.raises(DeviceRejected, match="BUSY")):
        device.machine.status()


def test_every_malformed_answer_is_a_typed_error_never_a_crash() -> None:
    everything = "malformed_answers:STATUS,malformed_answers:SYNC,malformed_answers:READ_LOGS"
    with open_device(f"{GOOD}&fault={everything}") as device:
        device.machine.status()  # a STATUS body is returned as it came: nothing to misread
        with pytest.raises(DeviceProtocolError, match="field 'sent'"):
            device.machine.sync()
        with pytest.raises(DeviceProtocolError, match="field 'lines'"):
            device.machine.read_logs()


def test_connect_failure_keeps_capture_and_a_failed_point_in_the_pytest_plugin(
        pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_user="""
def test_brews(brewbench_machine):
    brewbench_machine.brew("latte")
""")
    results = pytester.path / "out"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--brewbench-device", f"{GOOD}&fault=malformed_answers:IDENTIFY",
        "--brewbench-results", str(results), "--brewbench-run-id", "r1")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*could not connect*IDENTIFY answer: field 'manufacturer'*"])
    [capture] = (results / "r1" / "captures").glob("*.jsonl")
    header = json.loads(capture.read_text().splitlines()[0])
    assert header["meta"]["outcome"] == "error"
    points = [line for segment in results.rglob("*.lp") for line in segment.read_text().splitlines()
              if line.startswith("tests,")]
    assert any('outcome="error"' in line and "DeviceProtocolError" in line for line in points)


def test_babble_ends_and_the_capture_is_saved(tmp_path: Path) -> None:
    done = _run(tmp_path, f"{GOOD}&fault=babble:1000000", GOOD)
    _assert_no_traceback(done)
    assert len(_captures(tmp_path)) == 2
    assert "bad frames:" in done.stdout


def test_flood_of_events_ends_and_the_capture_is_saved(tmp_path: Path) -> None:
    done = _run(tmp_path, f"{GOOD}&fault=flood:20000", GOOD)
    _assert_no_traceback(done)
    assert len(_captures(tmp_path)) == 2


def test_slow_drip_answers_are_read_whole() -> None:
    with open_device(f"{GOOD}&fault=slow_drip:1", timeout=10) as device:
        assert device.machine.status()


def test_timeout_after_frames_that_do_not_decode_does_not_blame_the_baud_rate() -> None:
    with open_device(GOOD, timeout=0.5) as device:
        assert device.emulator is not None
        device.emulator.machine.faults.corrupt_next = 1
        with pytest.raises(Timeout) as caught:
            device.machine.status()
    message = str(caught.value)
    assert "1 frame(s) arrived but none decoded" in message
    assert "baud" not in message


def test_timeout_with_nothing_arriving_still_suggests_the_port() -> None:
    with (open_device(f"{GOOD}&fault=silent_on:STATUS", timeout=0.5) as device,
          pytest.raises(Timeout, match="nothing arrived; check the device is on")):
        device.machine.status()
