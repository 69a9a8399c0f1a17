"""One call from a capture to everything the bench verifies about it.

    result = verify(capture, canaries=canaries, contract=Path("contracts/cm-500.toml"))
    result.findings          # canaries found (bench.hunter)
    result.verdict           # contract check, or None without a contract

``bench.influx.verification_points`` turns a ``Verification`` into InfluxDB points;
this module knows nothing of InfluxDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..capture import Capture
from .canaries import CanarySet
from .classify import Classified, classify
from .contracts import Contract, Verdict, contract_for, judge
from .emissions import emissions
from .hunter import Finding, Hunter
from .residency import entry_destinations


@dataclass(frozen=True)
class Verification:
    """What the bench found in one capture."""

    capture: Capture
    classified: list[Classified]
    findings: list[Finding]
    verdict: Verdict | None
    problems: list[str] = field(default_factory=list)  # records that could not be analysed


def verify(capture: Capture, canaries: CanarySet | None = None,
           contract: Contract | Path | None = None) -> Verification:
    """Classify what the device emitted, hunt ``canaries``, check ``contract``.

    Raises:
        ContractError: the contract file is invalid or does not cover the device.
    """
    chosen = contract_for(capture, contract) if contract is not None else None
    problems: list[str] = []
    found = emissions(capture, problems=problems)
    findings = Hunter(canaries.canaries).hunt(found) if canaries else []
    classified = classify(found, findings, canaries.names() if canaries else ())
    verdict = (judge(classified, chosen, capture.device,
                     destinations=entry_destinations(capture, found))
               if chosen is not None else None)
    return Verification(capture, classified, findings, verdict, problems)
