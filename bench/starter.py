"""The starter lab project ``brewbench init`` writes: a pytest project of the lab's own,
outside the brewbench repository, where the README's examples work as written.

It holds a ``pyproject.toml`` with a ``[tool.brewbench]`` table, a copy of the shipped
CM-500 data contract in ``contracts/`` (the path the table and the examples name) and
an example test file.
"""

from __future__ import annotations

from pathlib import Path

from ..drivers.errors import BrewbenchError
from .shipped import CONTRACT, contract_text

__all__ = ["PYPROJECT", "TESTS", "StarterError", "write_starter"]


class StarterError(BrewbenchError):
    """The starter project cannot be written (a file is in the way, the folder is not writable)."""


PYPROJECT = f"""\
# A brewbench lab project. `python -m pytest` runs tests/ once per device below.
# Settings: the command line wins, then the pytest ini file, then this table.

[tool.brewbench]
devices = ["emu://?firmware=2.1&transport=serial"]   # an emulated CM-500; or serial:///dev/ttyUSB0
results = "brewbench-results"                         # captures, one folder per run
timeout = 3.0                                         # seconds to wait for an answer
contract = "contracts/{CONTRACT}"                     # what the standard suite checks
raw_captures = false                                  # true keeps raw personal/payment values

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

TESTS = f'''\
"""Example bench tests, written by `brewbench init`.

test_latte_records_no_owner FAILS ON PURPOSE on the default device: emulated firmware
2.1 adds the owner's name to every record it syncs, which is the kind of collection this
bench exists to catch. Set devices = ["emu://?firmware=1.0"] in pyproject.toml and it
passes: firmware 1.0 keeps no owner in its records.
"""

import pytest


def test_latte_records_no_owner(brewbench_machine, brewbench_capture):
    brewbench_machine.provision("Lobby", "Ada Owner", "Org Ltd", "HQ", "Floor 7")
    brewbench_machine.brew("latte", strength=4, milk="oat")
    for record in brewbench_machine.sync():
        assert "owner" not in record, "this firmware syncs the owner's name with each order"
    assert brewbench_capture.messages(action="brew", direction="rx")


@pytest.mark.brewbench_contract("contracts/{CONTRACT}")
def test_an_espresso_stays_within_the_contract(brewbench_machine, brewbench_capture):
    """The marker fails the test with a table when the capture breaks the contract."""
    brewbench_machine.brew("espresso")
'''


def write_starter(folder: Path) -> list[Path]:
    """Write the starter project into ``folder`` (made if missing); never overwrites.

    Raises:
        StarterError: one of the files already exists, or cannot be written.
    """
    files = {folder / "pyproject.toml": PYPROJECT,
             folder / "contracts" / CONTRACT: contract_text(),
             folder / "tests" / "test_example.py": TESTS}
    for path in files:
        if path.exists():
            raise StarterError(f"{path} already exists; brewbench init writes a new project "
                               "and overwrites nothing (choose another folder)")
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StarterError(f"cannot write the starter project in {folder}: {exc}") from exc
    return list(files)
