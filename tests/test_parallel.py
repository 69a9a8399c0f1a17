"""pytest -n N over N devices: each device on exactly one worker, one merged run with one
``runs`` summary point in a real influxd."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

import brewbench.fixtures.suite
from brewbench.bench.influx.query import InfluxReader
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.drivers.specs import slug
from brewbench.fixtures.influx_servers import brewbench_influx, brewbench_influxd

__all__ = ["brewbench_influx", "brewbench_influxd"]

# Each test notes which worker drove which device (a file per test: no write races).
USER_TEST = '''
import json, os, pytest

@pytest.mark.parametrize("drink", ["espresso", "latte", "cappuccino", "americano"])
def test_brews(brewbench_machine, brewbench_spec, drink, tmp_path_factory):
    brewbench_machine.brew(drink)
    note = {"worker": os.environ.get("PYTEST_XDIST_WORKER", "none"), "spec": brewbench_spec}
    out = os.path.join(os.environ["NOTES"], f"{os.getpid()}-{drink}-{abs(hash(brewbench_spec))}")
    with open(out, "w") as f:
        json.dump(note, f)
'''


@pytest.fixture
def two_served_devices() -> Iterator[list[str]]:
    """Two emulated machines, each behind ``brewbench serve`` (one client at a time, as a
    real port is: two workers on one would fail)."""
    procs, specs = [], []
    try:
        for firmware in ("2.0", "2.1"):
            proc = subprocess.Popen([sys.executable, "-m", "brewbench", "serve", "--firmware",
                                     firmware], stdout=subprocess.PIPE, text=True)
            procs.append(proc)
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("device spec: "):
                    specs.append(line.split(": ", 1)[1].strip())
                    break
        yield specs
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def test_each_device_runs_on_one_worker_and_the_run_is_summarised_once(
        two_served_devices: list[str], brewbench_influx: InfluxSettings, tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TEST)
    notes = tmp_path / "notes"
    notes.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INFLUX_")},
           "INFLUX_URL": brewbench_influx.url or "", "INFLUX_DB": brewbench_influx.db,
           "BREWBENCH_SPOOL": str(tmp_path / "spool"), "NOTES": str(notes),
           "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key")}
    devices = [arg for spec in two_served_devices for arg in ("--brewbench-device", spec)]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-n", "2",
                           "--rootdir", str(tmp_path), "--brewbench-run-id", "run-parallel-2",
                           "--brewbench-results", str(tmp_path / "results"), *devices,
                           str(tmp_path / "test_user.py")],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert "8 passed" in done.stdout, done.stdout + done.stderr
    workers: dict[str, set[str]] = {}
    for note in notes.iterdir():
        seen = json.loads(note.read_text())
        workers.setdefault(seen["spec"], set()).add(seen["worker"])
    assert sorted(workers) == sorted(two_served_devices)
    assert all(len(w) == 1 for w in workers.values()), workers
    assert len(set.union(*workers.values())) == 2, workers  # and the two ran side by side
    reader = InfluxReader(brewbench_influx)
    tests = reader.points("tests", "run-parallel-2")
    if len(tests) < 8:  # a worker's sink gave up on a server stalled by the load: what it
        # could not deliver waits in the spool, and `brewbench push` is the documented way on
        pushed = subprocess.run([sys.executable, "-m", "brewbench", "push", "--spool",
                                 str(tmp_path / "spool")], capture_output=True, text=True,
                                timeout=120, env=env, cwd=tmp_path)
        tests = reader.points("tests", "run-parallel-2")
        assert len(tests) == 8, done.stderr[-3000:] + pushed.stdout + pushed.stderr
    runs = reader.points("runs", "run-parallel-2")
    reader.close()
    assert len(tests) == 8
    [run] = runs
    assert (run["tests"], run["passed"], run["devices"]) == (8, 8, 2)


SUITE = Path(brewbench.fixtures.suite.__file__).parent / "test_standard.py"
# One process serving emulated machines on ptys, as a lab's ports are: each stays put
# across the tests' connections. argv: FAULTS per machine ("-" for none).
SERVE_MACHINES = '''
import sys
from brewbench.emulator.serve import Emulator
machines = [Emulator("2.1", "serial", serial=f"BB4{n:03d}", faults="" if f == "-" else f)
            for n, f in enumerate(sys.argv[1:])]
for machine in machines:
    machine.start()
    print(machine.spec, flush=True)
sys.stdin.read()  # until the test closes it
for machine in machines:
    machine.stop()
'''


@contextlib.contextmanager
def served_machines(*faults: str) -> Iterator[list[str]]:
    """Emulated machines in a process of their own (xdist workers are processes), by spec."""
    proc = subprocess.Popen([sys.executable, "-c", SERVE_MACHINES, *faults],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    try:
        yield [proc.stdout.readline().strip() for _ in faults]
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def run_parallel(tmp_path: Path, specs: list[str], workers: int, run_id: str,
                 influx: InfluxSettings, *args: str, lab: Path | None = None
                 ) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("INFLUX_", "BREWBENCH_LAB"))},
           **({"BREWBENCH_LAB": str(lab)} if lab else {}),
           "INFLUX_URL": influx.url or "", "INFLUX_DB": influx.db,
           "BREWBENCH_SPOOL": str(tmp_path / "spool"),
           "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key"), "NOTES": str(tmp_path / "notes")}
    devices = [arg for spec in specs for arg in ("--brewbench-device", spec)]
    plugins = ["-p", "xdist", "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:benchmark"]
    return subprocess.run([sys.executable, "-m", "pytest", "-q", *plugins, "-n", str(workers),
                           "--rootdir", str(tmp_path), "--brewbench-run-id", run_id,
                           "--brewbench-results", str(tmp_path / "results"), *devices, *args],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)


def workers_by_device(results: Path) -> dict[str, set[str]]:
    """From the saved captures: which xdist worker drove each device."""
    seen: dict[str, set[str]] = {}
    for path in results.glob("*/captures/*.jsonl"):
        meta = json.loads(path.read_text().splitlines()[0])["meta"]
        seen.setdefault(meta["spec"], set()).add(meta["worker"])
    return seen


def test_the_standard_suite_over_four_devices_on_four_workers(
        brewbench_influx: InfluxSettings, tmp_path: Path) -> None:
    with served_machines("-", "-", "-", "-") as specs:  # named in a lab file, used by name
        names = [f"bench-{n}" for n in range(4)]
        lab = tmp_path / "lab.toml"
        lab.write_text("[devices]\n" + "".join(f'{n} = "{s}"\n' for n, s in zip(names, specs, strict=True)))
        done = run_parallel(tmp_path, names, 4, "run-parallel-4", brewbench_influx, str(SUITE),
                            lab=lab)
    assert "28 passed, 8 skipped" in done.stdout, done.stdout + done.stderr
    workers = workers_by_device(tmp_path / "results")
    assert sorted(workers) == sorted(specs)
    assert all(len(w) == 1 for w in workers.values()), workers  # one worker per device
    assert len(set.union(*workers.values())) == 4, workers  # and each worker one device
    reader = InfluxReader(brewbench_influx)
    runs = reader.points("runs", "run-parallel-4")
    tests = reader.points("tests", "run-parallel-4")
    reader.close()
    assert len(tests) == 36
    [run] = runs
    assert (run["passed"], run["devices"]) == (28, 4)


def test_a_device_that_disappears_fails_only_its_own_tests(
        brewbench_influx: InfluxSettings, tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TEST)
    (tmp_path / "notes").mkdir()
    with served_machines("hang_up_on:BREW", "-") as specs:  # the first is gone at its first BREW
        done = run_parallel(tmp_path, specs, 2, "run-parallel-gone", brewbench_influx,
                            "--junitxml", str(tmp_path / "junit.xml"),
                            str(tmp_path / "test_user.py"))
    outcomes: dict[str, list[str]] = {}
    for case in ElementTree.parse(tmp_path / "junit.xml").getroot().iter("testcase"):
        failed = any(child.tag in ("failure", "error") for child in case)
        device = next(spec for spec in specs if slug(spec) in case.get("name", ""))
        outcomes.setdefault(device, []).append("failed" if failed else "passed")
    gone, kept = specs
    assert outcomes[kept] == ["passed"] * 4, done.stdout
    assert outcomes[gone] == ["failed"] * 4, done.stdout
    assert "1 failed, 4 passed, 3 errors" in done.stdout, done.stdout + done.stderr  # then gone
