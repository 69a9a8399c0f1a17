"""Run one scenario several times against a device for a differential analysis.

Each run opens the device afresh, resets it to factory settings when it can and
plays the scenario with that run's planted values. Nothing one run planted should
linger into the next, but an untrusted device may keep it anyway (in flash, across
the reset): the analysis looks for exactly that, and reports it as a finding. Any
device with a provisioning action works: the scenario plants the values.
bench.verify.differential compares the captures.

    result = run_differential("emu://?firmware=2.3")
    print(result.report(Redactor.from_lab_key()))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..drivers.errors import BrewbenchError
from ..drivers.machine import CoffeeMachine
from .capture import Capture
from .devices import open_device
from .scenario import standard_steps, steps_for
from .verify.canaries import CanarySet, plant
from .verify.diff_design import REPLICATES, make_design, planted_for, variants_of
from .verify.differential import DifferentialError, DifferentialResult, analyse

Scenario = Callable[[CoffeeMachine, CanarySet], Any]
Progress = Callable[[str], None]


def standard_scenario(machine: CoffeeMachine, canaries: CanarySet) -> None:
    """The standard session (bench.scenario) planting ``canaries``."""
    for step in steps_for(machine, standard_steps(canaries.provisioning(), card=canaries.card())):
        step.run(machine)


def run_differential(spec: str, scenario: Scenario = standard_scenario, *,
                     design: str = "one-at-a-time", baselines: int = 3,
                     replicates: int = REPLICATES, canaries: CanarySet | None = None,
                     timeout: float = 3.0, order: int | None = None,
                     progress: Progress | None = None) -> DifferentialResult:
    """Run ``scenario`` once per run of the design against ``spec`` and analyse it;
    ``order`` seeds the order of the later replicates' runs (None: fresh each time).

    Raises:
        DifferentialError: an unknown design, too few baselines or replicates, or a
            run failed (the message names it and its cause).
        DeviceSpecError, DeviceNotFound: the device cannot be opened.
    """
    base = canaries or plant()
    try:
        plan = make_design(tuple(c.name for c in base.canaries), design, baselines, replicates,
                           order)
    except ValueError as exc:
        raise DifferentialError(str(exc)) from exc
    variants = variants_of(base, plan)
    captures: list[Capture] = []
    for number, run in enumerate(plan.runs, 1):
        if progress is not None:
            progress(f"differential run {number}/{len(plan.runs)}: {run.label}")
        captures.append(_one_run(spec, scenario, planted_for(run, base, variants), timeout,
                                 f"run {number} ({run.label})"))
    return analyse(plan, base, variants, captures)


def _one_run(spec: str, scenario: Scenario, planted: CanarySet, timeout: float,
             label: str) -> Capture:
    with open_device(spec, timeout=timeout) as device:
        try:
            if "reset" in getattr(device.machine, "features", ()):
                device.machine.reset("factory")  # what it keeps anyway is a finding
            scenario(device.machine, planted)
        except BrewbenchError as exc:
            raise DifferentialError(f"{spec}: differential {label} failed: {exc}") from exc
    return device.capture


__all__ = ["Scenario", "run_differential", "standard_scenario"]
