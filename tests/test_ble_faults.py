"""What a BLE bench must survive and record: a dropped link, and what a machine broadcasts."""

import json
from pathlib import Path

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import open_device
from brewbench.drivers.ble_adverts import ADV_CHANNEL
from brewbench.drivers.errors import DeviceDisconnected
from brewbench.emulator.serve import Emulator

ORGANISATION = "Initech Ltd"


def test_machine_drops_the_link_mid_action(tmp_path: Path) -> None:
    with open_device("emu://?firmware=2.1&transport=ble") as device:
        assert device.emulator is not None
        device.machine.brew("latte")
        device.emulator.machine.faults.hang_up_on = "SYNC"
        with pytest.raises(DeviceDisconnected) as lost:
            device.machine.sync()
        assert "emu://" in str(lost.value) and "reconnect" in str(lost.value)
        saved = device.capture.save(tmp_path / "cap.jsonl")
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    ends = {line["action"]: line for line in lines
            if line["type"] == "action" and line["phase"] == "end"}
    assert ends["brew"]["outcome"] == "ok"
    assert ends["sync"]["outcome"] == "error" and "DeviceDisconnected" in ends["sync"]["detail"]
    frames = [line for line in lines if line["type"] == "frame"]
    assert {line["channel"] for line in frames} == {"ble", ADV_CHANNEL}
    assert [f["dir"] for f in frames if f["action"] == "sync"] == ["tx"]
    assert len([f for f in frames if f["action"] == "brew" and f["dir"] == "rx"]) == 4


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
