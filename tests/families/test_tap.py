"""The passive tap: framers, and a tap on an emulated machine's UART that hears, byte
for byte and per action, what the driver talking to that machine captured."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import open_device
from brewbench.bench.scenario import standard_steps, steps_for
from brewbench.bench.verify.canaries import plant
from brewbench.drivers.errors import DeviceSpecError
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.tap.framers import GapFramer, framer_named
from brewbench.drivers.tap.listener import Tap
from brewbench.emulator.jura.machine import EmulatedJura
from brewbench.emulator.machine import EmulatedMachine
from brewbench.emulator.tap_cable import TappedPtyLink


def test_gap_framer_cuts_at_pauses() -> None:
    now = [0.0]
    framer = GapFramer(gap=0.02, clock=lambda: now[0])
    assert framer.feed(b"ab") == []
    now[0] = 0.01
    assert framer.feed(b"c") == []
    now[0] = 0.05
    assert [u.raw for u in framer.feed(b"d")] == [b"abc"]
    assert [u.raw for u in framer.flush()] == [b"d"]


def test_line_length_cobs_and_jura_framers() -> None:
    lines = framer_named("lines")
    assert [u.meta["line"] for u in lines.feed(b"AT\r\nOK\nhal")] == ["AT", "OK"]
    assert lines.flush()[0].error == "line without its end"
    blocks = framer_named("length", {"length": "2"})
    assert [u.raw for u in blocks.feed(b"\x00\x02hi\x00\x01")] == [b"\x00\x02hi"]
    assert [u.raw for u in blocks.feed(b"!")] == [b"\x00\x01!"]
    frame = Message(Kind.EVENT, MsgType.TELEMETRY, 7, {"n": 1}).encode()
    [unit] = framer_named("cobs").feed(frame)
    assert unit.message is not None and unit.message.body == {"n": 1} and unit.raw == frame
    from brewbench.drivers.jura.wire import MACHINE_BASE, encode
    [line] = framer_named("jura").feed(encode(b"ty:EF532M V02.03\r\n", MACHINE_BASE))
    assert line.meta["machine_type"] == "EF532M V02.03"
    with pytest.raises(DeviceSpecError, match="unknown framer 'hdlc'; known: gap, lines"):
        framer_named("hdlc")


def by_action(capture: Capture, channel: str) -> dict[tuple[str, str], bytes]:
    """Per (action, direction): every byte of ``channel``, in order."""
    out: dict[tuple[str, str], bytes] = defaultdict(bytes)
    for entry in capture.entries:
        if entry.record.channel == channel:
            out[entry.action, entry.record.direction] += entry.record.raw
    return dict(out)


@pytest.fixture
def cm500_cable() -> Iterator[TappedPtyLink[EmulatedMachine]]:
    link = TappedPtyLink(EmulatedMachine("2.1"))
    link.start()
    yield link
    link.stop()


def run_tapped(spec: str, tap: Tap, steps: Any) -> tuple[Capture, Capture]:
    heard = Capture("tap")
    tap.attach(heard)
    tap.open()
    try:
        with open_device(spec) as device:
            tap.settle()  # what connecting and identifying sent is heard before the session
            for step in steps_for(device.machine, steps):
                with tap.action(step.action), device.machine.action(step.action):
                    step.run(device.machine)
            driver = device.capture
    finally:
        tap.close()
    return driver, heard


def test_a_tap_hears_what_the_driver_captured_per_action(cm500_cable: TappedPtyLink[EmulatedMachine]) -> None:
    canaries = plant()
    tap = Tap({"rx": cm500_cable.rx_url, "tx": cm500_cable.tx_url}, framer="cobs")
    driver, heard = run_tapped(f"serial://{cm500_cable.url}", tap,
                               standard_steps(canaries.provisioning(), card=canaries.card()))
    session = {key: raw for key, raw in by_action(driver, "serial").items()
               if key[0] not in ("connect", "identify")}
    tapped = {key: raw for key, raw in by_action(heard, "tap").items()
              if key[0] not in ("connect", "identify", "idle")}
    assert session and tapped == session
    assert cm500_cable.dropped == 0
    assert all(e.record.message is not None for e in heard.entries)  # every frame decoded


def test_a_tap_on_a_jura_decodes_its_lines() -> None:
    link = TappedPtyLink(EmulatedJura())
    link.start()
    try:
        tap = Tap({"rx": link.rx_url, "tx": link.tx_url}, framer="jura")
        driver, heard = run_tapped(f"serial://{link.url}?family=jura", tap, standard_steps())
    finally:
        link.stop()
    session = {k: v for k, v in by_action(driver, "jura").items() if k[0] != "identify"}
    heard_session = {k: v for k, v in by_action(heard, "jura").items()
                     if k[0] not in ("identify", "idle")}
    assert heard_session == session and ("read_counters", "rx") in session
    # the EEPROM words; named counters too when the command was heard first (two readers)
    eeprom = [e.record.meta for e in heard.entries if "words" in e.record.meta]
    assert eeprom and len(eeprom[0]["words"]) == 16


def test_brewbench_tap_marks_actions_typed_by_the_operator(
        cm500_cable: TappedPtyLink[EmulatedMachine], tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "brewbench", "tap", "--rx", cm500_cable.rx_url,
                             "--tx", cm500_cable.tx_url, "--framer", "cobs", "--results",
                             str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key")})
    assert proc.stdin is not None and proc.stdout is not None
    if proc.stdout.read(6) != "action":  # listening
        raise AssertionError(proc.communicate(timeout=60))
    with open_device(f"serial://{cm500_cable.url}") as device:
        proc.stdin.write("brew\n")
        proc.stdin.flush()
        time.sleep(0.3)
        device.machine.brew("latte")
        time.sleep(0.3)
    out, err = proc.communicate("", timeout=60)
    assert proc.returncode == 0, out + err
    assert "brew       ok" in out and "BREWx1" in out
    [saved] = (tmp_path).glob("*/captures/tap-*.jsonl")
    heard = Capture.load(saved)
    assert {e.action for e in heard.entries} >= {"brew", "idle"}
    assert any(e.record.message is not None and e.record.message.type_name == "BREW"
               for e in heard.entries if e.action == "brew")
