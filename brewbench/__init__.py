"""brewbench: find out, with evidence, what data a connected coffee machine collects.

The names below are the public API; everything else is internal and may move.
They load on first use, so ``import brewbench`` stays cheap::

    from brewbench import CoffeeMachine, Capture, open_device, plant, verify

    with open_device("emu://?firmware=2.1") as bench:
        canaries = plant()
        bench.machine.provision(**canaries.provisioning())
        result = verify(bench.capture, canaries)

The subpackages live in the repository's top-level folders and are imported as
``brewbench.drivers`` (host side: transports, codec, the driver),
``brewbench.emulator`` (emulated machines), ``brewbench.bench`` (capture,
verification, InfluxDB, nightly, the command) and ``brewbench.fixtures`` (the
pytest plugin, whose fixtures are the public API for tests).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # the driver and device specs
    "CoffeeMachine": "brewbench.drivers.machine",
    "Identity": "brewbench.drivers.machine",
    "DeviceSpec": "brewbench.drivers.specs",
    "parse_spec": "brewbench.drivers.specs",
    # errors
    "BrewbenchError": "brewbench.drivers.errors",
    "DeviceSpecError": "brewbench.drivers.errors",
    "DeviceError": "brewbench.drivers.errors",
    "DeviceNotFound": "brewbench.drivers.errors",
    "DeviceDisconnected": "brewbench.drivers.errors",
    "DeviceRejected": "brewbench.drivers.errors",
    "Timeout": "brewbench.drivers.errors",
    "TransferError": "brewbench.drivers.errors",
    "ProtocolError": "brewbench.drivers.errors",
    "DeviceProtocolError": "brewbench.drivers.errors",
    "LimitExceeded": "brewbench.drivers.errors",
    "FrameError": "brewbench.drivers.errors",
    "ContractError": "brewbench.bench.verify.contracts",
    "ContractViolation": "brewbench.bench.verify.contracts",
    "LabKeyError": "brewbench.bench.verify.redact",
    # a connected device and its capture
    "open_device": "brewbench.bench.devices",
    "BenchDevice": "brewbench.bench.devices",
    "Capture": "brewbench.bench.capture",
    # canaries, contracts, verification
    "Canary": "brewbench.bench.verify.canaries",
    "CanarySet": "brewbench.bench.verify.canaries",
    "plant": "brewbench.bench.verify.canaries",
    "Contract": "brewbench.bench.verify.contracts",
    "Verdict": "brewbench.bench.verify.contracts",
    "Violation": "brewbench.bench.verify.contracts",
    "load_contracts": "brewbench.bench.verify.contracts",
    "check": "brewbench.bench.verify.contracts",
    "Verification": "brewbench.bench.verify.verification",
    "verify": "brewbench.bench.verify.verification",
    # results
    "RunLog": "brewbench.bench.influx.run_log",
    # emulated machines
    "Emulator": "brewbench.emulator.serve",
    "EmulatedMachine": "brewbench.emulator.machine",
}

__all__ = [
    "BenchDevice",
    "BrewbenchError",
    "Canary",
    "CanarySet",
    "Capture",
    "CoffeeMachine",
    "Contract",
    "ContractError",
    "ContractViolation",
    "DeviceDisconnected",
    "DeviceError",
    "DeviceNotFound",
    "DeviceProtocolError",
    "DeviceRejected",
    "DeviceSpec",
    "DeviceSpecError",
    "EmulatedMachine",
    "Emulator",
    "FrameError",
    "Identity",
    "LabKeyError",
    "LimitExceeded",
    "ProtocolError",
    "RunLog",
    "Timeout",
    "TransferError",
    "Verdict",
    "Verification",
    "Violation",
    "__version__",
    "check",
    "load_contracts",
    "open_device",
    "parse_spec",
    "plant",
    "verify",
]

# __all__ is written out for linters; test_public_api checks it against _EXPORTS.

if TYPE_CHECKING:
    from .bench.capture import Capture
    from .bench.devices import BenchDevice, open_device
    from .bench.influx.run_log import RunLog
    from .bench.verify.canaries import Canary, CanarySet, plant
    from .bench.verify.contracts import (
        Contract,
        ContractError,
        ContractViolation,
        Verdict,
        Violation,
        check,
        load_contracts,
    )
    from .bench.verify.redact import LabKeyError
    from .bench.verify.verification import Verification, verify
    from .drivers.errors import (
        BrewbenchError,
        DeviceDisconnected,
        DeviceError,
        DeviceNotFound,
        DeviceProtocolError,
        DeviceRejected,
        DeviceSpecError,
        FrameError,
        LimitExceeded,
        ProtocolError,
        Timeout,
        TransferError,
    )
    from .drivers.machine import CoffeeMachine, Identity
    from .drivers.specs import DeviceSpec, parse_spec
    from .emulator.machine import EmulatedMachine
    from .emulator.serve import Emulator


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'brewbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
