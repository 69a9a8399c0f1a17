"""``brewbench run`` and ``brewbench config`` read the project's settings the way pytest
does (bench/project_settings.py): command line, pytest ini file, ``[tool.brewbench]``,
defaults."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from brewbench.bench.project_settings import (
    Layer,
    SettingsError,
    project_layers,
    read_table,
    resolve_settings,
)

BREWBENCH = [sys.executable, "-m", "brewbench"]


def brewbench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BREWBENCH, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project made by ``brewbench init``, its device set to firmware 1.0."""
    done = brewbench("init", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    pyproject = tmp_path / "pyproject.toml"
    text = pyproject.read_text()
    assert "firmware=2.1&transport=serial" in text
    pyproject.write_text(text.replace("firmware=2.1&transport=serial", "firmware=1.0"))
    return tmp_path


def test_run_uses_the_projects_devices_contract_and_results(project: Path) -> None:
    sub = project / "tests"  # from a subfolder: the table's paths are the project's
    done = brewbench("run", cwd=sub)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "== emu://?firmware=1.0" in done.stdout
    assert f"within contract {project / 'contracts' / 'cm-500.toml'}" in done.stdout
    assert "no contract judged it" not in done.stdout
    [capture] = (project / "brewbench-results").glob("*/captures/*.jsonl")
    assert json.loads(capture.read_text().splitlines()[0])["meta"]["firmware"] == "1.0"


def test_the_command_line_wins_over_the_project(project: Path,
                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    results = tmp_path_factory.mktemp("elsewhere")
    done = brewbench("run", "--device", "emu://?firmware=2.0", "--results", str(results),
                     cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "== emu://?firmware=2.0" in done.stdout
    assert list(results.glob("*/captures/*.jsonl"))
    assert not (project / "brewbench-results").exists()


def test_the_pytest_ini_file_wins_over_the_table(project: Path) -> None:
    (project / "pytest.ini").write_text("[pytest]\nbrewbench_timeout = 7.5\n"
                                        "brewbench_devices =\n    emu://?firmware=2.0\n")
    done = brewbench("config", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    settings = json.loads(done.stdout)["settings"]
    assert settings["timeout"] == {"value": 7.5, "source": str(project / "pytest.ini")}
    assert settings["devices"]["value"] == ["emu://?firmware=2.0"]
    assert settings["contract"]["source"].startswith("[tool.brewbench] in ")
    assert settings["wait"] == {"value": 0.0, "source": "default"}


def test_config_says_where_each_setting_came_from(project: Path) -> None:
    done = brewbench("config", cwd=project)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[2:8]}
    assert "emu://?firmware=1.0" in rows["devices"] and "[tool.brewbench] in" in rows["devices"]
    assert rows["wait"].split()[-1] == "default"
    assert done.stdout.splitlines()[-2].startswith("influx: ")


@pytest.mark.parametrize("timeout", ["-1", "0", "inf", "nan"])
def test_a_timeout_that_cannot_work_is_one_line(tmp_path: Path, timeout: str) -> None:
    done = brewbench("run", f"--timeout={timeout}", "--results", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == f"brewbench: --timeout {float(timeout)!r}: give more than 0 seconds"
    assert not list(tmp_path.iterdir())  # nothing was driven or written


def test_a_misspelt_key_lists_the_known_ones(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("raw_captures =", "raw_capture ="))
    done = brewbench("run", cwd=project)
    assert done.returncode == 2
    assert "unknown key(s) raw_capture; known keys: contract, devices," in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def test_a_table_value_of_the_wrong_kind_names_the_file(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.brewbench]\ndevices = 3\nraw_captures = \"maybe\"\n")
    named = r"brewbench devices 3: give device specs.* \(in \[tool.brewbench\] in .*pyproject.toml\)"
    with pytest.raises(SettingsError, match=named):
        resolve_settings(project_layers({}, pyproject=pyproject))
    pyproject.write_text("[tool.brewbench]\nraw_captures = \"maybe\"\n")
    with pytest.raises(SettingsError, match="brewbench raw_captures 'maybe': give true or false"):
        resolve_settings(project_layers({}, pyproject=pyproject))


def test_zero_and_false_on_the_command_line_are_given_values(tmp_path: Path) -> None:
    table = Layer("table", {"wait": 5.0, "raw_captures": True}, tmp_path)
    cli = Layer("command line", {"wait": 0.0, "raw_captures": False}, tmp_path)
    settings = resolve_settings([cli, table])
    assert (settings.wait, settings.raw_captures) == (0.0, False)
    assert settings.sources["wait"] == settings.sources["raw_captures"] == "command line"


def test_pyproject_pytest_ini_options_count_as_the_ini_file(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.pytest.ini_options]\nbrewbench_results = \"out\"\n"
                         "[tool.brewbench]\nresults = \"not-this\"\n")
    settings = resolve_settings(project_layers({}, pyproject=pyproject, cwd=tmp_path))
    assert settings.results == tmp_path / "out"
    assert settings.sources["results"] == f"[tool.pytest.ini_options] in {pyproject}"


def test_a_broken_pyproject_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.brewbench\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        read_table(tmp_path / "pyproject.toml")
    done = brewbench("run", cwd=tmp_path)
    assert done.returncode == 2 and "not valid TOML" in done.stderr
    assert "Traceback" not in done.stderr


def test_nightly_takes_the_projects_results_and_contract(project: Path) -> None:
    done = brewbench("nightly", "--firmware", "2.1", "--run-id", "n1", cwd=project / "tests")
    assert done.returncode == 1, done.stdout + done.stderr  # 2.1 breaks the contract
    run = project / "brewbench-results" / "n1"
    junit = (run / "junit.xml").read_text()
    assert f"contract {project / 'contracts' / 'cm-500.toml'}" in junit
    assert not (run / "contract.toml").exists()  # the shipped copy is for projects without one
