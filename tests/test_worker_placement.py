"""pytest -n never opens one shared device from two workers: brewbench's own scheduler
keeps a device's tests together, and what it cannot place is refused in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from brewbench.fixtures.worker_placement import device_scope, shared

MARKED = '''
import pytest

@pytest.mark.brewbench_devices("serial:///dev/brewbench-nowhere")
def test_marked(brewbench_spec):
    pass
'''
PLAIN = '''
def test_plain(brewbench_spec):
    pass
'''


@pytest.mark.parametrize(("nodeid", "scope"), [
    ("tests/test_a.py::test_brews[dev-pts-3-latte]", "brewbench-device:dev-pts-3"),
    ("tests/test_a.py::test_brews[latte-dev-pts-3]", "brewbench-device:dev-pts-3"),
    ("tests/test_a.py::test_brews[dev-pts-3]", "brewbench-device:dev-pts-3"),
    ("tests/test_a.py::test_brews[dev-pts-31-latte]", None),  # another port
    ("tests/test_a.py::test_brews[xdev-pts-3]", None),
    ("tests/test_a.py::test_brews", None),
])
def test_a_device_is_found_in_a_test_id_as_a_whole_parameter(nodeid: str, scope: str | None) -> None:
    assert device_scope(nodeid, ["dev-pts-3", "127.0.0.1-4000"]) == scope


@pytest.mark.parametrize(("spec", "one_worker"), [
    ("serial:///dev/ttyUSB0", True), ("rfc2217://127.0.0.1:4000", True),
    ("emu://?firmware=2.1", False), ("labgrid://bench-1,bench-2", False), ("labgrid://bench-1", True),
])
def test_which_devices_are_shared(spec: str, one_worker: bool) -> None:
    assert shared(spec) is one_worker


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFLUX_", "BREWBENCH_"))}
    env["BREWBENCH_SPOOL"] = str(tmp_path / "spool")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "xdist", "-p", "no:randomly",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                           "--brewbench-results", str(tmp_path / "results"), *args],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)


def test_a_shared_device_named_only_by_a_marker_fails_its_test_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "test_marked.py").write_text(MARKED)
    done = _pytest(tmp_path, "-n", "2", "-rfE", "--brewbench-device", "serial:///dev/brewbench-elsewhere",
                   str(tmp_path / "test_marked.py"))
    assert done.returncode == 1
    out = done.stdout + done.stderr
    assert "1 error" in out, out
    assert "pytest -n cannot keep dev-brewbench-nowhere on one worker" in out, out
    assert "Traceback" not in out, out


def test_dist_each_with_a_shared_device_is_refused(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text(PLAIN)
    done = _pytest(tmp_path, "-n", "2", "--dist", "each", "--brewbench-device",
                   "serial:///dev/brewbench-nowhere", str(tmp_path / "test_plain.py"))
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "--dist each would open dev-brewbench-nowhere from several workers" in out, out
