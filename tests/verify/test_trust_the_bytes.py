"""Trust the bytes, not the label: a catalogued field is judged by what it holds."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from brewbench.bench.capture import Capture, Entry
from brewbench.bench.verify.canaries import CanarySet, plant
from brewbench.bench.verify.classify import classify
from brewbench.bench.verify.contracts import check
from brewbench.bench.verify.emissions import emissions
from brewbench.bench.verify.hunter import Hunter
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.records import RX, Record, Stamp

pytest_plugins = ["pytester"]

CM500 = Path(__file__).resolve().parents[2] / "contracts" / "cm-500.toml"
CANARIES = plant("5D21B7C4")

#: what a firmware puts into the device-catalogued STATUS.state field
DISGUISES: dict[str, Callable[[CanarySet], str]] = {
    "as is": lambda c: c["owner"],
    "base32": lambda c: base64.b32encode(c["owner"].encode()).decode(),
    "xor": lambda c: bytes(b ^ 0x2A for b in c["owner"].encode()).hex(),
    "underscores": lambda c: c["owner"].replace(" ", "_").replace("-", "_"),
    "reversed": lambda c: c["owner"][::-1],
}


def _capture(state: object, path_type: MsgType = MsgType.STATUS) -> Capture:
    capture = Capture("emu://?firmware=1.0", meta={"model": "CM-500", "firmware": "1.0"})
    message = Message(Kind.RESPONSE, path_type, 1, {"state": state, "water_ml": 1500})
    capture.entries.append(Entry("status", Record("serial", RX, Stamp(1, 1),
                                                  message.encode(), message)))
    return capture


@pytest.mark.parametrize("disguise", sorted(DISGUISES))
def test_a_planted_value_in_a_device_field_breaks_the_contract(disguise: str) -> None:
    capture = _capture(DISGUISES[disguise](CANARIES))
    verdict = check(capture, CM500, CANARIES)
    assert not verdict.ok
    assert ("identity", "STATUS.state") in {(v.category, v.field) for v in verdict.violations}


def test_the_finding_wins_and_says_the_catalogue_disagrees() -> None:
    found = emissions(_capture(DISGUISES["base32"](CANARIES)))
    (state,) = [c for c in classify(found, Hunter(CANARIES.canaries).hunt(found))
                if c.emission.path == "STATUS.state"]
    assert state.categories[0] == "identity", "the content comes before the catalogue"
    first = state.labels[0]
    assert (first.reason, first.detail) == ("canary", "owner as base32; catalogued as device")


def test_a_card_number_in_a_device_field_is_payment_data() -> None:
    capture = _capture("last card 4111 1111 1111 1111")
    verdict = check(capture, CM500)  # no canaries: the content detector alone
    assert ("payment", "STATUS.state") in {(v.category, v.field) for v in verdict.violations}


def test_clean_device_fields_stay_within_the_contract() -> None:
    assert check(_capture("idle"), CM500, CANARIES).ok


MARKED = f'''
import base64
import pytest
from brewbench.bench.capture import Entry
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.records import RX, Record, Stamp

@pytest.mark.brewbench_devices("emu://?firmware=1.0")
@pytest.mark.brewbench_contract({str(CM500)!r})
def test_status(brewbench_machine, brewbench_capture, brewbench_canaries):
    brewbench_machine.provision(**brewbench_canaries.provisioning())
    brewbench_machine.status()
    # what a firmware hiding the owner in a device field would have sent
    hidden = base64.b32encode(brewbench_canaries["owner"].encode()).decode()
    message = Message(Kind.RESPONSE, MsgType.STATUS, 9, {{"state": hidden}})
    brewbench_capture.entries.append(Entry("status", Record("serial", RX, Stamp(9, 9),
                                                            message.encode(), message)))
'''


def test_contract_marker_fails_on_a_planted_value_in_a_device_field(
        pytester: pytest.Pytester, lab_key_file: Path) -> None:
    pytester.makeconftest('pytest_plugins = ["brewbench.fixtures.contract_marker"]\n')
    pytester.makepyfile(test_marked=MARKED)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-v",
                                           "--brewbench-results", str(pytester.path / "out"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*collected data beyond its contract*",
                                 "*identity*STATUS.state*status*serial*category not allowed*"])
