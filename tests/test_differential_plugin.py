"""The differential fixture and marker as a user runs them: a test repo, pytest in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CM500 = Path(__file__).resolve().parents[1] / "contracts" / "cm-500.toml"
USER_TEST = f"""
import pytest

@pytest.mark.brewbench_differential(contract={str(CM500)!r}, design="group")
def test_nothing_follows_planted_values(brewbench_differential):
    brewbench_differential()

def test_scenario_of_my_own(brewbench_differential):
    def order(machine, canaries):
        machine.provision(**canaries.provisioning())
        machine.brew("latte")
        machine.sync()
    outcome = brewbench_differential(order, baselines=2, replicates=1)
    assert len(outcome.result.design.runs) == 10
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=USER_TEST)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v", *args)


def test_marker_fails_a_keyed_leak_and_names_it(pytester: pytest.Pytester,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BREWBENCH_LAB_KEY_FILE", str(pytester.path / "lab.key"))
    results = pytester.path / "out"
    result = run(pytester, "--brewbench-device", "emu://?firmware=2.3", "--brewbench-results",
                 str(results), "--brewbench-run-id", "r1")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*5 differential finding(s) beyond its contract*",
                                 "*owner in RECORD.uid on serial during sync: follows owner*"])
    saved = json.loads((results / "r1" / "differential" / "firmware=2.3.json").read_text())
    assert saved["design"] == "one-at-a-time"  # the last test, with its own scenario, wins


def test_marker_passes_clean_firmware_with_nonces(pytester: pytest.Pytester,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BREWBENCH_LAB_KEY_FILE", str(pytester.path / "lab.key"))
    run(pytester, "--brewbench-device", "emu://?firmware=1.1").assert_outcomes(passed=2)
