"""Small usage mistakes, each one true line: the command's own usage for a misspelt
option with a guess, no doubled prefix, ECAM explained where it cannot be served, and
every option with its help text."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from brewbench.bench.cli.main import _commands, build_parser

BREWBENCH = [sys.executable, "-m", "brewbench"]


def brewbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BREWBENCH, *args], capture_output=True, text=True, timeout=60)


def test_a_misspelt_option_shows_the_commands_usage_and_a_guess() -> None:
    done = brewbench("run", "--devcie", "emu://")
    assert done.returncode == 2
    assert done.stderr.startswith("usage: brewbench run ")
    assert done.stderr.splitlines()[-1] == ("brewbench run: error: unrecognized arguments: "
                                            "--devcie emu:// (did you mean --device?)")


def test_an_unknown_firmware_for_serve_has_one_prefix() -> None:
    done = brewbench("serve", "--firmware", "9.9")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("brewbench serve: no emulated firmware '9.9'; known ")


@pytest.mark.parametrize("command", ["emulate", "serve"])
def test_ecam_is_offered_and_explained_where_it_cannot_be_served(command: str) -> None:
    done = brewbench(command, "--family", "ecam")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"brewbench {command} --family ecam: an ECAM machine speaks only "
                           "Bluetooth LE")
    assert "emu://?family=ecam&transport=ble" in line


def test_every_option_says_what_it_is_for() -> None:
    missing = []
    for name, command in _commands(build_parser()).items():
        parsers = [(name, command)] + [
            (f"{name} {sub}", parser) for action in command._actions
            if isinstance(action, argparse._SubParsersAction)
            for sub, parser in action.choices.items()]
        for label, parser in parsers:
            missing += [f"{label} {action.option_strings or action.dest}"
                        for action in parser._actions
                        if not action.help and "-h" not in action.option_strings
                        and not isinstance(action, argparse._SubParsersAction)]
    assert missing == []


def test_run_uplink_names_the_http_endpoint_beside_the_broker(tmp_path: Path) -> None:
    done = subprocess.run([*BREWBENCH, "run", "--uplink", "--results", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("   uplink: ")]
    assert re.fullmatch(r"   uplink: MQTT broker mqtt://127\.0\.0\.1:\d+, HTTP endpoint "
                        r"http://127\.0\.0\.1:\d+/ \(point a real machine's cloud at them\)", line)


def test_a_misspelt_contract_key_is_named_with_the_known_ones(tmp_path: Path) -> None:
    from brewbench.bench.verify.contracts import ContractError, load_contracts

    contract = tmp_path / "c.toml"
    contract.write_text('format = "brewbench-contract"\nversion = 1\n[[contract]]\n'
                        'model = "CM-500"\nfirmware = "*"\nforbiden = ["RECORD.owner"]\n')
    with pytest.raises(ContractError) as raised:
        load_contracts(contract)
    assert str(raised.value) == (f"{contract}: contract #1: unknown key(s) forbiden; known: "
                                 "model, firmware, channels, allow, forbidden, description, "
                                 "residency")
    contract.write_text('format = "brewbench-contract"\nversion = 1\n[[contract]]\n'
                        'model = "CM-500"\n')
    with pytest.raises(ContractError, match=r"contract #1: needs firmware$"):
        load_contracts(contract)
