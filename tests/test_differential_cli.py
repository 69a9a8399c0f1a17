"""``brewbench run --differential`` as a lab engineer types it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from brewbench.bench.influx.lineproto import parse

BREWBENCH = [sys.executable, "-m", "brewbench", "run", "--differential"]
CM500 = Path(__file__).resolve().parents[1] / "contracts" / "cm-500.toml"


def brewbench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key")}
    return subprocess.run([*BREWBENCH, "--results", str(tmp_path), *args], capture_output=True,
                          text=True, timeout=120, env=env)


def test_keyed_leaks_beyond_the_contract_exit_1_with_redacted_evidence(tmp_path: Path) -> None:
    done = brewbench(tmp_path, "--device", "emu://?firmware=2.3", "--contract", str(CM500))
    assert done.returncode == 1, done.stderr
    assert "owner in RECORD.uid on serial during sync: follows owner" in done.stdout
    assert "follows planted owner (differential)" in done.stdout  # in the contract verdict
    verdict = [line for line in done.stdout.splitlines() if line.startswith("verdict: ")]
    assert len(verdict) == 1 and "5 differential finding(s) beyond its contract" in verdict[0]
    assert "Ada Canary-" not in done.stdout

    [saved] = tmp_path.glob("*/differential/*.json")
    assert saved.stat().st_mode & 0o077 == 0
    record = json.loads(saved.read_text())
    assert {(tuple(f["canaries"]), f["field"]) for f in record["findings"]} >= {
        (("owner",), "RECORD.uid"), (("site",), "RECORD.loc"), (("card_number",), "RECORD.ref")}
    assert "Canary" not in saved.read_text()
    baseline = next(saved.parent.glob("*.baseline.jsonl")).read_text()
    assert '["identity", "differential", "follows owner"]' in baseline  # the RECORD.uid token
    assert "Canary" not in baseline

    lines = [p for path in tmp_path.glob("spool/*.lp") for p in parse(path.read_text())
             if p.measurement == "differential_findings"]
    points = {(dict(p.tags)["canary"], dict(p.tags)["field"]): dict(p.fields) for p in lines}
    assert points["owner", "RECORD.uid"]["beyond_contract"] is True
    assert points["email", "RECORD.box"]["exact"] is True
    assert len(points) == 5


def test_clean_noisy_firmware_exits_0(tmp_path: Path) -> None:
    done = brewbench(tmp_path, "--device", "emu://?firmware=1.1", "--design", "group")
    assert done.returncode == 0, done.stderr
    assert "13 runs (group, 3 baselines, 2 replicates)" in done.stdout
    # the run ends with its verdict, as a plain run does (the spool lines come before it)
    assert done.stdout.splitlines()[-1].startswith(
        "verdict: emu://?firmware=1.1: no differential finding"), done.stdout.splitlines()[-3:]


def test_usage_mistakes_exit_2_with_one_line(tmp_path: Path) -> None:
    done = brewbench(tmp_path, "--baselines", "1")
    assert done.returncode == 2
    assert done.stderr == "brewbench: a differential analysis needs at least 2 baseline runs\n"
    done = brewbench(tmp_path, "--contract", str(tmp_path / "none.toml"))
    assert done.returncode == 2 and "No such file or directory" in done.stderr
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("option", [["--uplink"], ["--lab-network", "forged-ok"],
                                    ["--fail-on-leak"]])
def test_options_the_differential_does_not_honour_are_refused(tmp_path: Path,
                                                              option: list[str]) -> None:
    """An option the differential would drop is one line and exit 2 before any device runs,
    never a run that silently went without it."""
    done = brewbench(tmp_path, *option)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"brewbench: {option[0]}: not available with --differential yet; "
                           "run it without --differential\n")


def plain_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key")}
    return subprocess.run([sys.executable, "-m", "brewbench", "run", "--results", str(tmp_path),
                           *args], capture_output=True, text=True, timeout=120, env=env)


def test_the_owner_in_a_log_line_breaks_the_shipped_contract(tmp_path: Path) -> None:
    done = plain_run(tmp_path, "--device", f"emu://?firmware=2.5&unit={tmp_path.name}",
                     "--contract", str(CM500))
    assert done.returncode == 1, done.stdout
    assert "READ_LOGS.lines[]" in done.stdout and "planted owner not allowed here" in done.stdout
    assert "Ada Canary-" not in done.stdout
    # the machine's own name in its log is what the contract allows, and the line says so once
    done = plain_run(tmp_path, "--device", "emu://?firmware=2.0", "--contract", str(CM500))
    assert done.returncode == 0, done.stdout
    verdict = [line for line in done.stdout.splitlines() if line.startswith("verdict: ")]
    assert len(verdict) == 1 and "no contract judged it" not in verdict[0]
    assert f"within contract {CM500}" in verdict[0]


def test_an_owner_kept_across_a_reset_exits_1_and_is_in_the_findings_file(tmp_path: Path) -> None:
    done = brewbench(tmp_path, "--device", f"emu://?firmware=2.5&unit={tmp_path.name}",
                     "--contract", str(CM500), "--design", "group")
    assert done.returncode == 1, done.stderr
    assert "owner in RECORD.acct on serial during sync: kept across reset" in done.stdout
    verdict = [line for line in done.stdout.splitlines() if line.startswith("verdict: ")]
    assert len(verdict) == 1 and "beyond its contract" in verdict[0]
    [saved] = tmp_path.glob("*/differential/*.json")
    record = json.loads(saved.read_text())
    kept = [f for f in record["findings"] if f["status"] == "kept across reset"]
    assert {f["field"] for f in kept} >= {"RECORD.acct", "READ_LOGS.lines[]"}
    assert record["ok"] is False and record["replicates"] == 2
    assert any(n["field"] == "RECORD.nonce" for n in record["noise"])  # named, not counted
    assert "Canary" not in saved.read_text()


def test_emulator_manners_are_checked_in_the_spec(tmp_path: Path) -> None:
    done = brewbench(tmp_path, "--device", "emu://?firmware=1.2&noise=loud")
    assert done.returncode == 2 and "noise='loud': choose field or none" in done.stderr
    assert len(done.stderr.splitlines()) == 1
    done = brewbench(tmp_path, "--device", "emu://?family=jura&noise=field")
    assert done.returncode == 2 and "noise= is for the cm500 family" in done.stderr
