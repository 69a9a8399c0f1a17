"""pytest -n N over N devices: each device on exactly one worker, one merged run with one
``runs`` summary point in a real influxd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from brewbench.bench.influx.query import InfluxReader
from brewbench.bench.influx.settings import InfluxSettings
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
    runs = reader.points("runs", "run-parallel-2")
    tests = reader.points("tests", "run-parallel-2")
    reader.close()
    assert len(tests) == 8
    [run] = runs
    assert (run["tests"], run["passed"], run["devices"]) == (8, 8, 2)
