"""The one-line verdict ``brewbench run`` ends with, and its exit status.

A device verdict is exit 1: a step failed, the device collected data beyond the
contract given with ``--contract``, or (with ``--fail-on-leak``) any planted
value came back. Usage errors stay exit 2 (``main``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..verify.verification import Verification

__all__ = ["RunVerdict"]


@dataclass
class RunVerdict:
    """What every device of one ``brewbench run`` gave away."""

    contract: Path | None = None
    fail_on_leak: bool = False
    failures: int = 0
    leaked: dict[str, int] = field(default_factory=dict)  # device -> planted values found
    breached: dict[str, int] = field(default_factory=dict)  # device -> contract breaches
    missing: list[str] = field(default_factory=list)  # devices that were not there: unjudged
    judged: int = 0  # devices whose capture was verified

    def add(self, spec: str, failures: int, result: Verification | None) -> None:
        """One device's result; None when it was not there (nothing to verify)."""
        if result is None:
            self.missing.append(spec)
            return
        self.judged += 1
        self.failures += failures
        if result.findings:
            self.leaked[spec] = len(result.findings)
        if result.verdict is not None and not result.verdict.ok:
            self.breached[spec] = len(result.verdict.violations)

    @property
    def exit_code(self) -> int:
        if self.failures or self.breached or self.missing or (self.fail_on_leak and self.leaked):
            return 1
        return 0

    def line(self) -> str:
        """``verdict: FAIL: ...`` / ``verdict: PASS: ...``, one line."""
        parts = []
        if self.missing:  # said first: a device never heard from is no clean result
            parts.append(f"not found, nothing judged: {', '.join(self.missing)}")
        if self.failures:
            parts.append(f"{self.failures} step(s) failed")
        if self.breached:
            parts.append(f"beyond contract {self.contract}: " + ", ".join(
                f"{spec} ({count} breach{'es' if count > 1 else ''})"
                for spec, count in self.breached.items()))
        if self.leaked:
            parts.append("planted values leaked: " + ", ".join(
                f"{spec} ({count})" for spec, count in self.leaked.items()))
        elif self.judged:
            parts.append("no planted value found")
        if self.contract is not None and self.judged and not self.breached:
            parts.append(f"within contract {self.contract}")
        status = "FAIL" if self.exit_code else ("LEAK" if self.leaked else "PASS")
        if status == "LEAK":
            parts.append("no contract judged it (--contract FILE or --fail-on-leak fail the run)")
        return f"verdict: {status}: " + "; ".join(parts)
