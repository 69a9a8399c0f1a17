"""Every action on every firmware profile over every link: a pty and a TCP socket
opened by pyserial, the emulated USB bus through usb.core, the emulated air through bleak."""

import pytest

from brewbench.bench.capture import Capture
from brewbench.drivers.errors import DeviceRejected
from brewbench.drivers.machine import CoffeeMachine
from brewbench.drivers.messages import MsgType
from brewbench.emulator.firmware import PERSONAL, PRODUCT, SERVICE

LINKS = ("serial", "socket", "usb", "ble")
EVERY_PROFILE = pytest.mark.brewbench_devices(
    *(f"emu://?transport={link}&firmware={version}" for link in LINKS
      for version in ("1.0", "2.0", "2.1")))
CARD = {"number": "4111111111111111", "expiry": "12/30"}


def provision(machine: CoffeeMachine) -> None:
    machine.provision("Lobby", "Ada Owner", "Org Ltd", "HQ", "Floor 7",
                      location={"lat": 52.52, "lon": 13.40}, network={"ssid": "lab", "psk": "x"})


@EVERY_PROFILE
def test_identify_reports_the_profile(brewbench_machine: CoffeeMachine, brewbench_spec: str) -> None:
    identity = brewbench_machine.identify()
    assert identity.firmware == brewbench_spec.rsplit("=", 1)[1]
    assert identity.model == "CM-500" and identity.serial.startswith("BB")


@EVERY_PROFILE
def test_status_and_logs(brewbench_machine: CoffeeMachine) -> None:
    status = brewbench_machine.status()
    assert status["state"] == "ready" and status["queued_records"] == 0
    brewbench_machine.brew("espresso", strength=5)
    assert any("espresso" in line for line in brewbench_machine.read_logs())
    assert brewbench_machine.status()["queued_records"] == 1


@EVERY_PROFILE
def test_brew_emits_progress_events_inside_the_action(brewbench_machine: CoffeeMachine,
                                                      brewbench_capture: Capture) -> None:
    reply = brewbench_machine.brew("latte", strength=4, milk="oat", ingredients=["vanilla"])
    assert reply["order_id"] == 1
    emitted = brewbench_capture.messages(action="brew", direction="rx")
    assert [m.type for m in emitted] == [MsgType.EVENT, MsgType.TELEMETRY, MsgType.EVENT,
                                         MsgType.BREW]
    assert brewbench_capture.messages(action="brew", direction="tx")[0].body["drink"] == "latte"


@EVERY_PROFILE
def test_sync_uploads_what_the_profile_collects(brewbench_machine: CoffeeMachine,
                                                brewbench_spec: str) -> None:
    version = brewbench_spec.rsplit("=", 1)[1]
    provision(brewbench_machine)
    brewbench_machine.brew("latte", milk="oat")
    brewbench_machine.pay("card", 350, card=CARD, routing="DE89370400440532013000")
    [record] = brewbench_machine.sync()
    assert {"drink", "strength", "serial", "firmware"} <= set(record)
    expected = set(PRODUCT) | {"model", "serial", "firmware", "record_id"}
    if version >= "2.0":
        expected |= set(SERVICE)
    if version >= "2.1":
        expected |= set(PERSONAL)
    assert set(record) == expected
    assert brewbench_machine.sync() == []


@EVERY_PROFILE
def test_sync_pages_through_many_records(brewbench_machine: CoffeeMachine) -> None:
    for n in range(40):
        brewbench_machine.brew("espresso", strength=1 + n % 5)
    records = brewbench_machine.sync(page=16)
    assert [r["record_id"] for r in records] == list(range(1, 41))


@EVERY_PROFILE
def test_pay_methods(brewbench_machine: CoffeeMachine) -> None:
    assert brewbench_machine.pay("cash", 200)["approved"] is True
    with pytest.raises(DeviceRejected, match="PAYMENT_DECLINED") as refused:
        brewbench_machine.pay("card", 200, card={"number": ""})
    assert refused.value.device in str(refused.value)


@EVERY_PROFILE
def test_reset_factory_forgets_provisioning(brewbench_machine: CoffeeMachine) -> None:
    provision(brewbench_machine)
    brewbench_machine.brew("latte")
    assert brewbench_machine.reset("soft") == {"ok": True}
    assert brewbench_machine.status()["queued_records"] == 1
    brewbench_machine.reset("factory")
    assert brewbench_machine.sync() == []


def test_bad_request_is_a_typed_refusal(brewbench_machine: CoffeeMachine) -> None:
    with pytest.raises(DeviceRejected) as refused:
        brewbench_machine.brew("latte", strength=9)
    assert refused.value.name == "BAD_REQUEST" and "strength" in refused.value.detail
    assert brewbench_machine.status()["state"] == "ready"  # the link survives a refusal
