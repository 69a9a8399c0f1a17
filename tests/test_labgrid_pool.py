"""A pool of labgrid places (``labgrid://pool-a,pool-b``): each pytest-xdist worker holds a
place of its own, never two workers one machine; a place somebody holds is passed over.
A real coordinator and exporter, two machines served by ``brewbench serve``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from brewbench.bench.labgrid_lab import Coordinator, Exporter, ServedMachine, exporter_config

BREWBENCH = [sys.executable, "-m", "brewbench"]
PLACES = {"pool-a": "BB0051", "pool-b": "BB0052"}


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory, brewbench_labgrid_coordinator: Coordinator
         ) -> Iterator[tuple[Coordinator, str]]:
    """Two places, each holding one served machine; yields the coordinator and the pool spec."""
    coordinator = brewbench_labgrid_coordinator
    root = tmp_path_factory.mktemp("labgrid-pool")
    machines = [ServedMachine(root, serial) for serial in PLACES.values()]
    try:
        config = "".join(exporter_config(place, machine.address)
                         for place, machine in zip(PLACES, machines, strict=True))
        with Exporter(coordinator, "pool-host", config, root / "exporter"):
            for place in PLACES:
                coordinator.create_place(place, f"pool-host/{place}/*")
            yield coordinator, f"labgrid://{','.join(PLACES)}?coordinator={coordinator.address}"
    finally:
        for machine in machines:
            machine.stop()


# Each test notes which worker met which machine (a file per test: no write races).
NOTING = '''
import json, os, time, pytest

@pytest.mark.parametrize("n", range(6))
def test_meets_a_machine(brewbench_machine, n):
    serial = brewbench_machine.identify().serial
    time.sleep(0.3)  # long enough that both workers get tests
    with open(os.path.join(os.environ["NOTES"], f"{n}.json"), "w") as f:
        json.dump({"worker": os.environ["PYTEST_XDIST_WORKER"], "serial": serial}, f)
'''


def test_each_worker_holds_a_place_of_the_pool_of_its_own(
        pool: tuple[Coordinator, str], tmp_path: Path) -> None:
    coordinator, spec = pool
    (tmp_path / "test_noting.py").write_text(NOTING)
    notes = tmp_path / "notes"
    notes.mkdir()
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p",
                           "no:randomly", "-p", "no:labgrid", "-n", "2", "test_noting.py",
                           "--brewbench-device", spec, "--brewbench-results",
                           str(tmp_path / "results"), "-q"], capture_output=True, text=True,
                          timeout=180, cwd=tmp_path, env={**os.environ, "NOTES": str(notes)})
    assert done.returncode == 0, done.stdout + done.stderr
    met: dict[str, set[str]] = {}
    for note in notes.glob("*.json"):
        seen = json.loads(note.read_text())
        met.setdefault(seen["worker"], set()).add(seen["serial"])
    assert sorted(met) == ["gw0", "gw1"]
    assert all(len(serials) == 1 for serials in met.values()), met
    assert met["gw0"] != met["gw1"]  # never two workers on one machine
    assert [coordinator.holder(place) for place in PLACES] == [None, None]


def test_a_held_place_is_passed_over_and_a_full_pool_is_one_line(
        pool: tuple[Coordinator, str], tmp_path: Path) -> None:
    coordinator, spec = pool
    lg = [sys.executable, "-m", "labgrid.remote.client", "-x", coordinator.address]
    alice = {**os.environ, "LG_USERNAME": "alice", "LG_HOSTNAME": "bench-7"}
    subprocess.run([*lg, "-p", "pool-a", "acquire"], check=True, env=alice, capture_output=True)
    try:
        done = subprocess.run([*BREWBENCH, "run", "--device", spec, "--results",
                               str(tmp_path / "one")], capture_output=True, text=True, timeout=120)
        assert "serial BB0052" in done.stdout, done.stdout + done.stderr
        subprocess.run([*lg, "-p", "pool-b", "acquire"], check=True, env=alice,
                       capture_output=True)
        full = subprocess.run([*BREWBENCH, "run", "--device", spec, "--results",
                               str(tmp_path / "two")], capture_output=True, text=True, timeout=120)
    finally:
        for place in PLACES:
            subprocess.run([*lg, "-p", place, "release"], env=alice, capture_output=True)
    header = json.loads(next((tmp_path / "one").rglob("*.jsonl")).read_text().splitlines()[0])
    assert header["meta"]["labgrid_place"] == "pool-b"
    assert full.returncode == 2
    assert full.stderr.splitlines() == [
        f"brewbench: {spec}: every labgrid place of the pool is held (pool-a by bench-7/alice, "
        f"pool-b by bench-7/alice) on coordinator {coordinator.address}"]
