"""brewbench as a new user gets it: a wheel built from a clone without symbolic links,
installed in a fresh virtual environment outside the checkout, and every command the
README advertises run from there.

The venv sees the dependencies of the environment running the tests (a plain venv, as
the README installs, or the system's interpreter): a ``.pth`` file puts that
environment's site-packages after the venv's own (installing them from the registry
again would take minutes). A ``.pth`` line adds a folder without running the ``.pth``
files in it, so an editable install of the checkout there stays out, and brewbench itself
comes from the wheel; the first test proves it. The wheel is built with
``python -m build`` (the test extras), which fetches the build backend from the package
index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from brewbench.bench.influx.settings import InfluxSettings

# Building the wheel and sdist and running whole commands from a venv: minutes
# on a busy machine.
pytestmark = pytest.mark.timeout(900)

ROOT = Path(__file__).resolve().parents[1]
CODE = {"drivers": "brewbench/drivers", "emulator": "brewbench/emulator",
        "bench": "brewbench/bench", "fixtures": "brewbench/fixtures"}
NOT_COPIED = shutil.ignore_patterns(".git", "brewbench-results", "__pycache__", "build", "dist",
                                    "*.egg-info", ".mypy_cache", ".ruff_cache", ".pytest_cache")


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path
    sdist: Path
    home: Path  # a folder outside the checkout to work in

    def run(self, *command: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """A command of the venv (``brewbench``, ``python``), as a user's shell runs it."""
        bin_dir = self.venv / "bin"
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
               and not k.startswith(("INFLUX_", "BREWBENCH_"))}
        env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(self.venv),
                   BREWBENCH_LAB_KEY_FILE=str(self.home / "lab.key"))
        return subprocess.run([str(bin_dir / command[0]), *command[1:]], capture_output=True,
                              text=True, timeout=timeout, cwd=cwd, env=env, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("installed")
    clone = _clone_without_links(base / "clone")
    dist = base / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(clone)],
                           capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [wheel], [sdist] = dist.glob("*.whl"), dist.glob("*.tar.gz")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    _see_dependencies_of_this_environment(venv)
    home = base / "home"
    home.mkdir()
    result = Installed(venv, wheel, sdist, home)
    pip = result.run("python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel),
                     cwd=home)
    assert pip.returncode == 0, pip.stderr
    return result


def _see_dependencies_of_this_environment(venv: Path) -> None:
    """The venv finds what the running environment has installed, after its own."""
    [inner] = venv.glob("lib/python*/site-packages")
    outer = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (inner / "outer-environment.pth").write_text("".join(f"{path}\n" for path in outer))


def _clone_without_links(to: Path) -> Path:
    """The checkout as a clone on a system without symbolic links has it: brewbench/
    holds only its own files."""
    shutil.copytree(ROOT, to, symlinks=True, ignore=NOT_COPIED)
    for entry in (to / "brewbench").iterdir():
        if entry.is_symlink():
            entry.unlink()
    return to


def test_imports_come_from_the_venv_not_the_checkout(installed: Installed) -> None:
    done = installed.run("python", "-c", "import brewbench, brewbench.drivers, brewbench.fixtures;"
                         "print(brewbench.__file__); print(brewbench.fixtures.__file__)",
                         cwd=installed.home)
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():
        assert Path(line).is_relative_to(installed.venv), line


def test_the_wheel_holds_every_module_and_the_shipped_files(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for folder, package in CODE.items():
        for module in (ROOT / folder).rglob("*.py"):
            inside = f"{package}/{module.relative_to(ROOT / folder).as_posix()}"
            assert inside in names, f"{inside} is missing from the wheel"
    assert {"brewbench/contracts/cm-500.toml", "brewbench/dashboards/brewbench.json"} <= names


def test_the_sdist_carries_its_tests_and_they_run(installed: Installed, tmp_path: Path) -> None:
    with tarfile.open(installed.sdist) as sdist:
        sdist.extractall(tmp_path, filter="data")
    [unpacked] = tmp_path.iterdir()
    for needed in ("conftest.py", "contracts/cm-500.toml", "dashboards/brewbench.json",
                   "tests/test_installed.py", "tests/verify/test_contracts.py", "README.md"):
        assert (unpacked / needed).is_file(), needed
    # -P: the current folder stays off sys.path, so the unpacked brewbench/ (only its
    # own two files) does not shadow the installed package.
    done = installed.run("python", "-P", "-m", "pytest", "-q", "-p", "no:randomly",
                         "tests/verify/test_contracts.py", cwd=unpacked)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout


def test_every_advertised_command_works_from_the_installed_wheel(
        installed: Installed, brewbench_influx: InfluxSettings, tmp_path: Path) -> None:
    lab = tmp_path / "lab"
    lab.mkdir()
    ran = installed.run("brewbench", "run", cwd=lab)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr
    assert "capture saved to brewbench-results/" in ran.stdout

    night = installed.run("brewbench", "nightly", "--firmware", "2.1", "--transport", "serial",
                          cwd=lab)
    assert night.returncode == 1, night.stdout[-3000:] + night.stderr
    assert "verdict: data contract violated by 2.1 emu-serial" in night.stdout
    [junit] = (lab / "brewbench-results").glob("*/junit/2.1-serial-emu-serial.xml")
    assert "site-packages/brewbench/fixtures/suite/test_standard.py" in junit.read_text()

    url, db = brewbench_influx.url or "", brewbench_influx.db
    pushed = installed.run("brewbench", "push", "--url", url, "--db", db, cwd=lab)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    query = installed.run("brewbench", "query", "--url", url, "--db", db, "--categories",
                          "CM-500", cwd=lab)
    assert query.returncode == 0, query.stderr
    assert any(line.strip().startswith("2.1") and "identity" in line
               for line in query.stdout.splitlines()), query.stdout


def test_init_writes_a_project_whose_example_fails_on_purpose(installed: Installed,
                                                              tmp_path: Path) -> None:
    made = installed.run("brewbench", "init", "mylab", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    project = tmp_path / "mylab"
    assert (project / "contracts" / "cm-500.toml").read_text() == (ROOT / "contracts" /
                                                                   "cm-500.toml").read_text()
    assert (project / "dashboards" / "brewbench.json").is_file()
    first = installed.run("python", "-m", "pytest", "-q", "-p", "no:randomly", cwd=project)
    assert first.returncode == 1, first.stdout[-3000:] + first.stderr
    assert "this firmware syncs the owner's name with each order" in first.stdout
    assert "1 failed, 1 passed" in first.stdout

    # As the example's docstring says: on firmware 1.0 it passes.
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("firmware=2.1", "firmware=1.0"))
    second = installed.run("python", "-m", "pytest", "-q", "-p", "no:randomly", cwd=project)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr
    assert "2 passed" in second.stdout

    again = installed.run("brewbench", "init", "mylab", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"brewbench: {Path('mylab') / 'pyproject.toml'} already exists; brewbench init writes a "
        "new project and overwrites nothing (choose another folder)"]
