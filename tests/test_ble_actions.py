"""Every action on every firmware profile over Bluetooth LE: bleak on the emulator's air."""

import pytest

from brewbench.bench.capture import Capture
from brewbench.drivers.ble_adverts import ADV_CHANNEL
from brewbench.drivers.errors import DeviceRejected
from brewbench.drivers.machine import CoffeeMachine
from brewbench.drivers.messages import MsgType
from brewbench.emulator.firmware import PERSONAL, get_profile

EVERY_PROFILE_OVER_BLE = pytest.mark.brewbench_devices(
    "emu://?firmware=1.0&transport=ble", "emu://?firmware=2.0&transport=ble",
    "emu://?firmware=2.1&transport=ble")
CARD = {"number": "4111111111111111", "expiry": "12/30"}


def firmware_of(spec: str) -> str:
    return spec.split("firmware=")[1].split("&")[0]


@EVERY_PROFILE_OVER_BLE
def test_whole_action_suite(brewbench_machine: CoffeeMachine, brewbench_capture: Capture,
                            brewbench_spec: str) -> None:
    version = firmware_of(brewbench_spec)
    machine = brewbench_machine
    identity = machine.identify()
    assert identity.firmware == version and identity.model == "CM-500"
    assert machine.status()["state"] == "ready"
    assert machine.provision("Lobby", "Ada Owner", "Org Ltd", "HQ", "Floor 7") == {"ok": True}
    assert machine.brew("latte", strength=4, milk="oat", ingredients=["vanilla"])["order_id"] == 1
    assert machine.pay("card", 350, card=CARD, routing="DE89370400440532013000")["approved"]
    [record] = machine.sync()
    assert set(record) == set(get_profile(version).record_fields) | {"record_id"}
    assert (set(PERSONAL) <= set(record)) is (version == "2.1")
    assert any("latte" in line for line in machine.read_logs())
    assert machine.reset("factory") == {"ok": True}
    assert machine.sync() == []

    brew_rx = [m.type for m in brewbench_capture.messages(action="brew", direction="rx")]
    assert brew_rx == [MsgType.EVENT, MsgType.TELEMETRY, MsgType.EVENT, MsgType.BREW]
    channels = {e.record.channel for e in brewbench_capture.entries}
    assert channels == {"ble", ADV_CHANNEL}


@EVERY_PROFILE_OVER_BLE
def test_records_page_through_many_notifications(brewbench_machine: CoffeeMachine) -> None:
    for n in range(30):
        brewbench_machine.brew("espresso", strength=1 + n % 5)
    records = brewbench_machine.sync(page=8)
    assert [r["record_id"] for r in records] == list(range(1, 31))


@pytest.mark.brewbench_devices("emu://?transport=ble")
def test_refusal_over_ble_keeps_the_link(brewbench_machine: CoffeeMachine,
                                         brewbench_spec: str) -> None:
    with pytest.raises(DeviceRejected, match="PAYMENT_DECLINED") as refused:
        brewbench_machine.pay("card", 200, card={"number": ""})
    assert brewbench_spec in str(refused.value)
    assert brewbench_machine.status()["state"] == "ready"

