"""Devices found by their selector, waited for, and found again after a reset or a
re-plug under a new path, with one capture across the gap."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serial.tools.list_ports_common import ListPortInfo

from brewbench.bench.capture import Capture
from brewbench.bench.cli.main import main
from brewbench.bench.devices import open_device
from brewbench.drivers.errors import DeviceDisconnected, DeviceNotFound
from brewbench.drivers.machine import CoffeeMachine
from brewbench.drivers.records import NOTE_KEY
from brewbench.emulator.machine import EmulatedMachine
from brewbench.emulator.serial_ports import EmulatedSerialPorts
from brewbench.emulator.serve import Emulator
from brewbench.emulator.usb_backend import EmulatedUsbBus
from brewbench.emulator.usb_link import UsbLink
from brewbench.emulator.usb_serial_link import UsbSerialLink


@pytest.fixture
def two_serial_ports() -> Iterator[tuple[EmulatedSerialPorts, list[UsbSerialLink]]]:
    """Two emulated machines as USB serial ports on one port list."""
    ports = EmulatedSerialPorts()
    links = [UsbSerialLink(EmulatedMachine("2.1", serial=sn), ports) for sn in ("BB0A01", "BB0A02")]
    for link in links:
        link.start()
    yield ports, links
    for link in links:
        link.stop()


@pytest.fixture
def two_usb_devices() -> Iterator[tuple[EmulatedUsbBus, list[UsbLink]]]:
    bus = EmulatedUsbBus()
    links = [UsbLink(EmulatedMachine("2.1", serial=sn), bus) for sn in ("BB0B01", "BB0B02")]
    for link in links:
        link.start()
    yield bus, links
    for link in links:
        link.stop()


def serial_of(spec: str) -> str:
    with open_device(spec) as device:
        return str(device.capture.meta["serial"])


def test_a_usb_serial_port_is_chosen_by_serial_number_or_location(
        two_serial_ports: tuple[EmulatedSerialPorts, list[UsbSerialLink]]) -> None:
    ports, (one, two) = two_serial_ports
    base = f"serial+usb://1209:c0fe?backend={ports.name}"
    assert serial_of(f"{base}&serial=BB0A02") == "BB0A02"
    assert serial_of(f"serial+usb://?location={one.location}&backend={ports.name}") == "BB0A01"
    assert serial_of(f"{base}&location={two.location}") == "BB0A02"
    with pytest.raises(Exception, match="2 serial ports match"):
        serial_of(base)


def test_a_usb_device_is_chosen_by_serial_number_or_port(
        two_usb_devices: tuple[EmulatedUsbBus, list[UsbLink]]) -> None:
    bus, _ = two_usb_devices
    assert serial_of(f"usb://1209:c0fe?serial=BB0B02&backend={bus.name}") == "BB0B02"
    assert serial_of(f"usb://?port=1-1&backend={bus.name}") == "BB0B01"
    assert serial_of(f"usb://1209:c0fe?port=1-2&backend={bus.name}") == "BB0B02"


def test_re_plugging_keeps_the_location_and_changes_the_path(
        two_serial_ports: tuple[EmulatedSerialPorts, list[UsbSerialLink]],
        two_usb_devices: tuple[EmulatedUsbBus, list[UsbLink]]) -> None:
    ports, (one, _) = two_serial_ports
    path = one.path
    one.unplug()
    assert [p.location for p in ports.comports()] == [two_serial_ports[1][1].location]
    one.plug()
    assert one.path != path
    assert serial_of(f"serial+usb://?location={one.location}&backend={ports.name}") == "BB0A01"
    bus, (first, _) = two_usb_devices
    first.unplug()
    first.plug()  # a new address on the same port
    assert serial_of(f"usb://?port=1-1&backend={bus.name}") == "BB0B01"


def test_a_device_plugged_in_later_is_waited_for_with_one_message() -> None:
    ports = EmulatedSerialPorts()
    link = UsbSerialLink(EmulatedMachine("2.1", serial="BB0C01"), ports)
    spec = f"serial+usb://1209:c0fe?serial=BB0C01&backend={ports.name}"
    said: list[str] = []
    later = threading.Timer(0.4, link.start)
    later.start()
    try:
        ports.use()  # the list exists (as the OS's does) before the device is plugged in
        with open_device(spec, wait=5, say=said.append) as device:
            assert device.machine.status()["state"] == "ready"
    finally:
        later.join()
        link.stop()
        ports.release()
    assert said == [f"waiting up to 5 s for {spec} …"]


def test_a_device_that_never_comes_is_named_after_the_bound() -> None:
    ports = EmulatedSerialPorts()
    ports.use()
    spec = f"serial+usb://1209:c0fe?serial=BB0C02&backend={ports.name}"
    started = time.monotonic()
    try:
        with pytest.raises(DeviceNotFound, match=r"BB0C02.*did not appear within 0.5 s \(last "
                                                  r"look: no USB serial port matches"), \
                open_device(spec, wait=0.5):
            pass
    finally:
        ports.release()
    assert 0.5 <= time.monotonic() - started < 3


def gaps(capture: Capture) -> list[dict[str, object]]:
    return [dict(e.record.meta) for e in capture.notes() if e.record.meta[NOTE_KEY] == "link.gap"]


def boot_banners(capture: Capture) -> list[int]:
    """Where in the capture the boot banners are (entry indexes)."""
    return [i for i, e in enumerate(capture.entries) if e.record.message is not None
            and e.record.message.body.get("event") == "boot"]


@pytest.mark.parametrize("transport", ["usb-serial", "usb"])
def test_a_device_re_plugged_mid_test_is_found_again_in_the_same_capture(transport: str) -> None:
    with Emulator("2.1", transport, serial="BB0D01") as emulator, \
            open_device(emulator.spec, wait=5) as device:
        machine = device.machine
        machine.brew("espresso")
        emulator.replug(gap=0.3)
        time.sleep(0.1)  # the cable is out now
        assert machine.status()["state"] == "ready"  # waits for the device to be back
        machine.brew("latte")
        capture = device.capture
    [gap] = gaps(capture)
    assert gap["old"] != gap["new"]
    assert 0 < float(str(gap["seconds"])) < 5
    assert "link lost" in str(gap["cause"])
    kinds = [(e.action, e.record.message.type_name) for e in capture.frames("brew", "tx")
             if e.record.message]
    assert kinds == [("brew", "BREW"), ("brew", "BREW")]  # before and after the gap
    at_gap = next(i for i, e in enumerate(capture.entries) if e.record.meta.get(NOTE_KEY))
    [banner] = boot_banners(capture)
    assert banner > at_gap  # the first thing heard on the new link, after the gap note
    assert capture.entries[banner].record.stamp.mono_ns >= int(str(gap["to_mono_ns"]))


@pytest.mark.parametrize("transport", ["usb-serial", "usb", "serial"])
def test_a_reboot_is_asked_with_the_port_open_and_the_banner_is_kept(transport: str) -> None:
    with Emulator("2.1", transport, serial="BB0E01") as emulator, \
            open_device(emulator.spec) as device:
        banner = device.machine.reboot(wait=5)
        assert banner["event"] == "boot" and banner["serial"] == "BB0E01"
        assert device.machine.status()["state"] == "ready"
        assert emulator.machine.logs[-1].startswith("boot firmware 2.1 (reset)")
    assert len(boot_banners(device.capture)) == 1
    assert len(gaps(device.capture)) == (0 if transport == "serial" else 1)
    hellos = [e for e in device.capture.frames("connect", "tx")]
    assert len(hellos) == 2  # greeted again once it was back


def test_a_device_that_does_not_come_back_fails_after_the_bound() -> None:
    with Emulator("2.1", "usb-serial", serial="BB0F01") as emulator, \
            open_device(emulator.spec, wait=0.5) as device:
        assert isinstance(device.machine, CoffeeMachine)
        link = emulator.link
        assert isinstance(link, UsbSerialLink)
        link.unplug()  # and never back
        time.sleep(0.1)
        started = time.monotonic()
        with pytest.raises(DeviceDisconnected, match=r"did not come back.*did not appear "
                                                      r"within 0\.5 s"):
            device.machine.status()
        assert time.monotonic() - started < 3


USER_TEST = '''
def test_status(brewbench_machine):
    assert brewbench_machine.status()["state"] == "ready"
'''


class WatchedPorts(EmulatedSerialPorts):
    """Emulated ports that say when the bench first looked and found none."""

    def __init__(self) -> None:
        super().__init__()
        self.looked_in_vain = threading.Event()

    def comports(self) -> list[ListPortInfo]:
        listed = super().comports()
        if not listed:
            self.looked_in_vain.set()
        return listed


def test_the_plugin_waits_for_a_device_and_says_so(pytester: pytest.Pytester) -> None:
    ports = WatchedPorts()
    ports.use()
    link = UsbSerialLink(EmulatedMachine("2.1", serial="BB1001"), ports)
    spec = f"serial+usb://1209:c0fe?serial=BB1001&backend={ports.name}"
    pytester.makepyfile(test_user=USER_TEST)

    def plug_in_once_the_bench_waits() -> None:  # however slow the run is to get there
        ports.looked_in_vain.wait(60)
        link.start()

    later = threading.Thread(target=plug_in_once_the_bench_waits, daemon=True)
    later.start()
    try:
        waited = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:labgrid", "--brewbench-device", spec,
                                    "--brewbench-wait", "10", "--brewbench-results",
                                    str(pytester.path / "out"))
        later.join()
        link.stop()
        gone = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:labgrid", "--brewbench-device", spec,
                                  "--brewbench-wait", "0.3", "--brewbench-results",
                                  str(pytester.path / "out"))
    finally:
        ports.release()
    waited.assert_outcomes(passed=1)
    waited.stdout.fnmatch_lines([f"*waiting up to 10 s for {spec} …*"])
    gone.assert_outcomes(errors=1)
    gone.stdout.fnmatch_lines(["*did not appear within 0.3 s (last look: no USB serial port*"])


def test_brewbench_run_waits_up_to_its_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BREWBENCH_LAB_KEY_FILE", str(tmp_path / "lab.key"))
    for name in ("INFLUX_URL", "INFLUX_DB", "INFLUX_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    ports = EmulatedSerialPorts()
    ports.use()
    spec = f"serial+usb://1209:c0fe?serial=BB1002&backend={ports.name}"
    try:
        code = main(["run", "--device", spec, "--wait", "0.3", "--results", str(tmp_path)])
    finally:
        ports.release()
    out = capsys.readouterr()
    assert code == 2
    assert f"waiting up to 0.3 s for {spec} …" in out.out
    assert "did not appear within 0.3 s" in out.err
    assert main(["run", "--wait", "-1"]) == 2
    assert "--wait -1.0: give 0 or more seconds" in capsys.readouterr().err


def test_brewbench_devices_lists_emulated_usb_serial_ports_with_a_spec_that_survives_a_replug(
        two_serial_ports: tuple[EmulatedSerialPorts, list[UsbSerialLink]],
        capsys: pytest.CaptureFixture[str]) -> None:
    ports, (one, _) = two_serial_ports

    def listed() -> dict[str, str]:
        assert main(["devices", "--usb-backend", ports.name]) == 0
        lines = capsys.readouterr().out.split("serial:\n", 1)[1].split("\nusb:\n", 1)[0].splitlines()
        return {line.split()[0]: line for line in lines}

    before = listed()
    spec = f"serial+usb://1209:c0fe?serial=BB0A01&backend={ports.name}"
    assert f"port={one.path}" in before[spec] and f"location={one.location}" in before[spec]
    old_path = one.path
    one.unplug()
    one.plug()
    after = listed()
    assert f"port={one.path}" in after[spec] and one.path != old_path
    assert serial_of(spec) == "BB0A01"


REPLUG_TEST = '''
import time
import pytest

@pytest.mark.brewbench_devices("emu://?firmware=2.1&transport=usb-serial&serial=BB1101")
def test_replugged(brewbench_machine, brewbench_emulator):
    brewbench_machine.brew("espresso")
    brewbench_emulator.replug(gap=0.3)
    time.sleep(0.1)
    brewbench_machine.brew("latte")
'''


def test_a_test_whose_device_is_re_plugged_keeps_one_saved_capture(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=REPLUG_TEST)
    out = pytester.path / "out"
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:labgrid",
                                "--brewbench-wait", "5", "--brewbench-results", str(out))
    result.assert_outcomes(passed=1)
    [saved] = out.glob("*/captures/*.jsonl")
    capture = Capture.load(saved)
    [gap] = gaps(capture)
    assert gap["old"] != gap["new"]
    assert len(boot_banners(capture)) == 1
    assert [m.body["drink"] for m in capture.messages("brew", "tx")] == ["espresso", "latte"]


def test_every_family_waits_for_its_device_up_to_the_bound() -> None:
    said: list[str] = []
    spec = "serial:///dev/brewbench-not-there?family=jura"
    with pytest.raises(DeviceNotFound, match=r"did not appear within 0\.3 s \(last look: cannot "
                                             r"open serial port"), \
            open_device(spec, wait=0.3, say=said.append):
        pass
    assert said == [f"waiting up to 0.3 s for {spec} …"]
