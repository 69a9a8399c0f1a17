"""Lab files: devices by name, for the pytest plugin and ``brewbench run`` alike."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from brewbench.bench.lab import Lab, find_lab, load_lab, resolve_device
from brewbench.drivers.errors import DeviceSpecError

LAB = """
[devices]
lobby = "emu://?firmware=1.0"
kitchen = "emu://?firmware=2.0&transport=socket"
"""


@pytest.fixture
def lab_file(tmp_path: Path) -> Path:
    path = tmp_path / "lab.toml"
    path.write_text(LAB)
    return path


def test_a_name_becomes_its_spec_and_a_spec_stays_itself(lab_file: Path) -> None:
    lab = load_lab(lab_file)
    assert resolve_device("lobby", lab) == "emu://?firmware=1.0"
    assert resolve_device("serial:///dev/ttyUSB0", lab) == "serial:///dev/ttyUSB0"


def test_an_unknown_name_lists_the_known_ones(lab_file: Path) -> None:
    with pytest.raises(DeviceSpecError, match=r"no device named 'lobbby' in the lab file .*lab.toml; "
                       r"known: kitchen, lobby$"):
        resolve_device("lobbby", load_lab(lab_file))


def test_a_name_without_a_lab_file_says_how_to_set_one() -> None:
    with pytest.raises(DeviceSpecError, match=r"no lab file is set \(BREWBENCH_LAB=FILE or "):
        resolve_device("lobby", Lab())


def test_the_environment_wins_over_pyproject(lab_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[devices]\nhall = "emu://"\n')
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.brewbench]\nlab = "lab.toml"\n')
    assert sorted(find_lab(pyproject, env={}).devices) == ["kitchen", "lobby"]
    assert list(find_lab(pyproject, env={"BREWBENCH_LAB": str(other)}).devices) == ["hall"]
    assert find_lab(tmp_path / "none.toml", env={}) == Lab()


@pytest.mark.parametrize(("text", "message"), [
    ("[devices\n", "is not valid TOML"),
    ("devices = 3\n", r"\[devices\] must be a table"),
    ('[devices]\nlobby = "/dev/ttyUSB0"\n', "devices.lobby must be a device spec string"),
    (b"\xf6\x00\xff garbage", "cannot be read"),
])
def test_a_broken_lab_file_is_one_line(tmp_path: Path, text: str | bytes, message: str) -> None:
    path = tmp_path / "lab.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(DeviceSpecError, match=message):
        load_lab(path)


def test_a_missing_lab_file_names_who_named_it(tmp_path: Path) -> None:
    with pytest.raises(DeviceSpecError,
                       match=r"gone.toml \(named by BREWBENCH_LAB=.*\) cannot be read: No such file"):
        find_lab(env={"BREWBENCH_LAB": str(tmp_path / "gone.toml")})


def test_the_plugin_runs_a_named_device(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="""
def test_firmware(brewbench_machine):
    assert brewbench_machine.identify().firmware == "1.0"
""")
    pytester.makepyprojecttoml('[tool.brewbench]\nlab = "lab.toml"\n')
    (pytester.path / "lab.toml").write_text(LAB)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--brewbench-device", "lobby")
    result.assert_outcomes(passed=1)


def test_the_plugin_refuses_an_unknown_name(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="def test_x(brewbench_machine):\n    pass\n")
    pytester.makepyprojecttoml('[tool.brewbench]\nlab = "lab.toml"\n')
    (pytester.path / "lab.toml").write_text(LAB)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--brewbench-device", "hall")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--brewbench-device: no device named 'hall' in the lab file "
                                 "*lab.toml; known: kitchen, lobby"])


def test_brewbench_run_resolves_names_from_the_environment(lab_file: Path, tmp_path: Path) -> None:
    env = {**os.environ, "BREWBENCH_LAB": str(lab_file)}
    command = [sys.executable, "-m", "brewbench", "run", "--results", str(tmp_path / "out")]
    done = subprocess.run([*command, "--device", "kitchen"], capture_output=True, text=True,
                          timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "== emu://?firmware=2.0&transport=socket" in done.stdout
    wrong = subprocess.run([*command, "--device", "hall"], capture_output=True, text=True,
                           timeout=60, env=env, cwd=tmp_path)
    assert wrong.returncode == 2
    assert wrong.stderr.strip().endswith("known: kitchen, lobby")
    assert "Traceback" not in wrong.stderr


def test_brewbench_devices_shows_the_lab_files_names(lab_file: Path, tmp_path: Path) -> None:
    env = {**os.environ, "BREWBENCH_LAB": str(lab_file), "XDG_RUNTIME_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "brewbench", "devices"], capture_output=True,
                          text=True, timeout=60, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"lab file {lab_file}:\n  kitchen = emu://?firmware=2.0&transport=socket\n"
                                "  lobby = emu://?firmware=1.0\n")
