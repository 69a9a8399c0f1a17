"""The brewbench command as a lab engineer types it."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from brewbench.drivers.framing import FrameSplitter
from brewbench.drivers.messages import Kind, Message, MsgType, decode_message

BREWBENCH = [sys.executable, "-m", "brewbench"]


def test_run_prints_each_action_and_saves_the_capture(tmp_path: Path) -> None:
    done = subprocess.run([*BREWBENCH, "run", "--device", "emu://?firmware=2.0",
                           "--results", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for action in ("identify", "status", "provision", "brew", "pay", "sync", "read_logs", "reset"):
        assert f"   {action} " in out
    assert "RECORDx2" in out and "payment_method" in out and "owner" not in out
    [saved] = tmp_path.glob("*/captures/*.jsonl")
    assert json.loads(saved.read_text().splitlines()[0])["meta"]["firmware"] == "2.0"


def test_run_against_a_missing_port_fails_cleanly(tmp_path: Path) -> None:
    done = subprocess.run([*BREWBENCH, "run", "--device", "serial:///dev/ttyNOPE3",
                           "--results", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("brewbench: serial:///dev/ttyNOPE3: cannot open serial port")
    assert "Traceback" not in done.stderr


def test_emulate_serves_a_port_any_pyserial_tool_can_use() -> None:
    proc = subprocess.Popen([*BREWBENCH, "emulate", "--firmware", "1.0", "--serial", "BB0042"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        port = next(line.split(": ", 1)[1].strip() for line in lines if line.startswith("port:"))
        with serial.Serial(port, 115200, timeout=2) as tty:  # an independent client
            tty.write(Message(Kind.REQUEST, MsgType.IDENTIFY, 77, {}).encode())
            reply = tty.read_until(b"\x00")
        [span] = list(FrameSplitter().feed(reply))
        assert span.frame is not None
        message = decode_message(span.frame)
        assert (message.kind, message.seq) == (Kind.RESPONSE, 77)
        assert message.body["serial"] == "BB0042" and message.body["firmware"] == "1.0"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_run_writes_no_raw_planted_value(tmp_path: Path) -> None:
    done = subprocess.run([*BREWBENCH, "run", "--device", "emu://?firmware=2.1",
                           "--results", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "planted values found: " in done.stdout and "owner as plain in RECORD.owner" in done.stdout
    [capture] = tmp_path.glob("*/captures/*.jsonl")
    text = capture.read_text()
    assert '"$redacted"' in text or "hmac" in text.lower()
    assert "4111111111111111" not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"Canary" not in path.read_bytes(), path


CM500 = Path(__file__).resolve().parents[1] / "contracts" / "cm-500.toml"


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BREWBENCH, "run", "--results", str(tmp_path), *args],
                          capture_output=True, text=True, timeout=90)


def test_run_ends_with_a_verdict_and_exits_1_beyond_the_contract(tmp_path: Path) -> None:
    leaky = _run(tmp_path, "--device", "emu://?firmware=2.1", "--contract", str(CM500))
    assert leaky.returncode == 1, leaky.stderr
    last = leaky.stdout.splitlines()[-1]
    assert last.startswith("verdict: FAIL: beyond contract") and "planted values leaked" in last
    assert "collected data beyond its contract" in leaky.stdout
    clean = _run(tmp_path, "--device", "emu://?firmware=1.0", "--contract", str(CM500))
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout.splitlines()[-1].startswith("verdict: PASS: no planted value found")


def test_a_machine_nothing_was_planted_on_is_not_called_clean(tmp_path: Path) -> None:
    """A Jura machine takes no provisioning: its verdict says nothing was planted, not
    "no planted value found" (which reads like a clean machine); a CM-500 beside it
    keeps its own verdict."""
    jura = _run(tmp_path, "--device", "emu://?family=jura")
    assert jura.returncode == 0, jura.stderr
    last = jura.stdout.splitlines()[-1]
    assert last == ("verdict: PASS: nothing planted on emu://?family=jura (no provision, pay "
                    "or voice order action: no planted value to find)"), last
    both = _run(tmp_path, "--device", "emu://?firmware=1.0", "--device", "emu://?family=jura")
    last = both.stdout.splitlines()[-1]
    assert last.startswith("verdict: PASS: no planted value found; nothing planted on "
                           "emu://?family=jura ("), last


def test_a_machine_its_contract_does_not_cover_keeps_its_capture(tmp_path: Path) -> None:
    """A Jura machine judged by the CM-500 contract (a `brewbench init` project's): one line,
    exit 2, and the session it just ran is saved, not lost with the error."""
    done = _run(tmp_path, "--device", "emu://?family=jura", "--contract", str(CM500))
    assert done.returncode == 2, done.stdout
    [line] = done.stderr.splitlines()
    assert "no contract covers EF516M firmware V01.25" in line, line
    [saved] = tmp_path.glob("*/captures/*.jsonl")
    assert f"capture saved to {saved}" in line
    assert '"action": "read_settings"' in saved.read_text()


@pytest.mark.parametrize(("spec", "said"), [
    ("bogus://x", "bogus://x: unknown scheme 'bogus'"),
    ("emu://?firmwre=2.1", "emu://?firmwre=2.1: "),
    ("emu://?family=nespresso", "unknown family 'nespresso'"),
])
def test_a_wrong_spec_is_one_line_before_any_device_runs(tmp_path: Path, spec: str,
                                                         said: str) -> None:
    done = _run(tmp_path, "--device", "emu://?firmware=1.0", "--device", spec)
    assert done.returncode == 2 and done.stdout == "", done.stdout  # the first never ran
    [line] = done.stderr.splitlines()
    assert line.startswith("brewbench: ") and said in line, line


def test_run_fails_on_any_leak_when_asked(tmp_path: Path) -> None:
    told = _run(tmp_path, "--device", "emu://?firmware=2.1")
    assert told.returncode == 0 and told.stdout.splitlines()[-1].startswith("verdict: LEAK")
    strict = _run(tmp_path, "--device", "emu://?firmware=2.1", "--fail-on-leak")
    assert strict.returncode == 1
    assert strict.stdout.splitlines()[-1].startswith("verdict: FAIL: planted values leaked")


@pytest.mark.parametrize(("command", "usage"), [
    (["run", "--devcie", "emu://"], "usage: brewbench run "),
    (["nightly", "--frimware", "2.1"], "usage: brewbench nightly "),
    (["import", "pcap", "x.pcap", "--bogus"], "usage: brewbench import pcap "),
])
def test_a_misspelt_option_shows_its_own_command_usage(command: list[str], usage: str) -> None:
    done = subprocess.run([*BREWBENCH, *command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith(usage), done.stderr
    assert "unrecognized arguments: " + command[-1 if command[0] == "import" else -2] in done.stderr


def test_run_with_a_bad_contract_is_a_usage_error(tmp_path: Path) -> None:
    done = _run(tmp_path, "--contract", str(tmp_path / "missing.toml"))
    assert done.returncode == 2 and "cannot read the contract" in done.stderr
    assert "Traceback" not in done.stderr and "verdict" not in done.stdout


def test_run_names_lines_of_the_saved_file_the_spool_and_a_new_lab_key(tmp_path: Path) -> None:
    key = tmp_path / "lab.key"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFLUX_", "BREWBENCH_"))}
    done = subprocess.run([*BREWBENCH, "run", "--device", "emu://?firmware=2.1",
                           "--results", str(tmp_path)], capture_output=True, text=True, timeout=60,
                          env={**env, "BREWBENCH_LAB_KEY_FILE": str(key)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("verdict: LEAK")
    [capture] = tmp_path.glob("*/captures/*.jsonl")
    lines = capture.read_text().splitlines()
    assert f"planted values found: 13 (lines of {capture})" in done.stdout
    found = re.findall(r"(\w+) as plain in RECORD\.(\w+) on serial during sync, line (\d+) byte 0",
                       done.stdout)
    assert found
    for canary, field, number in found:  # the line named is the frame that carried it
        line = json.loads(lines[int(number) - 1])
        assert (line["type"], line["action"], line["msg"]["type"]) == ("frame", "sync", "RECORD")
        assert canary == field and field in line["msg"]["body"]
    spool = tmp_path / "spool"
    points = sum(p.read_text().count("\n") for p in spool.glob("*.lp"))
    assert (f"{points} point(s) wait in the spool {spool}; send them with `brewbench push "
            f"--url URL --db NAME --spool {spool}` (or set INFLUX_URL)") in done.stdout.splitlines()
    assert (f"created the lab key {key}: captures hash sensitive values with it; back it up "
            "(docs/data-verification.md)") in done.stdout.splitlines()
    again = subprocess.run([*BREWBENCH, "run", "--results", str(tmp_path)], capture_output=True,
                           text=True, timeout=60, env={**env, "BREWBENCH_LAB_KEY_FILE": str(key)})
    assert again.returncode == 0 and "lab key" not in again.stdout


def test_run_says_the_owners_order_aloud_and_hears_the_name(tmp_path: Path) -> None:
    done = subprocess.run([*BREWBENCH, "run", "--device", "emu://?firmware=3.3",
                           "--results", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^   voice_order ok ", done.stdout, re.M)
    assert "recordings: 1, planted values heard: 1" in done.stdout
    assert re.search(r"owner spoken at [0-9.]+-[0-9.]+ s", done.stdout)


def test_run_against_a_machine_that_does_not_listen_is_no_failure(tmp_path: Path) -> None:
    done = subprocess.run([*BREWBENCH, "run", "--device", "emu://?firmware=2.1",
                           "--results", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^   voice_order error ", done.stdout, re.M)  # the refusal, as answered
    assert "FAILED" not in done.stdout and "recordings:" not in done.stdout


def test_run_without_espeak_leaves_the_spoken_order_out_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run([*BREWBENCH, "run", "--device", "emu://?firmware=3.3",
                           "--results", str(tmp_path)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert ("   voice_order: left out, espeak-ng is not installed (apt-get install espeak-ng)\n"
            in done.stdout)
    assert not re.search(r"^   voice_order (ok|error) ", done.stdout, re.M)


def test_a_voice_only_leak_fails_the_run_and_the_verdict_names_it(tmp_path: Path) -> None:
    """Firmware 3.5 keeps only what its microphone heard across a room: no planted value
    leaks as text, the owner's voice does, and that is a leak like any other."""
    told = _run(tmp_path, "--device", "emu://?firmware=3.5", "--fail-on-leak")
    assert told.returncode == 1, told.stdout
    assert re.search(r"owner spoken at [0-9.]+-[0-9.]+ s, heard by acoustic \(score 0\.\d+, "
                     r"0\.\d+ above the best decoy", told.stdout), told.stdout
    last = told.stdout.splitlines()[-1]
    assert last.startswith("verdict: FAIL: planted values leaked: emu://?firmware=3.5 (1, 1 spoken)")
    assert "no planted value found" not in last


def test_a_transcript_only_firmware_gives_the_owner_away(tmp_path: Path) -> None:
    done = _run(tmp_path, "--device", "emu://?firmware=3.2")
    assert "owner as said, without its run tag, in RECORD.transcript" in done.stdout, done.stdout
