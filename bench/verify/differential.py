"""Differential analysis: what follows a planted value, whatever the encoding.

The bench controls what it plants, so it runs one scenario several times (a
``Design``, bench.verify.diff_design): with the same planted values, to learn what
changes by itself, and with some of them changed, to see what follows them. A slot
(bench.verify.diff_slots) whose value follows a planted value is derived from it:
plain, encoded, compressed, digested, keyed-hashed, encrypted under a fixed key,
it does not matter. The runs themselves are made by bench.differential_run.

    result = analyse(design, base, variant, captures)     # one capture per run
    for finding in result.findings:
        print(finding.describe(redactor))
    verdict = differential_verdict(result, Path("contracts/cm-500.toml"))
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...drivers.errors import BrewbenchError
from ..capture import Capture
from .canaries import CanarySet
from .catalogue import CATEGORIES
from .classify import Classified, Label
from .contracts import Contract, Verdict, Violation, contract_for
from .diff_design import Design
from .diff_slots import (
    ABSENT,
    DEPENDS,
    NOISE,
    UNATTRIBUTABLE,
    SlotKey,
    analyse_slot,
    slots,
)
from .emissions import Emission
from .redact import Redactor, plain_example
from .verification import verify

FOLLOWS = "follows"
REASON = "differential"


class DifferentialError(BrewbenchError):
    """The runs of a differential analysis do not fit its design."""


@dataclass(frozen=True)
class DiffFinding:
    """A slot that follows planted values, or varies and cannot be attributed.

    ``span`` is the byte (or character) range inside the value, None for the whole
    value; ``evidence`` holds (run label, value of that range) pairs as captured,
    shown redacted by ``describe`` unless raw is asked for.
    """

    canaries: tuple[str, ...]
    categories: tuple[str, ...]
    status: str  # FOLLOWS or UNATTRIBUTABLE
    exact: bool
    action: str
    channel: str
    path: str
    message_type: str
    span: tuple[int, int] | None
    evidence: tuple[tuple[str, Any], ...]
    emission: Emission  # the slot as the first baseline run saw it
    count: int = 1  # slots of this field, action and channel that showed the same

    @property
    def where(self) -> str:
        return self.path + (f"[{self.span[0]}:{self.span[1]}]" if self.span else "")

    def describe(self, redactor: Redactor | None = None, raw: bool = False) -> str:
        """One line; evidence as keyed hashes (or categories only without a redactor)."""
        joiner = " and " if self.exact else " or "
        what = joiner.join(self.canaries)
        head = f"{what} in {self.where} on {self.channel} during {self.action}"
        how = ("varies; cannot attribute (it changes by itself, and its length follows "
               f"{what})" if self.status == UNATTRIBUTABLE else f"follows {what}")
        shown = ", ".join(f"{label} {self._show(value, redactor, raw)}"
                          for label, value in self.evidence)
        times = f", {self.count} values" if self.count > 1 else ""
        return f"{head}: {how}{times} ({shown})"

    def _show(self, value: Any, redactor: Redactor | None, raw: bool) -> str:
        if value is ABSENT:
            return "absent"
        if raw:
            return plain_example(value)
        if redactor is None:
            return f"<{'/'.join(self.categories)}>"
        return redactor.example(value, self.categories)


@dataclass
class DifferentialResult:
    """The outcome of one differential analysis of one device."""

    design: Design
    base: CanarySet
    variant: CanarySet
    captures: list[Capture]
    findings: list[DiffFinding] = field(default_factory=list)
    slots: int = 0
    noisy: int = 0  # slots that vary by themselves and follow nothing planted

    @property
    def device(self) -> str:
        return self.captures[0].device if self.captures else "?"

    def summary(self) -> str:
        follows = sum(1 for f in self.findings if f.status == FOLLOWS)
        unattributable = len(self.findings) - follows
        return (f"differential: {len(self.design.runs)} runs ({self.design.kind}, "
                f"{len(self.design.baselines)} baselines) over {len(self.design.names)} planted "
                f"values; {self.slots} slots, {self.noisy} vary by themselves; {follows} "
                f"follow planted values, {unattributable} vary and cannot be attributed")

    def report(self, redactor: Redactor | None = None, raw: bool = False) -> str:
        return "\n".join([*(f.describe(redactor, raw) for f in self.findings), self.summary()])


def analyse(design: Design, base: CanarySet, variant: CanarySet,
            captures: Sequence[Capture]) -> DifferentialResult:
    """Compare the captures of ``design``'s runs (in order) and list what follows what.

    Raises:
        DifferentialError: not one capture per run.
    """
    if len(captures) != len(design.runs):
        raise DifferentialError(f"the {design.kind} design has {len(design.runs)} runs but "
                                f"{len(captures)} captures were given")
    per_run = [slots(c) for c in captures]
    keys = list(dict.fromkeys(k for run in per_run for k in run))
    result = DifferentialResult(design, base, variant, list(captures), slots=len(keys))
    category = {c.name: c.category for c in base.canaries}
    groups: dict[tuple[Any, ...], DiffFinding] = {}
    for key in keys:
        values = [run[key].value if key in run else ABSENT for run in per_run]
        first = next(run[key] for run in per_run if key in run)
        parts = analyse_slot(values, design, first.opaque)
        if any(p.outcome.kind == NOISE for p in parts):
            result.noisy += 1
        for part in parts:
            if part.outcome.kind not in (DEPENDS, UNATTRIBUTABLE):
                continue
            names = part.outcome.names
            found = DiffFinding(
                names, tuple(dict.fromkeys(category[n] for n in names)),
                FOLLOWS if part.outcome.kind == DEPENDS else UNATTRIBUTABLE, part.outcome.exact,
                key.action, key.channel, key.path, first.message_type, part.span,
                _evidence(values, design, part.span, names), first)
            _merge(groups, key, found)
    result.findings = sorted(groups.values(), key=lambda f: (f.canaries, f.path, f.action))
    return result


def _merge(groups: dict[tuple[Any, ...], DiffFinding], key: SlotKey, found: DiffFinding) -> None:
    group = (found.canaries, found.status, key.action, key.channel, key.path, found.span)
    if group in groups:
        old = groups[group]
        groups[group] = dataclasses.replace(old, count=old.count + 1)
    else:
        groups[group] = found


def _evidence(values: Sequence[Any], design: Design, span: tuple[int, int] | None,
              names: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    """The first baseline's value (and the second's, when they differ), and the first
    run varying each name."""
    def cut(value: Any) -> Any:
        return value[span[0]:span[1]] if span and value is not ABSENT else value

    picks = [i for i in design.baselines[:2] if cut(values[i]) != cut(values[design.baselines[0]])
             or i == design.baselines[0]]
    for name in names:
        picks.append(next(i for i, run in enumerate(design.runs) if name in run.varied))
    return tuple((design.runs[i].label, cut(values[i])) for i in dict.fromkeys(picks))


def breaches_of(finding: DiffFinding, contract: Contract) -> list[tuple[str, str]]:
    """(category, why) for each way ``finding`` breaks ``contract``, judged by the planted
    values' categories (never by what the field catalogue says the field holds)."""
    labels = tuple(Label(c, REASON, finding.status) for c in finding.categories)
    return contract.breaches(Classified(finding.emission, labels))


