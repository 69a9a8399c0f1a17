"""``brewbench inventory``: the collected-data inventory of saved captures."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from brewbench.bench.cli.inventory_command import add_inventory_parser
from brewbench.bench.verify.capture_redaction import save_capture


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="brewbench")
    add_inventory_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["inventory", *argv])
    return int(args.func(args))


def test_inventory_of_several_captures(session_of: Callable, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    paths = [save_capture(session_of(fw).capture, tmp_path / f"{fw}.jsonl",
                          canaries=session_of(fw).canaries) for fw in ("1.0", "2.1")]
    assert _run(*map(str, paths)) == 0
    out = capsys.readouterr().out
    first, second = out.split("== ")[1:]
    assert "CM-500 firmware 1.0" in first and "CM-500 firmware 2.1" in second
    assert "category  field" in first and "payment" not in first
    row = next(line for line in second.splitlines() if "RECORD.card_number" in line)
    assert row.split()[:5] == ["payment", "RECORD.card_number", "serial", "sync", "1"]
    assert "<payment " in row and session_of("2.1").canaries["card_number"] not in out


def test_category_filter(session_of: Callable, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    path = save_capture(session_of("2.1").capture, tmp_path / "c.jsonl")
    assert _run(str(path), "--category", "Location") == 0  # as a user may type it
    rows = [line for line in capsys.readouterr().out.splitlines()[3:] if line.strip()]
    assert rows and all(line.startswith("location") for line in rows)


def test_unreadable_capture_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    assert _run(str(bad), str(tmp_path / "missing.jsonl")) == 2
    err = capsys.readouterr().err
    assert f"{bad}: cannot read it as a capture" in err and "missing.jsonl" in err


def test_brewbench_inventory_command(session_of: Callable, tmp_path: Path) -> None:
    path = save_capture(session_of("2.0").capture, tmp_path / "c.jsonl")
    done = subprocess.run([sys.executable, "-m", "brewbench", "inventory", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "time      RECORD.served_at" in done.stdout
    assert session_of("2.0").canaries["machine_name"] not in done.stdout


def test_an_unknown_category_is_a_usage_error(session_of: Callable, tmp_path: Path) -> None:
    path = save_capture(session_of("2.0").capture, tmp_path / "c.jsonl")
    done = subprocess.run([sys.executable, "-m", "brewbench", "inventory", str(path),
                           "--category", "Idenity"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines()[-1] == (
        "brewbench inventory: error: argument --category: unknown category 'Idenity'; known: "
        "product, payment, time, location, identity, device, voice, unknown")
