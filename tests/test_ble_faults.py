"""What a BLE bench must survive and record: a dropped link, and what a machine broadcasts
(a drop mid-action with the plugin's saved capture: tests/test_ble_actions.py)."""

import json
from pathlib import Path

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import open_device
from brewbench.drivers.ble_adverts import ADV_CHANNEL
from brewbench.drivers.errors import DeviceDisconnected
from brewbench.emulator.serve import Emulator

ORGANISATION = "Initech Ltd"


def test_machine_drops_an_idle_link() -> None:
    with open_device("emu://?firmware=1.0&transport=ble") as device:
        assert device.emulator is not None
        device.emulator.machine.hang_up()  # it will never answer again on this link
        with pytest.raises(DeviceDisconnected, match="BLE link"):
            device.machine.status()


@pytest.mark.parametrize("firmware, leaks", [("1.0", False), ("2.0", True), ("2.1", True)])
def test_advertised_organisation_name_is_captured(tmp_path: Path, firmware: str,
                                                  leaks: bool) -> None:
    machine_name = f"{ORGANISATION} - Lobby"
    with Emulator(firmware, transport="ble") as emulator:
        with open_device(emulator.spec) as device:
            device.machine.provision(machine_name, "Ada Owner", ORGANISATION, "HQ", "Floor 3")
        with open_device(emulator.spec) as device:  # the machine advertises again, renamed
            saved = device.capture.save(tmp_path / "cap.jsonl")
    adverts = [e.record for e in Capture.load(saved).entries if e.record.channel == ADV_CHANNEL]
    assert adverts
    names = {a.meta["local_name"] for a in adverts}
    assert (machine_name in names) is leaks
    assert (ORGANISATION.encode() in b"".join(a.raw for a in adverts)) is leaks
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    assert any(line.get("channel") == ADV_CHANNEL for line in lines)


def test_lingering_bench_hears_the_new_name_in_the_same_capture() -> None:
    machine_name = f"{ORGANISATION} - Kitchen"
    with Emulator("2.0", transport="ble") as emulator, \
            open_device(f"{emulator.spec}&linger=5") as device:
        device.machine.provision(machine_name, "Ada Owner", ORGANISATION, "HQ", "Floor 3")
    adverts = [e for e in device.capture.entries if e.record.channel == ADV_CHANNEL]
    assert adverts[0].record.meta["local_name"] == emulator.machine.serial
    assert adverts[-1].record.meta["local_name"] == machine_name
    assert adverts[-1].action == "idle"  # heard after the last action, as the bench left