def findings_beyond(result: DifferentialResult, contract: Contract | None) -> list[DiffFinding]:
    """The findings ``contract`` does not allow; without a contract, all of them."""
    if contract is None:
        return list(result.findings)
    return [f for f in result.findings if breaches_of(f, contract)]


def differential_violations(result: DifferentialResult, contract: Contract,
                            redactor: Redactor | None = None) -> list[Violation]:
    """The findings the contract does not allow, as contract violations."""
    out = []
    for f in result.findings:
        follows = "follows" if f.status == FOLLOWS else "may follow"
        for category, why in breaches_of(f, contract):
            example = (redactor.example(f.emission.value, f.categories) if redactor
                       else f"<{category}>")
            out.append(Violation(category, f.where, example, f.action, f.channel,
                                 f"{why}; {follows} planted {', '.join(f.canaries)} "
                                 "(differential)", f.count))
    return out


def differential_verdict(result: DifferentialResult, contract: Contract | Path,
                         redactor: Redactor | None = None) -> Verdict:
    """The contract verdict on the first baseline run (hunter and classifier included),
    plus every differential finding the contract does not allow.

    Raises:
        ContractError: the contract file is invalid or does not cover the device.
    """
    baseline = result.captures[result.design.baselines[0]]
    chosen = contract_for(baseline, contract)
    verdict = verify(baseline, result.base, chosen).verdict
    assert verdict is not None
    at = {(v.category, v.field, v.action, v.channel): i for i, v in enumerate(verdict.violations)}
    for v in differential_violations(result, chosen, redactor):
        same = at.get((v.category, _field_of(v.field), v.action, v.channel))
        if same is None:
            verdict.violations.append(v)
        else:  # already a breach: say that the differential runs confirm it
            old = verdict.violations[same]
            verdict.violations[same] = dataclasses.replace(
                old, why=old.why + v.why[v.why.index(";"):])
    verdict.violations.sort(key=lambda v: (CATEGORIES.index(v.category), v.field, v.action))
    return verdict


def _field_of(where: str) -> str:
    return re.sub(r"\[\d+:\d+\]$", "", where)


__all__ = ["FOLLOWS", "DiffFinding", "DifferentialError", "DifferentialResult", "analyse",
           "breaches_of", "differential_verdict", "differential_violations", "findings_beyond"]
