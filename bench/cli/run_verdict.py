"""The one-line verdict ``brewbench run`` ends with, and its exit status.

A device verdict is exit 1: a step failed, the device collected data beyond the
contract given with ``--contract``, or (with ``--fail-on-leak``) any planted
value came back, as text or said aloud in a recording (bench.verify.spoken). The
line also says which devices' recordings were not fully analysed (the
listening bounds, bench.verify.listening). Usage errors stay exit 2 (``main``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..uplink.losses import uplink_losses
from ..verify.verification import Verification

__all__ = ["RunVerdict"]

PLANTING = frozenset({"provision", "pay", "voice_order"})  # the actions that hand over planted values


@dataclass
class RunVerdict:
    """What every device of one ``brewbench run`` gave away."""

    contract: Path | None = None
    fail_on_leak: bool = False
    failures: int = 0
    leaked: dict[str, int] = field(default_factory=dict)  # device -> planted values found
    spoken: dict[str, int] = field(default_factory=dict)  # device -> of those, heard in recordings
    breached: dict[str, int] = field(default_factory=dict)  # device -> contract breaches
    unheard: dict[str, int] = field(default_factory=dict)  # device -> recordings cut by a bound
    cut: dict[str, int] = field(default_factory=dict)  # device -> records past its budget
    missing: list[str] = field(default_factory=list)  # devices that were not there: unjudged
    unplanted: list[str] = field(default_factory=list)  # judged, but no action planted a value
    judged: int = 0  # devices whose capture was verified

    def add(self, spec: str, failures: int, result: Verification | None) -> None:
        """One device's result; None when it was not there (nothing to verify)."""
        if result is None:
            self.missing.append(spec)
            return
        self.judged += 1
        self.failures += failures
        if not any(span.name in PLANTING for span in result.capture.actions):
            self.unplanted.append(spec)
        if result.leaks:
            self.leaked[spec] = result.leaks
        if result.spoken:
            self.spoken[spec] = len(result.spoken)
        if result.not_analysed:
            self.unheard[spec] = len(result.not_analysed)
        if result.verdict is not None and not result.verdict.ok:
            self.breached[spec] = len(result.verdict.violations)
        overflow = result.capture.meta.get("overflow")
        if overflow or uplink_losses(result.capture.meta):
            self.cut[spec] = int((overflow or {}).get("records", 0))

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
                f"{spec} ({count}{self._spoken(spec)})" for spec, count in self.leaked.items()))
        elif self.judged > len(self.unplanted):
            parts.append("no planted value found")
        if self.unplanted:  # a family without provisioning: nothing could come back
            parts.append(f"nothing planted on {', '.join(self.unplanted)} (no provision, pay or "
                         "voice order action: no planted value to find)")
        short = [f"{spec} ({count} recording{'s' if count > 1 else ''})"
                 for spec, count in self.unheard.items()]
        short += [f"{spec} ({count} record(s) past the capture budget)" if count else
                  f"{spec} (uplink messages lost before the capture)"
                  for spec, count in self.cut.items()]
        if short:  # a verdict on part of what a device sent says so (docs/reliability.md)
            parts.append("not fully analysed (see the printout): " + ", ".join(short))
        if self.contract is not None and self.judged and not self.breached:
            parts.append(f"within contract {self.contract}")
        status = "FAIL" if self.exit_code else ("LEAK" if self.leaked else "PASS")
        if status == "LEAK" and self.contract is None:
            parts.append("no contract judged it (--contract FILE or --fail-on-leak fail the run)")
        elif status == "LEAK":
            parts.append("the contract allows where they went (--fail-on-leak fails the run)")
        return f"verdict: {status}: " + "; ".join(parts)

    def _spoken(self, spec: str) -> str:
        count = self.spoken.get(spec, 0)
        return f", {count} spoken" if count else ""
