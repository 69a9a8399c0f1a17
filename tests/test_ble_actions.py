"""What is particular to Bluetooth LE (tests/test_actions.py runs every action over it): the
channels, Device Information and advertisements in the capture, and a link the machine drops
mid-action as the plugin saves it."""

import json

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import BenchDevice
from brewbench.drivers.ble_adverts import ADV_CHANNEL
from brewbench.drivers.specs import parse_spec
from brewbench.emulator.firmware import get_profile

pytestmark = pytest.mark.brewbench_devices(
    *(f"emu://?firmware={version}&transport=ble" for version in ("1.0", "2.0", "2.1")))


def test_link_is_ble_and_the_capture_holds_what_it_exposes(brewbench_device: BenchDevice) -> None:
    identity = brewbench_device.machine.identify()
    capture = brewbench_device.capture
    assert capture.meta["transport"] == "ble" and int(capture.meta["mtu"]) > 23
    assert {e.record.channel for e in capture.frames()} == {"ble"}
    links = [e.record for e in capture.link_events()]
    assert {r.channel for r in links} == {"ble", ADV_CHANNEL}
    information = {r.meta["field"]: r.meta["value"] for r in links if r.meta.get("gatt")}
    assert information == {"manufacturer": identity.manufacturer, "model": identity.model,
                           "serial": identity.serial, "firmware": identity.firmware}


def test_advertised_name_follows_the_profile(brewbench_device: BenchDevice) -> None:
    version = parse_spec(brewbench_device.spec).params["firmware"]
    identity = brewbench_device.machine.identify()
    policy = get_profile(version).advertising
    expected = policy.local_name({"model": identity.model, "serial": identity.serial})
    adverts = [e.record.meta for e in brewbench_device.capture.link_events()
               if e.record.channel == ADV_CHANNEL]
    assert adverts and {m["local_name"] for m in adverts} == {expected}
    assert expected == (identity.model if version == "1.0" else identity.serial)


DROPPED = """
import pytest
from brewbench.drivers.errors import DeviceDisconnected

@pytest.mark.brewbench_devices("emu://?firmware=2.1&transport=ble")
def test_link_dropped_while_syncing(brewbench_machine, brewbench_emulator):
    brewbench_machine.brew("latte")
    brewbench_emulator.machine.faults.hang_up_on = "SYNC"
    with pytest.raises(DeviceDisconnected):
        brewbench_machine.sync()
"""


def test_dropped_link_mid_action_keeps_the_saved_capture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=DROPPED)
    results = pytester.path / "out"
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--brewbench-results", str(results),
                                  "--brewbench-run-id", "r1").assert_outcomes(passed=1)
    [path] = (results / "r1" / "captures").glob("*.jsonl")
    capture = Capture.load(path)
    assert json.loads(path.read_text().splitlines()[0])["meta"]["transport"] == "ble"
    [sync] = [span for span in capture.actions if span.name == "sync"]
    assert sync.outcome == "error" and "DeviceDisconnected" in sync.detail
    assert [e.record.direction for e in capture.frames(action="sync")] == ["tx"]
    assert len(capture.messages(action="brew", direction="rx")) == 4
    assert any(e.record.channel == ADV_CHANNEL for e in capture.link_events())
