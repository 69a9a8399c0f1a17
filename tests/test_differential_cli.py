"""``brewbench run --differential`` as a lab engineer types it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    assert "verdict: emu://?firmware=1.1: no differential finding" in done.stdout


def test_usage_mistakes_exit_2_with_one_line(tmp_path: Path) -> None:
    done = brewbench(tmp_path, "--baselines", "1")
    assert done.returncode == 2
    assert done.stderr == "brewbench: a differential analysis needs at least 2 baseline runs\n"
    done = brewbench(tmp_path, "--contract", str(tmp_path / "none.toml"))
    assert done.returncode == 2 and "No such file or directory" in done.stderr
    assert len(done.stderr.splitlines()) == 1
