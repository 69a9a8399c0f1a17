"""``labgrid://PLACE``: a real labgrid coordinator and exporter, the exporter exporting an
emulated machine that ``brewbench serve`` serves over RFC 2217 (a NetworkSerialPort) and
powers from an emulated simplerest switch (a NetworkPowerPort); the bench acquires the
place, runs through it and releases it, also when a run fails or is interrupted."""

from __future__ import annotations

import getpass
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import brewbench.fixtures.suite
from brewbench.bench.devices import check_spec
from brewbench.bench.labgrid_lab import Coordinator, Exporter, ServedMachine, exporter_config
from brewbench.drivers.errors import DeviceSpecError

SUITE = Path(brewbench.fixtures.suite.__file__).parent / "test_standard.py"
BREWBENCH = [sys.executable, "-m", "brewbench"]
PLACE = "lobby"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, brewbench_labgrid_coordinator: Coordinator
        ) -> Iterator[tuple[Coordinator, ServedMachine]]:
    """A served machine exported by a real exporter, and place ``lobby`` holding it."""
    coordinator = brewbench_labgrid_coordinator
    root = tmp_path_factory.mktemp("labgrid")
    machine = ServedMachine(root, "BB0042")
    try:
        config = exporter_config(PLACE, machine.address, power=machine.switch)
        with Exporter(coordinator, "bench-host", config, root / "exporter"):
            coordinator.create_place(PLACE, f"bench-host/{PLACE}/*")
            yield coordinator, machine
    finally:
        machine.stop()


def _spec(coordinator: Coordinator) -> str:
    return f"labgrid://{PLACE}?coordinator={coordinator.address}"


def _pytest(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                             "-p", "no:randomly", "-p", "no:xdist", "-p", "no:labgrid", *args, "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd)


def test_the_standard_suite_runs_through_a_labgrid_place(
        lab: tuple[Coordinator, ServedMachine], tmp_path: Path) -> None:
    coordinator, _ = lab
    run = _pytest(str(SUITE), "--brewbench-device", _spec(coordinator), "--brewbench-results",
                  str(tmp_path / "results"), cwd=tmp_path)
    held_by = None
    while run.poll() is None and held_by is None:  # who holds the place while the suite runs
        held_by = coordinator.holder(PLACE)
        time.sleep(0.5)
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 0, out
    assert " passed" in out and "failed" not in out
    assert held_by == _me()
    assert coordinator.holder(PLACE) is None
    capture = next((tmp_path / "results").rglob("*.jsonl"))
    header = json.loads(capture.read_text().splitlines()[0])
    assert header["meta"]["labgrid_place"] == PLACE
    assert header["meta"]["port"].startswith("rfc2217://127.0.0.1:")


def test_a_place_held_by_someone_else_is_one_line_naming_them(
        lab: tuple[Coordinator, ServedMachine], tmp_path: Path) -> None:
    coordinator, _ = lab
    alice = {**os.environ, "LG_USERNAME": "alice", "LG_HOSTNAME": "bench-7"}
    lg = [sys.executable, "-m", "labgrid.remote.client", "-x", coordinator.address, "-p", PLACE]
    subprocess.run([*lg, "acquire"], check=True, env=alice, capture_output=True, timeout=30)
    try:
        started = time.monotonic()
        done = subprocess.run([*BREWBENCH, "run", "--device", _spec(coordinator), "--results",
                               str(tmp_path)], capture_output=True, text=True, timeout=60)
        assert time.monotonic() - started < 30
    finally:
        subprocess.run([*lg, "release"], check=True, env=alice, capture_output=True, timeout=30)
    assert done.returncode == 2  # the device cannot be had: one line on stderr, as a wrong port
    assert done.stderr.splitlines() == [
        f"brewbench: {_spec(coordinator)}: labgrid place lobby is held by bench-7/alice on "
        f"coordinator {coordinator.address}; wait for it, or ask alice to release it"]


def test_a_place_you_hold_yourself_is_not_borrowed(lab: tuple[Coordinator, ServedMachine],
                                                   tmp_path: Path) -> None:
    coordinator, _ = lab
    lg = [sys.executable, "-m", "labgrid.remote.client", "-x", coordinator.address, "-p", PLACE]
    subprocess.run([*lg, "acquire"], check=True, capture_output=True, timeout=30)
    try:
        done = subprocess.run([*BREWBENCH, "run", "--device", _spec(coordinator), "--results",
                               str(tmp_path)], capture_output=True, text=True, timeout=60)
        assert coordinator.holder(PLACE) == _me()  # still yours: the bench gave back nothing
    finally:
        subprocess.run([*lg, "release"], check=True, capture_output=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"brewbench: {_spec(coordinator)}: labgrid place lobby is already held by you on "
        f"coordinator {coordinator.address} (another run or pytest worker, or a leftover): "
        "labgrid-client -p lobby release frees a leftover"]


@pytest.mark.parametrize(("spec", "says"), [
    ("labgrid://nosuch?coordinator={address}", "no labgrid place 'nosuch' on coordinator {address}"),
    ("labgrid://lobby?coordinator=127.0.0.1:{closed}", "labgrid coordinator 127.0.0.1:{closed} is "
     "not reachable"),
])
def test_an_unknown_place_or_a_dead_coordinator_is_one_line(
        lab: tuple[Coordinator, ServedMachine], tmp_path: Path, spec: str, says: str) -> None:
    coordinator, _ = lab
    with socket.socket() as probe:  # bound, never listening: connections are refused
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
        fill = {"address": coordinator.address, "closed": closed}
        started = time.monotonic()
        done = subprocess.run([*BREWBENCH, "run", "--device", spec.format(**fill), "--results",
                               str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 30
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"brewbench: {spec.format(**fill)}: {says.format(**fill)}")


def test_a_coordinator_that_never_answers_costs_the_timeout_and_one_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # takes connections, says nothing
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        done = subprocess.run([*BREWBENCH, "run", "--device", f"labgrid://lobby?coordinator={address}",
                               "--results", str(tmp_path)], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "BREWBENCH_LABGRID_TIMEOUT": "3"})
        took = time.monotonic() - started
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"brewbench: labgrid://lobby?coordinator={address}: labgrid coordinator {address} did not "
        "answer labgrid-client -p lobby acquire within 3 s"]
    assert took < 15


