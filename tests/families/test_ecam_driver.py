"""The ECAM family end to end: request data against published frames, the driver over
real bleak against the emulated peripheral on a bumble air, and the standard suite."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import brewbench.fixtures.suite
from brewbench.bench.devices import check_spec, open_device
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.classify import classify
from brewbench.bench.verify.emissions import emissions
from brewbench.bench.verify.verification import verify
from brewbench.drivers.ecam.commands import (
    brew_request,
    parse_brew,
    parse_parameters,
    parse_profiles,
    parse_statistics,
    profiles_answer,
    statistics_answer,
)
from brewbench.drivers.ecam.frames import decode, encode
from brewbench.drivers.ecam.gatt import CHARACTERISTIC_UUID, SERVICE_UUID
from brewbench.drivers.errors import DeviceRejected, DeviceSpecError, Timeout
from brewbench.emulator.ecam.serve import EcamEmulator

SUITE = Path(brewbench.fixtures.suite.__file__).parent / "test_standard.py"
SPEC = "emu://?family=ecam&transport=ble"

# Brew frames published with their checksums (manekinekko/cafy README,
# Arbuzov/home_assistant_delonghi_primadonna const.py): espresso, coffee, long,
# doppio+, americano, hot water, steam, and a stop.
BREWS = [
    "0d 11 83 f0 01 01 01 00 28 02 03 08 00 00 00 06 8f fc",
    "0d 0f 83 f0 02 01 01 00 67 02 02 00 00 06 77 ff",
    "0d 0f 83 f0 03 01 01 00 a0 02 03 00 00 06 18 7f",
    "0d 0d 83 f0 05 01 01 00 78 00 00 06 c4 7e",
    "0d 12 83 f0 06 01 01 00 28 02 03 0f 00 6e 00 00 06 47 8b",
    "0d 0d 83 f0 10 01 0f 00 fa 1c 01 06 04 b4",
    "0d 0d 83 f0 11 01 09 03 84 1c 01 06 c0 7b",
    "0d 08 83 f0 02 02 06 c4 b1",
]
# Set-profile answers published in DEBUG_NOTES.md (profiles 1-3 accepted, guest: 1)
SELECTED = ["d0 07 a9 f0 01 00 3b 3c", "d0 07 a9 f0 03 00 5d 5e", "d0 07 a9 f0 04 01 d4 e8"]


def test_the_published_gatt_layout() -> None:
    assert SERVICE_UUID == "00035b03-58e6-07dd-021a-08123a000300"
    assert CHARACTERISTIC_UUID == "00035b03-58e6-07dd-021a-08123a000301"


@pytest.mark.parametrize("text", BREWS)
def test_every_published_brew_frame_is_what_the_driver_builds(text: str) -> None:
    frame = decode(bytes.fromhex(text))
    start = frame.data[2] == 1
    values = parse_parameters(frame.data[3:-1]) if start else {}
    assert encode(0x83, brew_request(frame.data[1], values, start)) == bytes.fromhex(text)
    assert parse_brew(frame.data)["recipe"] == frame.data[1]


def test_published_answers_decode() -> None:
    for text in SELECTED:
        frame = decode(bytes.fromhex(text))
        assert frame.command_name == "set_profile" and frame.data[1] in (1, 3, 4)
    # the statistics layout of DEBUG_NOTES.md: id 3000, then (id, value) records
    data = bytes.fromhex("0f 0bb8 00000007 0bb9 00000002")
    assert parse_statistics(data) == {3000: 7, 3001: 2}
    assert statistics_answer({3000: 7, 3001: 2}) == data


def test_profile_names_are_twenty_bytes_of_utf16_then_an_icon() -> None:
    data = profiles_answer({1: ("Zoë", 2), 2: ("Ada Canary-7F", 0)})
    assert len(data) == 1 + 2 * 21 and data[1:7] == "Zoë".encode("utf-16-be")
    assert parse_profiles(data) == [{"id": 1, "name": "Zoë", "icon": 2},
                                    {"id": 2, "name": "Ada Canary", "icon": 0}]


@pytest.fixture
def ecam() -> Iterator[EcamEmulator]:
    with EcamEmulator() as emulated:
        yield emulated


def test_the_driver_talks_to_an_emulated_machine_through_bleak(ecam: EcamEmulator) -> None:
    with open_device(ecam.spec) as device:
        machine = device.machine
        meta = device.capture.meta
        assert device.family == "ecam" and meta["gatt"] == "ecam" and meta["mtu"] == "247"
        assert machine.identity.model == "ECAM 650.75.MS" and meta["name"] == "D1538752"
        assert [p["name"] for p in machine.profiles] == ["Profile 1", "Profile 2", "Profile 3",
                                                         "Guest"]
        assert machine.status()["state"] == "ready"
        before = machine.read_counters()
        assert machine.brew("espresso")["recipe"] == 1
        after = machine.read_counters()
        assert after["espresso"] == before["espresso"] + 1
        assert after["black_coffee"] == before["black_coffee"] + 1
        machine.write_profile(3, "Zoë")
        assert ecam.machine.profiles[3] == ("Zoë", 0)
        settings = machine.read_settings()
        assert settings["profiles"][2]["name"] == "Zoë"
        assert settings["recipes"]["1"]["espresso"] == {1: 40}
        with pytest.raises(DeviceRejected, match="no ECAM recipe makes 'mocha'"):
            machine.brew("mocha")
        with pytest.raises(Timeout, match=r"no ECAM answer to command 0x42 within 0\.3s"):
            machine.connection.request(0x42, b"", timeout=0.3)
        assert not machine.supports("pay") and machine.supports("provision")


def test_without_device_information_the_device_name_identifies_it() -> None:
    with EcamEmulator(serial="2024001", device_information=False) as bare, \
            open_device(bare.spec) as device:
        identity = device.machine.identify()
        assert (identity.manufacturer, identity.model, identity.serial, identity.firmware) == \
            ("De'Longhi", "D2024001", "D2024001", "unknown")
        assert "model" not in device.machine.connection.transport.device_information


def test_planted_names_land_in_profiles_and_are_found(ecam: EcamEmulator) -> None:
    canaries = plant("7F3A9C2E")
    with open_device(ecam.spec) as device:
        device.machine.provision(**canaries.provisioning())
        device.machine.read_settings()
        capture = device.capture
    assert ecam.machine.profiles[1][0] == "y-7F3A9C2E"  # the last ten characters
    by_path = {item.emission.path: set(item.categories) for item in classify(emissions(capture))}
    assert by_path["link.ble.profiles[].name"] == {"identity"}
    found = verify(capture, canaries).findings
    assert any(f.path == "link.ble.profiles[].name" and f.action == "read_settings"
               for f in found)


@pytest.mark.parametrize(("spec", "says"), [
    ("emu://?family=ecam&transport=serial", "Bluetooth LE only"),
    ("serial:///dev/ttyUSB0?family=ecam", "reached over ble or emu://, not serial://"),
])
def test_ecam_is_bluetooth_only(spec: str, says: str) -> None:
    with pytest.raises(DeviceSpecError, match=says) as caught:
        check_spec(spec)
    assert "\n" not in str(caught.value)
    with pytest.raises(DeviceSpecError, match=says), open_device(spec):
        pass


def test_an_ecam_emulator_is_a_ble_one_unless_said_otherwise() -> None:
    check_spec("emu://?family=ecam")
    check_spec("ble://name=D1538752?family=ecam")
    with pytest.raises(DeviceSpecError, match="fault= is for the cm500 family"), \
            open_device("emu://?family=ecam&fault=flood"):
        pass


def test_brewbench_run_shows_profile_names_as_identity(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "brewbench", "run", "--device", SPEC,
                           "--results", str(tmp_path / "results")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "device: De'Longhi ECAM 650.75.MS" in done.stdout
    assert re.search(r"identify +device, identity", done.stdout), done.stdout
    assert "link.ble.profiles[].name" in done.stdout


def test_the_standard_suite_passes_on_an_emulated_ecam(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", str(SUITE), "-p", "no:cacheprovider",
                           "-p", "no:randomly", "--brewbench-device", SPEC,
                           "--brewbench-results", str(tmp_path / "results"), "-q", "-rs"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed and int(passed.group(1)) >= 4, done.stdout  # identify, session, counters...
    assert "failed" not in done.stdout
    assert "has no reset action" in done.stdout and "has no sync action" in done.stdout
