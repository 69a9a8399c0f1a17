"""``brewbench serve``: an emulated machine or a local port over RFC 2217, the standard
suite passing through the spec it prints."""

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import brewbench.fixtures.suite
from brewbench.bench.devices import open_device
from brewbench.emulator.serve import Emulator

SUITE = Path(brewbench.fixtures.suite.__file__).parent / "test_standard.py"
BREWBENCH = [sys.executable, "-m", "brewbench"]


class Served:
    """A ``brewbench serve`` process and the spec it printed."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen([*BREWBENCH, "serve", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        assert self.proc.stdout is not None
        self.spec = ""
        for line in self.proc.stdout:
            if line.startswith("device spec: "):
                self.spec = line.split(": ", 1)[1].strip()
            if line.startswith("Ctrl-C"):
                break

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def runtime_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path / "run")}


@pytest.fixture
def served(runtime_env: dict[str, str]) -> Iterator[Served]:
    server = Served("--firmware", "2.1", env=runtime_env)
    yield server
    server.stop()


def test_the_standard_suite_passes_through_brewbench_serve(served: Served, tmp_path: Path) -> None:
    assert served.spec.startswith("serial+rfc2217://127.0.0.1:")
    done = subprocess.run([sys.executable, "-m", "pytest", str(SUITE), "-p", "no:cacheprovider",
                           "-p", "no:randomly", "--brewbench-device", served.spec,
                           "--brewbench-results", str(tmp_path / "results"), "-q"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_a_served_machine_is_listed_by_brewbench_devices(served: Served,
                                                         runtime_env: dict[str, str]) -> None:
    done = subprocess.run([*BREWBENCH, "devices"], capture_output=True, text=True, timeout=60,
                          env=runtime_env)
    emulated = done.stdout.split("emulated:\n", 1)[1]
    assert emulated.startswith(f"  {served.spec}  description=an emulated cm500 machine")


def test_a_local_port_is_served_with_its_family() -> None:
    with Emulator(firmware="1.0", serial="BB0031") as local:
        server = Served("--device", f"serial://{local.url}?baud=9600")
        try:
            assert server.spec.endswith("?baud=9600")
            with open_device(server.spec) as device:
                assert device.machine.identify().serial == "BB0031"
        finally:
            server.stop()


def test_a_taken_port_is_one_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run([*BREWBENCH, "serve", "--port", str(port)], capture_output=True,
                              text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(f"brewbench serve: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in done.stderr


def test_only_a_local_serial_port_can_be_served() -> None:
    done = subprocess.run([*BREWBENCH, "serve", "--device", "usb://1209:c0fe"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "takes a local serial port, e.g. serial:///dev/ttyUSB0" in done.stderr


@pytest.mark.parametrize(("args", "line"), [
    (["--firmware", "9.9"], "brewbench serve: no emulated firmware '9.9'; known versions: "),
    (["--device", "serial:///dev/ttyBREWBENCH9"],
     "brewbench serve --device serial:///dev/ttyBREWBENCH9: no such port /dev/ttyBREWBENCH9"),
])
def test_a_mistake_is_one_line_with_one_prefix(args: list[str], line: str) -> None:
    """Said once (no "brewbench: brewbench serve:"), and a port that is not there is never
    announced as served."""
    done = subprocess.run([*BREWBENCH, "serve", *args], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr.startswith(line) and len(done.stderr.splitlines()) == 1, done.stderr
