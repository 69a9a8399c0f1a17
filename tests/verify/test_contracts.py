"""Data contracts: passing profiles pass, leaking ones fail with a readable table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from brewbench.bench.verify.contracts import (
    ContractError,
    ContractViolation,
    assert_contract,
    check,
    load_contracts,
    select,
    version_matches,
)
from brewbench.bench.verify.redact import Redactor

pytest_plugins = ["pytester"]

CM500 = Path(__file__).resolve().parents[2] / "contracts" / "cm-500.toml"


@pytest.mark.parametrize("firmware", ["1.0", "2.0"])
def test_profiles_within_their_contract_pass(session_of: Callable, firmware: str) -> None:
    session = session_of(firmware)
    verdict = assert_contract(session.capture, CM500, session.canaries)
    assert verdict.ok and "within its data contract" in verdict.report()


def test_2_1_breaks_the_contract_with_a_table(session_of: Callable) -> None:
    session = session_of("2.1")
    with pytest.raises(ContractViolation) as failure:
        assert_contract(session.capture, CM500, session.canaries, Redactor(b"k" * 32))
    report = str(failure.value)
    header = report.splitlines()[1].split()
    assert header == ["category", "field", "example", "action", "channel", "count", "why"]
    breaches = {(v.category, v.field, v.why) for v in failure.value.verdict.violations}
    assert ("payment", "RECORD.card_number", "forbidden field") in breaches
    assert ("identity", "RECORD.owner", "forbidden field") in breaches
    assert ("location", "RECORD.floor", "category not allowed") in breaches
    assert all(v.action == "sync" and v.channel == "serial"
               for v in failure.value.verdict.violations)
    for name in ("card_number", "owner", "floor"):
        assert session.canaries[name] not in report, "examples are redacted"


def test_2_2_breaks_the_contract_with_or_without_canaries(session_of: Callable) -> None:
    session = session_of("2.2")
    with_canaries = {(v.category, v.field) for v in
                     check(session.capture, CM500, session.canaries).violations}
    assert ("payment", "RECORD.card_ref") in with_canaries
    assert ("identity", "RECORD.diag") in with_canaries
    assert ("location", "EVENT.data") in with_canaries
    without = {(v.category, v.field) for v in check(session.capture, CM500).violations}
    assert ("unknown", "RECORD.card_ref") in without
    assert ("unknown", "RECORD.diag") in without


@pytest.mark.parametrize(("version", "spec", "expected"), [
    ("1.0", ">=1.0, <2.0", True), ("1.9.3", ">=1.0, <2.0", True), ("2.0", ">=1.0, <2.0", False),
    ("2.1", "==2.*", True), ("3.0", "==2.*", False), ("2.1", "!=2.1", False), ("9", "*", True),
    ("2.1-beta", ">2.0", True),
])
def test_firmware_ranges(version: str, spec: str, expected: bool) -> None:
    assert version_matches(version, spec) is expected


def test_no_contract_for_the_firmware_says_what_the_file_covers() -> None:
    with pytest.raises(ContractError, match=r"no contract covers CM-500 firmware 4\.0.*>=1\.0"):
        select(load_contracts(CM500), "CM-500", "4.0")


@pytest.mark.parametrize(("text", "message"), [
    ('format = "x"\nversion = 1', "not a contract file"),
    ('format = "brewbench-contract"\nversion = 1', "no \\[\\[contract\\]\\]"),
    ('format = "brewbench-contract"\nversion = 1\n[[contract]]\nmodel = "M"\nfirmware = "~1"',
     "firmware range clause"),
    ('format = "brewbench-contract"\nversion = 1\n[[contract]]\nmodel = "M"\nfirmware = "*"\n'
     '[contract.allow]\nsecrets = {}', "unknown category 'secrets'"),
    ("not toml [", "cannot read"),
])
def test_malformed_contracts_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ContractError, match=message):
        load_contracts(path)


@pytest.mark.parametrize("name", ["contract.toml", "regions.toml"])
def test_a_binary_contract_or_region_file_is_one_line(tmp_path: Path, name: str) -> None:
    """Bytes that are not UTF-8 (a wrong file picked) are a ContractError, never a traceback."""
    good = 'format = "brewbench-contract"\nversion = 1\n[[contract]]\nmodel = "M"\nfirmware = "*"\n'
    (tmp_path / "contract.toml").write_text(good)
    (tmp_path / name).write_bytes(b"\xf6\x00\xff garbage \x81")
    with pytest.raises(ContractError, match="cannot read the"):
        load_contracts(tmp_path / "contract.toml")


CONFTEST = '''
import pytest
from brewbench.bench.devices import open_device

pytest_plugins = ["brewbench.fixtures.contract_marker"]

@pytest.fixture
def brewbench_capture(request):
    firmware = request.node.get_closest_marker("firmware").args[0]
    with open_device(f"emu://?firmware={firmware}") as device:
        yield device.capture, device.machine
'''

TESTS = f'''
import pytest

CONTRACT = {str(CM500)!r}

@pytest.mark.firmware("1.0")
def test_fixture_passes(brewbench_capture, brewbench_contract_check, brewbench_canaries):
    capture, machine = brewbench_capture
    machine.provision(**brewbench_canaries.provisioning())
    machine.brew("latte")
    machine.sync()
    assert brewbench_contract_check(capture, CONTRACT, brewbench_canaries).ok

@pytest.mark.firmware("2.1")
def test_fixture_fails(brewbench_capture, brewbench_contract_check, brewbench_canaries):
    capture, machine = brewbench_capture
    machine.provision(**brewbench_canaries.provisioning())
    machine.brew("latte")
    machine.pay("card", 300, card=brewbench_canaries.card())
    machine.sync()
    brewbench_contract_check(capture, CONTRACT, brewbench_canaries)
'''


def test_contract_fixture_passes_and_fails_with_the_table(pytester: pytest.Pytester,
                                                          lab_key_file: Path) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\nmarkers = firmware(v)\n")
    pytester.makepyfile(test_contract=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:brewbench", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*collected data beyond its contract*",
                                 "*category*field*example*action*channel*count*why*",
                                 "*payment*RECORD.card_number*<payment *>*sync*serial*forbidden*"])


@pytest.mark.parametrize("transport", ["usb", "ble"])
def test_contracts_hold_over_usb_and_ble_links(session_of: Callable, transport: str) -> None:
    """Link-level records (BLE adverts and GATT reads, USB control transfers) fit the contract."""
    clean, leaky = session_of("1.0", transport), session_of("2.1", transport)
    verdict = check(clean.capture, CM500, clean.canaries)
    assert verdict.ok, verdict.report()
    assert ("payment", "RECORD.card_number") in {
        (v.category, v.field) for v in check(leaky.capture, CM500, leaky.canaries).violations}


MARKED = f'''
import pytest

@pytest.mark.brewbench_devices("emu://?firmware=1.0", "emu://?firmware=2.1")
@pytest.mark.brewbench_contract({str(CM500)!r})
def test_order(brewbench_machine, brewbench_capture, brewbench_canaries):
    brewbench_machine.provision(**brewbench_canaries.provisioning())
    brewbench_machine.brew("latte")
    brewbench_machine.pay("card", 300, card=brewbench_canaries.card())
    brewbench_machine.sync()
'''


def test_contract_marker_with_the_brewbench_plugin(pytester: pytest.Pytester,
                                                   lab_key_file: Path) -> None:
    pytester.makeconftest('pytest_plugins = ["brewbench.fixtures.contract_marker"]\n')
    pytester.makepyfile(test_marked=MARKED)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-v",
                                           "--brewbench-results", str(pytester.path / "out"))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_order?firmware=1.0* PASSED*",
                                 "*test_order?firmware=2.1* FAILED*",
                                 "*collected data beyond its contract*",
                                 "*identity*RECORD.owner*<identity *>*sync*serial*forbidden*"])
