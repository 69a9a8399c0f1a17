"""The public API: what ``brewbench.__all__`` promises, and that each name is real."""

from __future__ import annotations

import subprocess
import sys

import brewbench

EXPECTED = {
    "__version__", "CoffeeMachine", "Identity", "DeviceSpec", "parse_spec",
    "BrewbenchError", "DeviceSpecError", "DeviceError", "DeviceNotFound", "DeviceDisconnected",
    "DeviceRejected", "Timeout", "TransferError", "ProtocolError", "FrameError",
    "DeviceProtocolError", "LimitExceeded",
    "ContractError", "ContractViolation", "LabKeyError",
    "open_device", "BenchDevice", "Capture",
    "Canary", "CanarySet", "plant", "Contract", "Verdict", "Violation", "load_contracts", "check",
    "Verification", "verify", "RunLog", "Emulator", "EmulatedMachine",
}


def test_all_lists_exactly_the_public_api() -> None:
    assert set(brewbench.__all__) == EXPECTED


def test_every_public_name_resolves_to_what_its_module_defines() -> None:
    for name in brewbench.__all__:
        value = getattr(brewbench, name)
        if name != "__version__":
            assert value.__name__ == name, name


def test_every_error_the_api_names_derives_from_brewbench_error() -> None:
    errors = [getattr(brewbench, n) for n in brewbench.__all__ if n.endswith("Error") or n in
              ("DeviceNotFound", "DeviceDisconnected", "DeviceRejected", "Timeout",
                                                 "LimitExceeded")]
    assert errors and all(issubclass(e, brewbench.BrewbenchError) for e in errors)


def test_importing_brewbench_loads_no_subpackage() -> None:
    code = "import sys, brewbench; print(sorted(m for m in sys.modules if m.startswith('brewbench.')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        brewbench.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("brewbench.NoSuchThing resolved")


def test_all_and_the_lazy_table_agree() -> None:
    assert set(brewbench.__all__) - {"__version__"} == set(brewbench._EXPORTS)
