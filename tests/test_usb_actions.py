"""Every action on every firmware profile over USB: real usb.core calls on the emulated bus."""

from collections.abc import Iterator

import pytest

from brewbench.bench.devices import BenchDevice, open_device
from brewbench.drivers.errors import DeviceRejected
from brewbench.drivers.messages import MsgType
from brewbench.emulator.firmware import PERSONAL, PRODUCT, SERVICE

PROFILES = ("1.0", "2.0", "2.1")
CARD = {"number": "4111111111111111", "expiry": "12/30"}


@pytest.fixture(params=PROFILES)
def usb_device(request: pytest.FixtureRequest) -> Iterator[BenchDevice]:
    with open_device(f"emu://?firmware={request.param}&transport=usb") as device:
        yield device


def provision(device: BenchDevice) -> None:
    device.machine.provision("Lobby", "Ada Owner", "Org Ltd", "HQ", "Floor 7",
                             location={"lat": 52.52, "lon": 13.40},
                             network={"ssid": "lab", "psk": "x"})


def firmware_of(device: BenchDevice) -> str:
    return device.spec.split("firmware=")[1].split("&")[0]


def test_link_is_usb_and_identify_reports_the_profile(usb_device: BenchDevice) -> None:
    identity = usb_device.machine.identify()
    assert identity.firmware == firmware_of(usb_device)
    assert usb_device.capture.meta["transport"] == "usb"
    assert {e.record.channel for e in usb_device.capture.entries} == {"usb"}
    assert usb_device.emulator is not None
    assert identity.serial == usb_device.emulator.machine.serial


def test_status_and_logs(usb_device: BenchDevice) -> None:
    machine = usb_device.machine
    assert machine.status()["queued_records"] == 0
    machine.brew("espresso", strength=5)
    assert any("espresso" in line for line in machine.read_logs())
    assert machine.status()["queued_records"] == 1


def test_brew_events_arrive_inside_the_action(usb_device: BenchDevice) -> None:
    reply = usb_device.machine.brew("latte", strength=4, milk="oat", ingredients=["vanilla"])
    assert reply["order_id"] == 1
    emitted = usb_device.capture.messages(action="brew", direction="rx")
    assert [m.type for m in emitted] == [MsgType.EVENT, MsgType.TELEMETRY, MsgType.EVENT,
                                         MsgType.BREW]


def test_sync_uploads_what_the_profile_collects(usb_device: BenchDevice) -> None:
    machine = usb_device.machine
    provision(usb_device)
    machine.brew("latte", milk="oat")
    machine.pay("card", 350, card=CARD, routing="DE89370400440532013000")
    [record] = machine.sync()
    expected = set(PRODUCT) | {"model", "serial", "firmware", "record_id"}
    version = firmware_of(usb_device)
    if version >= "2.0":
        expected |= set(SERVICE)
    if version >= "2.1":
        expected |= set(PERSONAL)
    assert set(record) == expected
    assert machine.sync() == []


def test_sync_pages_through_many_records(usb_device: BenchDevice) -> None:
    for n in range(40):
        usb_device.machine.brew("espresso", strength=1 + n % 5)
    records = usb_device.machine.sync(page=16)
    assert [r["record_id"] for r in records] == list(range(1, 41))


def test_pay_methods(usb_device: BenchDevice) -> None:
    assert usb_device.machine.pay("cash", 200)["approved"] is True
    with pytest.raises(DeviceRejected, match="PAYMENT_DECLINED") as refused:
        usb_device.machine.pay("card", 200, card={"number": ""})
    assert usb_device.spec in str(refused.value)


def test_reset_factory_forgets_provisioning(usb_device: BenchDevice) -> None:
    machine = usb_device.machine
    provision(usb_device)
    machine.brew("latte")
    assert machine.reset("soft") == {"ok": True}
    assert machine.status()["queued_records"] == 1
    machine.reset("factory")
    assert machine.sync() == []


def test_control_transfers_are_link_events_not_frames(usb_device: BenchDevice) -> None:
    [status] = usb_device.capture.link_events()
    meta = status.record.meta
    assert (meta["endpoint"], meta["transfer"], meta["status"], meta["length"]) == (
        0, "control", "ok", 4)
    assert usb_device.capture.frame_errors == 0
    assert all("BAD_FRAME" not in counts for counts in usb_device.capture.summary().values())
