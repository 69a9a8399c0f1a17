"""``brewbench run --json``: one JSON document on stdout holding the verdict; and a
device that is not there is one line, no capture, and a verdict that is not clean."""

import json
import subprocess
import sys
from pathlib import Path

from brewbench.bench.cli.run_json import FORMAT
from brewbench.bench.verify.canaries import TEST_CARDS

BREWBENCH = [sys.executable, "-m", "brewbench"]
CONTRACT = Path(__file__).parent.parent / "contracts" / "cm-500.toml"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BREWBENCH, "run", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_json_pipes_into_json_tool_and_holds_the_verdict(tmp_path: Path) -> None:
    done = subprocess.run(f"{sys.executable} -m brewbench run --json --device "
                          f"'emu://?firmware=2.1' --contract {CONTRACT} --results {tmp_path} "
                          f"| {sys.executable} -m json.tool", shell=True, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr  # json.tool read one document
    document = json.loads(done.stdout)
    assert document["format"] == FORMAT
    verdict = document["verdict"]
    assert verdict["status"] == "FAIL" and verdict["exit_code"] == 1
    assert verdict["line"].startswith("verdict: FAIL: beyond contract")
    [device] = document["devices"]
    assert (device["spec"], device["firmware"]) == ("emu://?firmware=2.1", "2.1")
    assert Path(device["capture"]).is_file()
    broken = {(v["category"], v["field"], v["why"]) for v in device["contract"]["violations"]}
    assert ("payment", "RECORD.card_number", "forbidden field") in broken
    assert {f["canary"] for f in device["planted_values_found"]} >= {"owner"}
    assert "== emu://?firmware=2.1" in done.stderr  # the lines for people went to stderr
    assert not [card for card in TEST_CARDS if card in done.stdout]  # names, not values
    assert "Canary-" not in done.stdout


def test_a_spoken_leak_is_a_planted_value_found_in_the_json_too(tmp_path: Path) -> None:
    """Firmware 3.5 gives the owner away only in a recording: the verdict line counts it,
    and the document lists it by name like any planted value (encoding "spoken")."""
    done = run("--json", "--fail-on-leak", "--device", "emu://?firmware=3.5", "--results",
               str(tmp_path), cwd=tmp_path)
    document = json.loads(done.stdout)
    assert "1 spoken" in document["verdict"]["line"], document["verdict"]["line"]
    [device] = document["devices"]
    spoken = [f for f in device["planted_values_found"] if f["encoding"] == "spoken"]
    assert [(f["canary"], f["category"], f["field"], f["action"]) for f in spoken] == [
        ("owner", "identity", "EVENT.pcm", "voice_order")]


def test_json_of_a_clean_device_passes(tmp_path: Path) -> None:
    done = run("--json", "--device", "emu://?firmware=1.0", "--contract", str(CONTRACT),
               "--results", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["verdict"]["status"] == "PASS"
    assert document["devices"][0]["contract"] == {
        "ok": True, "source": str(CONTRACT), "violations": []}
    assert document["influx"]["waiting"].startswith("53 point(s) wait in the spool")


def test_a_device_that_is_not_there_is_one_line_and_no_capture(tmp_path: Path) -> None:
    done = run("--device", "serial:///dev/ttyBREWBENCH9", "--results", str(tmp_path),
               cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("brewbench: serial:///dev/ttyBREWBENCH9: cannot open serial port")
    assert "/dev/ttyBREWBENCH9" not in done.stdout.replace("== serial:///dev/ttyBREWBENCH9", "") \
        .replace("nothing judged: serial:///dev/ttyBREWBENCH9", "")
    assert not list(tmp_path.glob("*/captures/*.jsonl"))
    verdict = done.stdout.splitlines()[-1]
    assert verdict == "verdict: FAIL: not found, nothing judged: serial:///dev/ttyBREWBENCH9"
    assert "no planted value found" not in done.stdout


def test_json_names_the_missing_device(tmp_path: Path) -> None:
    done = run("--json", "--device", "serial:///dev/ttyBREWBENCH9", "--device",
               "emu://?firmware=1.0", "--results", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    document = json.loads(done.stdout)
    missing, present = document["devices"]
    assert missing["capture"] is None and "cannot open serial port" in missing["error"]
    assert present["firmware"] == "1.0" and Path(present["capture"]).is_file()
    assert document["verdict"]["exit_code"] == 2


def test_version_is_the_packages() -> None:
    from brewbench import __version__

    done = subprocess.run([*BREWBENCH, "--version"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, f"brewbench {__version__}")


def _documented_keys(table: str) -> set[str]:
    keys: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            keys.update(k.strip(" `") for k in line.split("|")[1].split(","))
    return keys


def test_the_documented_schema_is_the_documents(tmp_path: Path) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "cli-json.md").read_text()
    run_section = doc.split("## `brewbench run --json`", 1)[1].split("## `brewbench config", 1)[0]
    top, device = run_section.split("Each device:", 1)
    done = run("--json", "--device", "emu://?firmware=2.0", "--contract", str(CONTRACT),
               "--results", str(tmp_path), cwd=tmp_path)
    document = json.loads(done.stdout)
    assert set(document) == _documented_keys(top)
    assert set(document["devices"][0]) == _documented_keys(device)
    config = json.loads(subprocess.run([*BREWBENCH, "config", "--json"], cwd=tmp_path,
                                       capture_output=True, text=True, timeout=60).stdout)
    assert set(config) == {"settings", "influx", "lab"}
    assert set(config["settings"]) == {"devices", "results", "timeout", "raw_captures",
                                       "contract", "wait"}


def test_the_docs_script_examples_run_as_written(tmp_path: Path) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "cli-json.md").read_text()
    block = doc.split("```sh\n", 1)[1].split("```", 1)[0]
    outputs = []
    for line in block.splitlines():
        command = line.split("  #", 1)[0].replace("brewbench ", f"{sys.executable} -m brewbench ")
        if command.startswith("cd "):  # the init line's own cd: run the rest in the project
            continue
        cwd = tmp_path / "mylab" if "init" not in command else tmp_path
        if "init" in command:
            command = command.split(" && ", 1)[0]
        done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True,
                              timeout=120)
        outputs.append(done.stdout)
    _init, pretty, status, violations = outputs
    assert json.loads(pretty)["verdict"]["status"] == "FAIL"
    assert status.strip() == "FAIL"
    assert "payment RECORD.card_number: forbidden field" in violations.splitlines()
