"""``brewbench devices``: what is attached, each line a spec that opens it."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from serial.tools.list_ports_common import ListPortInfo

from brewbench.bench.cli.main import main
from brewbench.bench.devices import open_device
from brewbench.bench.discovery import serial_ports
from brewbench.emulator.ble_air import Air
from brewbench.emulator.ble_link import BleLink
from brewbench.emulator.machine import EmulatedMachine
from brewbench.emulator.serve import Emulator

BREWBENCH = [sys.executable, "-m", "brewbench"]


@pytest.fixture
def runtime_env(tmp_path: Path) -> dict[str, str]:
    """A runtime folder of this test's own, so other tests' emulators are not listed."""
    return {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)}


@pytest.fixture
def emulate(runtime_env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([*BREWBENCH, "emulate", "--firmware", "2.0", "--serial", "BB0777"],
                            stdout=subprocess.PIPE, text=True, env=runtime_env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Ctrl-C"):
            break
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


def devices(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BREWBENCH, "devices", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_a_running_emulator_is_listed_with_a_spec_that_opens_it(
        emulate: subprocess.Popen[str], runtime_env: dict[str, str]) -> None:
    done = devices(runtime_env)
    assert done.returncode == 0, done.stderr
    emulated = done.stdout.split("emulated:\n", 1)[1].splitlines()
    [line] = emulated
    assert "firmware 2.0" in line and "serial BB0777" in line
    spec = line.split()[0]
    with open_device(spec) as device:
        assert device.machine.identify().serial == "BB0777"


def test_a_stopped_emulator_leaves_the_listing(emulate: subprocess.Popen[str],
                                               runtime_env: dict[str, str]) -> None:
    emulate.terminate()
    emulate.wait(timeout=10)
    assert devices(runtime_env).stdout.split("emulated:\n", 1)[1].strip() == "(none)"


def test_a_killed_emulators_entry_is_ignored(emulate: subprocess.Popen[str],
                                            runtime_env: dict[str, str]) -> None:
    emulate.kill()
    emulate.wait(timeout=10)
    assert devices(runtime_env).stdout.split("emulated:\n", 1)[1].strip() == "(none)"


def test_emulated_usb_machines_are_listed_by_serial_number(capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    with Emulator(firmware="2.1", transport="usb", serial="BB0900") as emulator:
        bus = emulator.url.rsplit("backend=", 1)[1]
        assert main(["devices", "--usb-backend", bus]) == 0
        out = capsys.readouterr().out
        usb_lines = out.split("usb:\n", 1)[1].split("emulated:", 1)[0].splitlines()
        [line] = usb_lines
        spec = line.split()[0]
        assert spec == f"usb://1209:c0fe?serial=BB0900&backend={bus}"
        assert "location=1-1" in line
        with open_device(spec) as device:
            assert device.machine.identify().serial == "BB0900"


def test_no_usb_bus_is_one_line_not_a_traceback(runtime_env: dict[str, str]) -> None:
    done = devices(runtime_env)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    usb_part = done.stdout.split("usb:\n", 1)[1].split("emulated:", 1)[0].splitlines()
    assert len(usb_part) >= 1  # devices, (none), or the one line saying why not


def test_an_unknown_usb_backend_is_a_usage_error(runtime_env: dict[str, str]) -> None:
    done = devices(runtime_env, "--usb-backend", "nope")
    assert done.returncode == 2
    assert done.stderr.strip().endswith("(an emulated bus exists only while its emulator runs)")
    assert "Traceback" not in done.stderr


def test_usb_serial_ports_get_a_spec_by_ids_and_serial_number() -> None:
    acm = ListPortInfo("/dev/ttyACM3")
    acm.vid, acm.pid, acm.serial_number, acm.location = 0x1209, 0xC0FE, "BB0001", "1-4.2:1.0"
    bare = ListPortInfo("/dev/ttyUSB1")
    bare.vid, bare.pid, bare.location = 0x0403, 0x6001, "1-3:1.0"
    plain = ListPortInfo("/dev/ttyS0")
    found = {f.facts["port"]: f for f in serial_ports([acm, bare, plain]).found}
    assert found["/dev/ttyACM3"].spec == "serial+usb://1209:c0fe?serial=BB0001"
    assert found["/dev/ttyACM3"].facts["location"] == "1-4.2:1.0"
    assert found["/dev/ttyUSB1"].spec == "serial+usb://0403:6001?location=1-3:1.0"
    assert found["/dev/ttyS0"].spec == "serial:///dev/ttyS0"


def test_ble_machines_are_listed_by_address_with_a_bounded_scan(
        capsys: pytest.CaptureFixture[str]) -> None:
    with Air() as air:
        link = BleLink(EmulatedMachine("2.1", serial="BB0041"), air, rssi=-52)
        link.start()
        try:
            assert main(["devices", "--ble", "0.5", "--ble-backend", air.name]) == 0
            out = capsys.readouterr().out
            [line] = out.split("ble:\n", 1)[1].split("emulated:", 1)[0].splitlines()
            spec = line.split()[0]
            assert spec == f"ble://address={link.address}?backend={air.name}"
            assert "name=BB0041" in line and "rssi=-52" in line
            with open_device(spec) as device:
                assert device.machine.identify().serial == "BB0041"
        finally:
            link.stop()
