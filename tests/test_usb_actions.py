"""Every action on every firmware profile over USB: real usb.core calls on the emulated bus."""

import json

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import BenchDevice
from brewbench.drivers.errors import DeviceRejected
from brewbench.drivers.messages import MsgType
from brewbench.drivers.specs import parse_spec
from brewbench.emulator.firmware import PERSONAL, PRODUCT, SERVICE

EVERY_PROFILE_OVER_USB = pytest.mark.brewbench_devices(
    *(f"emu://?firmware={version}&transport=usb" for version in ("1.0", "2.0", "2.1")))
CARD = {"number": "4111111111111111", "expiry": "12/30"}
pytestmark = EVERY_PROFILE_OVER_USB


def provision(device: BenchDevice) -> None:
    device.machine.provision("Lobby", "Ada Owner", "Org Ltd", "HQ", "Floor 7",
                             location={"lat": 52.52, "lon": 13.40},
                             network={"ssid": "lab", "psk": "x"})


def firmware_of(device: BenchDevice) -> str:
    return parse_spec(device.spec).params["firmware"]


def test_link_is_usb_and_identify_reports_the_profile(brewbench_device: BenchDevice) -> None:
    identity = brewbench_device.machine.identify()
    assert identity.firmware == firmware_of(brewbench_device)
    assert brewbench_device.capture.meta["transport"] == "usb"
    assert {e.record.channel for e in brewbench_device.capture.entries} == {"usb"}
    assert brewbench_device.emulator is not None
    assert identity.serial == brewbench_device.emulator.machine.serial


def test_status_and_logs(brewbench_device: BenchDevice) -> None:
    machine = brewbench_device.machine
    assert machine.status()["queued_records"] == 0
    machine.brew("espresso", strength=5)
    assert any("espresso" in line for line in machine.read_logs())
    assert machine.status()["queued_records"] == 1


def test_brew_events_arrive_inside_the_action(brewbench_device: BenchDevice) -> None:
    reply = brewbench_device.machine.brew("latte", strength=4, milk="oat", ingredients=["vanilla"])
    assert reply["order_id"] == 1
    emitted = brewbench_device.capture.messages(action="brew", direction="rx")
    assert [m.type for m in emitted] == [MsgType.EVENT, MsgType.TELEMETRY, MsgType.EVENT,
                                         MsgType.BREW]


def test_sync_uploads_what_the_profile_collects(brewbench_device: BenchDevice) -> None:
    machine = brewbench_device.machine
    provision(brewbench_device)
    machine.brew("latte", milk="oat")
    machine.pay("card", 350, card=CARD, routing="DE89370400440532013000")
    [record] = machine.sync()
    expected = set(PRODUCT) | {"model", "serial", "firmware", "record_id"}
    version = firmware_of(brewbench_device)
    if version >= "2.0":
        expected |= set(SERVICE)
    if version >= "2.1":
        expected |= set(PERSONAL)
    assert set(record) == expected
    assert machine.sync() == []


def test_sync_pages_through_many_records(brewbench_device: BenchDevice) -> None:
    for n in range(40):
        brewbench_device.machine.brew("espresso", strength=1 + n % 5)
    records = brewbench_device.machine.sync(page=16)
    assert [r["record_id"] for r in records] == list(range(1, 41))


def test_pay_methods(brewbench_device: BenchDevice) -> None:
    assert brewbench_device.machine.pay("cash", 200)["approved"] is True
    with pytest.raises(DeviceRejected, match="PAYMENT_DECLINED") as refused:
        brewbench_device.machine.pay("card", 200, card={"number": ""})
    assert brewbench_device.spec in str(refused.value)


def test_reset_factory_forgets_provisioning(brewbench_device: BenchDevice) -> None:
    machine = brewbench_device.machine
    provision(brewbench_device)
    machine.brew("latte")
    assert machine.reset("soft") == {"ok": True}
    assert machine.status()["queued_records"] == 1
    machine.reset("factory")
    assert machine.sync() == []


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