@pytest.mark.parametrize("when", ["while acquiring", "while running"])
def test_an_interrupted_run_releases_the_place(lab: tuple[Coordinator, ServedMachine],
                                               tmp_path: Path, when: str) -> None:
    coordinator, machine = lab
    _switch(machine, on=False)  # a dark machine: the run waits for its answer
    try:
        run = subprocess.Popen([*BREWBENCH, "run", "--device", _spec(coordinator), "--timeout",
                                "20", "--results", str(tmp_path)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert run.stdout is not None
        assert run.stdout.readline().startswith("== labgrid://")  # printed just before opening
        if when == "while acquiring":  # labgrid-client acquire takes over half a second
            time.sleep(0.3)
        else:
            deadline = time.monotonic() + 30
            while coordinator.holder(PLACE) is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert coordinator.holder(PLACE) is not None
        run.send_signal(signal.SIGTERM)
        run.communicate(timeout=40)
    finally:
        _switch(machine, on=True)
    assert run.returncode == 130  # interrupted, as by Ctrl-C
    assert coordinator.holder(PLACE) is None


POWER = '''
import subprocess, sys

import pytest
from brewbench.drivers.errors import DeviceError

def test_power_cycle(brewbench_machine, brewbench_power):
    assert brewbench_machine.status()
    brewbench_power.off()
    with pytest.raises(DeviceError):
        brewbench_machine.status()
    brewbench_power.on()
    brewbench_machine.close()
    brewbench_machine.connect()
    assert brewbench_machine.identify().serial == "BB0042"

def test_fails_while_holding_the_place(brewbench_machine):
    shown = subprocess.run([sys.executable, "-m", "labgrid.remote.client", "-x", "{address}",
                            "-p", "lobby", "show"], capture_output=True, text=True).stdout
    assert "acquired: None" not in shown and "acquired: " in shown
    assert False, "fails on purpose"
'''


def test_power_off_and_on_are_actions_and_a_failing_run_releases_the_place(
        lab: tuple[Coordinator, ServedMachine], tmp_path: Path) -> None:
    coordinator, machine = lab
    (tmp_path / "test_power.py").write_text(POWER.format(address=coordinator.address))
    run = _pytest("test_power.py", "--brewbench-device", _spec(coordinator), "--brewbench-timeout",
                  "1", "--brewbench-results", str(tmp_path / "results"), cwd=tmp_path)
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 1, out
    assert "1 passed" in out and "1 failed" in out and "fails on purpose" in out
    assert coordinator.holder(PLACE) is None
    capture = next((tmp_path / "results").rglob("*power_cycle*.jsonl"))
    lines = [json.loads(line) for line in capture.read_text().splitlines()]
    actions = [(line["action"], line["phase"], line.get("outcome")) for line in lines
               if line["type"] == "action"]
    assert ("power.off", "end", "ok") in actions and ("power.on", "end", "ok") in actions
    started = [name for name, phase, _ in actions if phase == "start"]
    off = started.index("power.off")
    assert started[off:off + 3] == ["power.off", "status", "power.on"]
    assert _state(machine) == "1"


def test_a_device_without_a_place_has_no_power(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_power(brewbench_power):\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:labgrid", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*needs a labgrid:// place with a power port*"])


@pytest.mark.parametrize("spec", ["labgrid://", "labgrid://host:20408", "labgrid://a/b",
                                  "labgrid://a,", "labgrid://a,b,a",
                                  "labgrid://lobby?family=nosuch", "labgrid://lobby?baud=fast"])
def test_a_malformed_labgrid_spec_is_refused_before_anything_is_contacted(spec: str) -> None:
    with pytest.raises(DeviceSpecError, match=f"^{re.escape(spec)}: "):
        check_spec(spec)


def test_a_malformed_labgrid_spec_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run([*BREWBENCH, "run", "--device", "labgrid://", "--results",
                           str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == ("brewbench: labgrid://: labgrid:// names a place or a pool of places, "
                           "e.g. labgrid://lobby?coordinator=HOST:PORT or labgrid://lobby,kitchen\n")


def test_only_an_emulated_machine_hangs_on_the_emulated_switch() -> None:
    done = subprocess.run([*BREWBENCH, "serve", "--device", "serial:///dev/null", "--power-switch",
                           "0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == ("brewbench serve: --power-switch powers an emulated machine; "
                           "a local port's machine hangs on a real switch\n")


def _switch(machine: ServedMachine, on: bool) -> None:
    """Switch the outlet as labgrid's simplerest backend does."""
    _get(machine.switch.format(index=0, value=1 if on else 0))


def _state(machine: ServedMachine) -> str:
    return _get(machine.switch.format(index=0, value="").rstrip("/"))


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return str(answer.read().decode())


def _me() -> str:
    """Who labgrid says holds what this user acquires (``host/user``)."""
    return (f"{os.environ.get('LG_HOSTNAME', socket.gethostname())}/"
            f"{os.environ.get('LG_USERNAME', getpass.getuser())}")
