"""A host without what a transport needs (a USB bus, a Bluetooth service) gets one line
that names what is missing, not a guess and not bleak's or libusb's bare error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from brewbench.drivers.usb_backends import _libusb_library, no_libusb_reason
from brewbench.fixtures.influx_servers import start_or_skip

BREWBENCH = [sys.executable, "-m", "brewbench"]
DBUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
    <allow own="*"/><allow user="*"/></policy>
</busconfig>
"""


def brewbench_run(spec: str, tmp_path: Path, **env: str) -> list[str]:
    done = subprocess.run([*BREWBENCH, "run", "--device", spec, "--results", str(tmp_path)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "key"),
                               **env})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr.strip().splitlines()


def test_no_usb_bus_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "dev-bus-usb"
    reason = no_libusb_reason(missing)
    if _libusb_library() is None:
        assert reason.startswith("libusb-1.0 is not installed; install it")
    else:
        assert reason.startswith(f"this host has no USB bus: {missing} does not exist "
                                 "(libusb-1.0 is installed)")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="usbfs is Linux's")
def test_usb_run_on_this_host_names_the_real_cause(tmp_path: Path) -> None:
    [line] = brewbench_run("usb://1209:c0fe", tmp_path)
    if not Path("/dev/bus/usb").exists():  # a container without USB, as CI runs in
        assert line == f"brewbench: usb://1209:c0fe: {no_libusb_reason()}"
        assert "no USB bus" in line or "not installed" in line
    else:  # a host with a bus: the device is simply not there
        assert "sees no USB bus" not in line and "usb://1209:c0fe" in line


def test_ble_without_a_system_bus_names_the_socket(tmp_path: Path) -> None:
    socket = tmp_path / "no-such-bus"
    [line] = brewbench_run("ble://name=CM-Lobby?scan=1", tmp_path,
                           DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={socket}")
    assert line == (f"brewbench: ble://name=CM-Lobby?scan=1: cannot scan: no D-Bus system bus at "
                    f"{socket}, so BlueZ cannot be reached; start dbus and bluetoothd "
                    "(systemctl start bluetooth), or in a container mount /run/dbus "
                    "(docs/hardware.md, Bluetooth LE)")


class DbusDaemon:
    """A private D-Bus system bus with nothing on it (no BlueZ)."""

    def __init__(self, root: Path) -> None:
        exe = shutil.which("dbus-daemon")
        if exe is None:
            raise FileNotFoundError("dbus-daemon is not on PATH; install it (Debian: apt-get "
                                    "install dbus)")
        root.mkdir(parents=True, exist_ok=True)
        self.socket = root / "system_bus_socket"
        config = root / "bus.conf"
        config.write_text(DBUS_CONFIG.format(socket=self.socket))
        self.command = [exe, f"--config-file={config}", "--nofork"]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        for _ in range(100):
            if self.socket.exists():
                return
            time.sleep(0.05)
        raise RuntimeError("dbus-daemon did not create its socket")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def bus_without_bluez(tmp_path: Path) -> Iterator[DbusDaemon]:
    """A real dbus-daemon on a socket of this test's own, serving no Bluetooth."""
    daemon = start_or_skip(DbusDaemon, tmp_path / "dbus")
    yield daemon
    daemon.stop()


def test_ble_without_bluez_says_bluetoothd_is_not_running(bus_without_bluez: DbusDaemon,
                                                          tmp_path: Path) -> None:
    [line] = brewbench_run("ble://name=CM-Lobby?scan=1", tmp_path,
                           DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={bus_without_bluez.socket}")
    assert line == ("brewbench: ble://name=CM-Lobby?scan=1: cannot scan: BlueZ (bluetoothd) is not "
                    "running on the D-Bus system bus; start it (systemctl start bluetooth) and "
                    "check an adapter is there (bluetoothctl list; docs/hardware.md, Bluetooth LE)")
