"""Finding machines on a shared air: plain bleak scanning, and the bench's ble:// selectors."""

import asyncio
from collections.abc import Iterator

import pytest
from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from brewbench.bench.devices import open_device
from brewbench.drivers.ble_adverts import ADV_CHANNEL, Advert, encode
from brewbench.drivers.ble_profile import SERVICE_UUID, TEST_COMPANY_ID
from brewbench.drivers.errors import DeviceNotFound, DeviceSpecError
from brewbench.emulator.ble_air import Air
from brewbench.emulator.ble_link import BleLink
from brewbench.emulator.ble_scanner import EmulatedScanner
from brewbench.emulator.machine import EmulatedMachine

HEART_RATE = "0000180d-0000-1000-8000-00805f9b34fb"


@pytest.fixture
def air() -> Iterator[Air]:
    with Air() as air:
        yield air


@pytest.fixture
def two_machines(air: Air) -> Iterator[tuple[BleLink, BleLink]]:
    """A 2.0 and a 2.1 machine, and a heart-rate strap that is no coffee machine."""
    links = (BleLink(EmulatedMachine("2.0", serial="BB0020"), air, rssi=-48),
             BleLink(EmulatedMachine("2.1", serial="BB0021"), air, rssi=-71))
    for link in links:
        link.start()

    async def strap() -> None:
        device = await air.new_device("strap")
        await device.start_advertising(
            advertising_data=encode(Advert("HR-Strap", service_uuids=[HEART_RATE])),
            advertising_interval_min=20, advertising_interval_max=20)

    air.call(strap())
    yield links
    for link in links:
        link.stop()


def test_bleak_discovers_both_machines(air: Air, two_machines: tuple[BleLink, BleLink]) -> None:
    async def scan() -> dict[str, tuple[BLEDevice, AdvertisementData]]:
        # bleak passes extra keywords (air=) to the backend; its overloads do not say so
        return await BleakScanner.discover(timeout=0.5, return_adv=True,  # type: ignore[call-overload,no-any-return]
                                           backend=EmulatedScanner, air=air)

    found = asyncio.run(scan())
    first, second = two_machines
    assert {first.address, second.address} <= set(found)
    _, adv20 = found[first.address]
    _, adv21 = found[second.address]
    assert adv20.local_name == "BB0020" and adv20.rssi == -48
    assert SERVICE_UUID in adv20.service_uuids
    assert adv20.manufacturer_data[TEST_COMPANY_ID].split(b"\x1f") == [b"CM-500", b"BB0020"]
    assert adv21.manufacturer_data[TEST_COMPANY_ID].split(b"\x1f") == [b"CM-500", b"BB0021",
                                                                       b"2.1"]


def test_bleak_filters_by_service(air: Air, two_machines: tuple[BleLink, BleLink]) -> None:
    async def scan() -> list[str]:
        devices = await BleakScanner.discover(timeout=0.5, service_uuids=[HEART_RATE],  # type: ignore[call-overload]
                                              backend=EmulatedScanner, air=air)
        return [d.name or "" for d in devices]

    assert asyncio.run(scan()) == ["HR-Strap"]


def test_select_by_name(air: Air, two_machines: tuple[BleLink, BleLink]) -> None:
    with open_device(f"ble://name=BB0021?backend={air.name}&scan=5") as device:
        assert device.machine.identify().serial == "BB0021"
        assert device.capture.meta["address"] == two_machines[1].address
        adverts = [e.record for e in device.capture.entries if e.record.channel == ADV_CHANNEL]
        assert adverts and {a.meta["local_name"] for a in adverts} == {"BB0021"}
        assert adverts[0].meta["rssi"] == -71


def test_select_by_address(air: Air, two_machines: tuple[BleLink, BleLink]) -> None:
    address = two_machines[0].address.lower()
    with open_device(f"ble://address={address}?backend={air.name}") as device:
        assert device.machine.identify().serial == "BB0020"


def test_select_by_service_never_picks_another_kind_of_device(
        air: Air, two_machines: tuple[BleLink, BleLink]) -> None:
    with open_device(f"ble://service={SERVICE_UUID.upper()}?backend={air.name}") as device:
        assert device.machine.identify().serial in ("BB0020", "BB0021")
    with pytest.raises(DeviceNotFound, match="no coffee-machine service"), \
            open_device(f"ble://service={HEART_RATE}?backend={air.name}"):
        pass


def test_quiet_machine_is_not_found_and_the_error_says_what_was_heard(
        air: Air, two_machines: tuple[BleLink, BleLink]) -> None:
    quiet, _ = two_machines
    quiet.stop_advertising()
    spec = f"ble://name=BB0020?backend={air.name}&scan=0.5"
    with pytest.raises(DeviceNotFound) as missing, open_device(spec):
        pass
    message = str(missing.value)
    assert spec in message and "name=BB0020" in message and "BB0021" in message
    assert "in range" in message
    quiet.start_advertising()
    with open_device(spec) as device:
        assert device.machine.identify().serial == "BB0020"


@pytest.mark.parametrize("spec, words", [
    ("ble://CM-Lobby", "expected ble://name="),
    ("ble://colour=red", "expected ble://name="),
    ("ble://name=X?backend=nowhere", "no BLE backend 'nowhere'"),
    ("ble://name=X?scan=soon", "scan='soon' must be a positive number"),
    ("ble://name=X?write=maybe", "use write=response or write=command"),
    ("ble://name=X?pin=1234", "unknown parameter"),
    ("ble://name=X?linger=nan", "linger='nan' must be a positive number"),
    ("ble://name=X?scan=0", "scan='0' must be a positive number"),
])
def test_bad_ble_specs_say_what_is_wrong(spec: str, words: str) -> None:
    with pytest.raises(DeviceSpecError, match=words), open_device(spec):
        pass


def test_platform_backend_fails_cleanly_without_the_machine() -> None:
    # No emulator here: bleak's own backend for this platform. Without a Bluetooth stack
    # the stack's refusal, with one the bounded scan, ends in DeviceNotFound.
    spec = "ble://name=No-Such-Machine-7F3A?scan=0.5"
    with pytest.raises(DeviceNotFound) as missing, open_device(spec):
        pass
    message = str(missing.value)
    assert spec in message
    assert "docs/hardware.md" in message or "in range" in message
