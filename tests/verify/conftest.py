"""Shared fixtures of the data-verification tests: a full session per firmware profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import open_device
from brewbench.bench.verify.canaries import CanarySet, plant
from brewbench.drivers.machine import CoffeeMachine


@dataclass(frozen=True)
class Session:
    firmware: str
    capture: Capture
    canaries: CanarySet


def drive(machine: CoffeeMachine, canaries: CanarySet) -> None:
    """Every action, with this run's canaries planted as an installer and a customer would."""
    machine.status()
    machine.provision(**canaries.provisioning())
    machine.brew("latte", strength=4, size_ml=250, milk="oat", ingredients=["espresso", "oat"])
    machine.pay("card", 350, card=canaries.card())
    machine.brew("espresso", strength=5, size_ml=40)
    machine.pay("cash", 220)
    machine.sync()
    machine.read_logs()
    machine.reset("soft")


def run_session(firmware: str, transport: str = "serial") -> Session:
    """Drive an emulated machine of ``firmware`` over a real link (serial: a pty)."""
    canaries = plant()
    with open_device(f"emu://?firmware={firmware}&transport={transport}") as device:
        drive(device.machine, canaries)
        return Session(firmware, device.capture, canaries)


@pytest.fixture(scope="session")
def session_of() -> Callable[..., Session]:
    """``session_of("2.2")``: one full session per firmware and link, shared by the tests."""
    sessions: dict[tuple[str, str], Session] = {}

    def get(firmware: str, transport: str = "serial") -> Session:
        if (firmware, transport) not in sessions:
            sessions[firmware, transport] = run_session(firmware, transport)
        return sessions[firmware, transport]
    return get


@pytest.fixture(autouse=True)
def lab_key_file(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Each test gets its own lab key file, so no test touches the real ~/.config."""
    path = tmp_path_factory.mktemp("labkey") / "lab.key"
    monkeypatch.setenv("BREWBENCH_LAB_KEY_FILE", str(path))
    return path
