"""What is particular to USB (tests/test_actions.py runs every action over it): the link, control
transfers as link events, and an unplug mid-action."""

import json

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import BenchDevice
from brewbench.drivers.specs import parse_spec

EVERY_PROFILE_OVER_USB = pytest.mark.brewbench_devices(
    *(f"emu://?firmware={version}&transport=usb" for version in ("1.0", "2.0", "2.1")))
pytestmark = EVERY_PROFILE_OVER_USB


def firmware_of(device: BenchDevice) -> str:
    return parse_spec(device.spec).params["firmware"]


def test_link_is_usb_and_identify_reports_the_profile(brewbench_device: BenchDevice) -> None:
    identity = brewbench_device.machine.identify()
    assert identity.firmware == firmware_of(brewbench_device)
    assert brewbench_device.capture.meta["transport"] == "usb"
    assert {e.record.channel for e in brewbench_device.capture.entries} == {"usb"}
    assert brewbench_device.emulator is not None
    assert identity.serial == brewbench_device.emulator.machine.serial


def test_control_transfers_are_link_events_not_frames(brewbench_device: BenchDevice) -> None:
    [status] = brewbench_device.capture.link_events()
    meta = status.record.meta
    assert (meta["endpoint"], meta["transfer"], meta["status"], meta["length"]) == (
        0, "control", "ok", 4)
    assert brewbench_device.capture.frame_errors == 0
    assert all("BAD_FRAME" not in counts for counts in brewbench_device.capture.summary().values())


UNPLUGGED = """
import pytest
from brewbench.drivers.errors import DeviceDisconnected

@pytest.mark.brewbench_devices("emu://?firmware=2.1&transport=usb")
def test_unplugged_while_brewing(brewbench_machine, brewbench_emulator):
    brewbench_machine.provision("Lobby", "Ada", "Org", "HQ", "Floor 7")
    brewbench_emulator.machine.faults.hang_up_on = "BREW"
    with pytest.raises(DeviceDisconnected):
        brewbench_machine.brew("latte")
"""


def test_unplug_mid_action_keeps_the_saved_capture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=UNPLUGGED)
    results = pytester.path / "out"
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--brewbench-results", str(results),
                                  "--brewbench-run-id", "r1").assert_outcomes(passed=1)
    [path] = (results / "r1" / "captures").glob("*.jsonl")
    capture = Capture.load(path)
    assert json.loads(path.read_text().splitlines()[0])["meta"]["transport"] == "usb"
    [brew] = [span for span in capture.actions if span.name == "brew"]
    assert brew.outcome == "error" and "DeviceDisconnected" in brew.detail
    assert capture.messages(action="brew", direction="tx")[0].body["drink"] == "latte"
    assert capture.messages(action="provision", direction="rx")[0].body == {"ok": True}
