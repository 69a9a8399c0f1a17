"""RFC 2217 and other pyserial URL schemes: the standard suite through a terminal server,
Debian's ser2net and pyserial's own RFC 2217 server, with URL options passed through."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import brewbench.fixtures.suite
from brewbench.bench.devices import open_device
from brewbench.bench.ser2net import Ser2net
from brewbench.drivers.errors import DeviceNotFound, DeviceSpecError
from brewbench.emulator.rfc2217_server import Rfc2217Server
from brewbench.emulator.serve import Emulator
from brewbench.fixtures.influx_servers import start_or_skip

SUITE = Path(brewbench.fixtures.suite.__file__).parent / "test_standard.py"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """An emulated machine on a pty, for a terminal server to expose."""
    with Emulator(firmware="2.1") as machine:
        yield machine


@pytest.fixture
def ser2net(emulator: Emulator, tmp_path: Path) -> Iterator[Ser2net]:
    """Debian's ser2net serving the emulator's pty over RFC 2217."""
    server = start_or_skip(lambda root: Ser2net(emulator.url, root), tmp_path / "ser2net")
    yield server
    server.stop()


@pytest.fixture
def pyserial_server(emulator: Emulator) -> Iterator[Rfc2217Server]:
    """pyserial's own RFC 2217 server (PortManager) on the emulator's pty."""
    with Rfc2217Server(emulator.url) as server:
        yield server


def standard_suite(spec: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", str(SUITE), "-p", "no:cacheprovider",
                           "-p", "no:randomly", "--brewbench-device", spec,
                           "--brewbench-results", str(tmp_path / "results"), "-q"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)


def test_standard_suite_passes_through_ser2net(ser2net: Ser2net, tmp_path: Path) -> None:
    done = standard_suite(ser2net.spec, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_standard_suite_passes_through_pyserials_server(pyserial_server: Rfc2217Server,
                                                         tmp_path: Path) -> None:
    done = standard_suite(f"serial+{pyserial_server.url}", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_url_options_reach_pyserial(pyserial_server: Rfc2217Server,
                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="pySerial.rfc2217")
    with open_device(f"serial+{pyserial_server.url}?logging=debug&timeout=2&baud=9600") as device:
        assert device.machine.identify().firmware == "2.1"
        assert device.capture.meta["baud"] == "9600"
    assert any("Negotiated" in r.getMessage() for r in caplog.records)


def test_ser2net_without_ign_set_control_names_the_option(ser2net: Ser2net) -> None:
    bare = ser2net.spec.partition("?")[0]
    with pytest.raises(DeviceNotFound, match=r"add \?ign_set_control to the spec"), \
            open_device(bare, timeout=1):
        pass


def test_an_option_pyserial_does_not_know_is_a_spec_error(pyserial_server: Rfc2217Server) -> None:
    with pytest.raises(DeviceSpecError, match=r"pyserial cannot use .*unknown option: 'ignsetcontrol'"), \
            open_device(f"serial+{pyserial_server.url}?ignsetcontrol"):
        pass


def test_a_plain_port_refuses_options(emulator: Emulator) -> None:
    with pytest.raises(DeviceSpecError, match=r"unknown parameter\(s\) logging; serial:// takes baud"), open_device(f"serial://{emulator.url}?logging=debug"):
        pass
