"""The Jura family: the obfuscated wire format, answers, the driver over real pyserial
against an emulated machine on a pty, and the standard suite."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import brewbench.fixtures.suite
from brewbench.bench.devices import open_device
from brewbench.bench.verify.classify import classify
from brewbench.bench.verify.emissions import emissions
from brewbench.drivers.errors import DeviceRejected, DeviceSpecError, Timeout
from brewbench.drivers.jura.answers import parse_answer
from brewbench.drivers.jura.lines import LineSplitter
from brewbench.drivers.jura.wire import HOST_BASE, MACHINE_BASE, WireDecoder, decode, encode
from brewbench.emulator.jura.serve import JuraEmulator

SUITE = Path(brewbench.fixtures.suite.__file__).parent / "test_standard.py"

# "TY:\r\n" as a machine sends it, bit for bit as public captures show it.
TY_FROM_MACHINE = bytes([0b01011011, 0b01011111, 0b01011111, 0b01011111,
                         0b01011111, 0b01111011, 0b01011111, 0b01011111,
                         0b01111011, 0b01111011, 0b01111111, 0b01011011,
                         0b01011111, 0b01111111, 0b01011011, 0b01011011,
                         0b01111011, 0b01111011, 0b01011011, 0b01011011])


@pytest.mark.parametrize("base", [HOST_BASE, MACHINE_BASE])
def test_every_byte_value_round_trips(base: int) -> None:
    data = bytes(range(256))
    wire = encode(data, base)
    assert len(wire) == 4 * len(data)
    assert decode(wire) == data
    assert all(b & ~0x24 & 0xFF == base & ~0x24 & 0xFF for b in wire)  # only bits 2 and 5 carry data


def test_the_published_capture_decodes_to_ty() -> None:
    assert decode(TY_FROM_MACHINE) == b"TY:\r\n"
    assert encode(b"TY:\r\n", MACHINE_BASE) == TY_FROM_MACHINE


def test_a_stream_decodes_however_it_is_split() -> None:
    wire = encode(b"rt:0001000200030004\r\n", MACHINE_BASE)
    for size in (1, 3, 5, 7, 64):
        decoder = WireDecoder()
        out = b"".join(decoder.feed(wire[i:i + size]) for i in range(0, len(wire), size))
        assert out == b"rt:0001000200030004\r\n"
    decoder = WireDecoder()
    decoder.feed(wire[:2])
    assert decoder.resync() == wire[:2] and decoder.pending == 0


def test_lines_split_at_cr_lf_and_overlong_ones_are_dropped() -> None:
    splitter = LineSplitter(max_line=16)
    assert splitter.split(b"ok:\r\nty:E") == ([b"ok:"], None)
    assert splitter.split(b"30\r\n") == ([b"ty:E30"], None)
    lines, overflow = splitter.split(b"x" * 40)
    assert lines == [] and overflow == b"x" * 40


def test_answers_become_named_fields() -> None:
    assert parse_answer("ty:EF532M V02.03")["machine_type"] == "EF532M V02.03"
    eeprom = parse_answer("rt:" + "0005000100090002" + "0" * 16 + "0007" + "0" * 28, "RT:0000")
    assert eeprom["counters"] == {"espresso": 5, "double_espresso": 1, "coffee": 9,
                                  "double_coffee": 2}
    assert eeprom["maintenance"] == {"cleanings": 7} and len(eeprom["words"]) == 16
    assert parse_answer("ic:00A4")["input_flags"] == 0xA4
    assert parse_answer("rt:XYZ", "RT:0000") == {"line": "rt:XYZ", "answer": "rt", "text": "XYZ"}
    assert parse_answer("garbage") == {"line": "garbage"}


@pytest.fixture
def jura() -> Iterator[JuraEmulator]:
    with JuraEmulator() as emulated:
        yield emulated


def test_the_driver_talks_to_an_emulated_machine_through_pyserial(jura: JuraEmulator) -> None:
    with open_device(jura.spec) as device:
        machine = device.machine
        assert device.family == "jura" and device.capture.meta["baud"] == "9600"
        assert machine.identify().model == "EF532M"
        before = machine.read_counters()
        machine.brew("espresso")
        assert machine.read_counters()["espresso"] == before["espresso"] + 1
        assert jura.machine.eeprom[0] == before["espresso"] + 1
        with pytest.raises(DeviceRejected, match="no Jura button makes 'flat white'"):
            machine.brew("flat white")
        with pytest.raises(Timeout, match=r"no answer to XX: within 0\.3s"):
            machine.connection.command("XX:", timeout=0.3)
        assert not machine.supports("pay") and machine.supports("read_counters")


def test_counters_are_product_data_and_the_type_is_device_data(jura: JuraEmulator) -> None:
    with open_device(jura.spec) as device:
        device.machine.read_counters()
        classified = classify(emissions(device.capture))
    by_path = {item.emission.path: set(item.categories) for item in classified}
    assert by_path["link.jura.counters.espresso"] == {"product"}
    assert by_path["link.jura.machine_type"] == {"device"}
    assert by_path["link.jura.maintenance.cleanings"] == {"device"}


def test_an_unknown_family_is_a_spec_error() -> None:
    with pytest.raises(DeviceSpecError, match="unknown family 'melitta'; known: cm500, ecam, jura"), \
            open_device("emu://?family=melitta"):
        pass


def test_the_standard_suite_passes_on_an_emulated_jura(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", str(SUITE), "-p", "no:cacheprovider",
                           "-p", "no:randomly", "--brewbench-device", "emu://?family=jura",
                           "--brewbench-results", str(tmp_path / "results"), "-q", "-rs"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed and int(passed.group(1)) >= 3, done.stdout  # identify, session, counters...
    assert "failed" not in done.stdout and "error" not in done.stdout.lower().split("passed")[-1]
    assert "has no reset action" in done.stdout and "has no sync action" in done.stdout
