"""Differential analysis: what follows a planted value, whatever the encoding.

The bench controls what it plants, so it runs one scenario several times (a
``Design``, bench.verify.diff_design): with the same planted values, to learn what
changes by itself, and with some of them changed, to see what follows them. A slot
(bench.verify.diff_slots) whose value follows a planted value is derived from it:
plain, encoded, compressed, digested, keyed-hashed, encrypted under a fixed key,
it does not matter. The runs themselves are made by bench.differential_run.

    result = analyse(design, base, variants, captures)    # one capture per run
    for finding in result.findings:
        print(finding.describe(redactor))
    verdict = differential_verdict(result, Path("contracts/cm-500.toml"))
"""

from __future__ import annotations

import dataclasses
import fnmatch
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
from .diff_align import SlotKey, align, hashable
from .diff_design import Design
from .diff_linger import Lingering, every_form, lingering
from .diff_slots import (
    ABSENT,
    DEPENDS,
    UNATTRIBUTABLE,
    SlotResult,
    analyse_slot,
    view_of,
)
from .emissions import Emission
from .redact import Redactor, plain_example
from .verification import verify

FOLLOWS = "follows"
KEPT = "kept across reset"
REASON = "differential"
MAX_LAG = 2  # sessions back a kept value is sought
# A slot missing from some runs is judged over the runs that have it only when they are
# at least half of them (a leak in three sessions of four); rarer ones are listed.
MIN_PRESENT = 0.5
SOME_RUNS = "present in only some runs"
NAMED = 12  # fields that vary by themselves named in the summary line (all in the findings file)


class DifferentialError(BrewbenchError):
    """The runs of a differential analysis do not fit its design."""


@dataclass(frozen=True)
class DiffFinding:
    """A slot that follows planted values, holds one kept from an earlier run, or
    varies and cannot be attributed.

    ``span`` is the byte (or character) range inside the value, None for the whole
    value; ``evidence`` holds (run label, value of that range) pairs as captured,
    shown redacted by ``describe`` unless raw is asked for. ``present`` is the number
    of runs that had the slot (``runs`` all of them): a leak only in some sessions.
    """

    canaries: tuple[str, ...]
    categories: tuple[str, ...]
    status: str  # FOLLOWS, KEPT or UNATTRIBUTABLE
    exact: bool
    action: str
    channel: str
    path: str
    message_type: str
    span: tuple[int, int] | None
    evidence: tuple[tuple[str, Any], ...]
    emission: Emission  # the slot as the first baseline run saw it (else the first run)
    count: int = 1  # slots of this field, action and channel that showed the same
    present: int = 0
    runs: int = 0
    lag: int = 0  # KEPT: how many runs earlier the value was planted

    @property
    def where(self) -> str:
        return self.path + (f"[{self.span[0]}:{self.span[1]}]" if self.span else "")

    @property
    def some_sessions(self) -> bool:
        return 0 < self.present < self.runs

    def describe(self, redactor: Redactor | None = None, raw: bool = False) -> str:
        """One line; evidence as keyed hashes (or categories only without a redactor)."""
        joiner = " and " if self.exact else " or "
        what = joiner.join(self.canaries)
        head = f"{what} in {self.where} on {self.channel} during {self.action}"
        if self.status == UNATTRIBUTABLE:
            how = ("varies; cannot attribute (it changes by itself, and its length "
                   f"follows {what})")
        elif self.status == KEPT:
            earlier = f"{self.lag} run{'s' if self.lag > 1 else ''} earlier" if self.lag \
                else "in an earlier run"
            how = f"kept across reset (holds {what} as planted {earlier}, not the run's own)"
        else:
            how = f"follows {what}"
        if self.some_sessions:
            how += f", only in some sessions (present in {self.present} of {self.runs} runs)"
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


@dataclass(frozen=True)
class NoiseSlot:
    """A slot that varies by itself and follows nothing planted, named with its evidence:
    ``why`` says how (between baselines, or present in only some runs)."""

    action: str
    channel: str
    path: str
    why: str
    evidence: tuple[tuple[str, Any], ...]
    count: int = 1
    present: tuple[int, int] = (0, 0)  # fewest and most runs that had one of its slots
    runs: int = 0

    @property
    def how(self) -> str:
        if self.why != SOME_RUNS:
            return self.why
        low, high = self.present
        return f"{self.why} ({low}{'-' + str(high) if high != low else ''} of {self.runs})"

    def describe(self, redactor: Redactor | None = None, raw: bool = False) -> str:
        shown = ", ".join(f"{label} {_shown(value, redactor, raw)}"
                          for label, value in self.evidence)
        times = f", {self.count} values" if self.count > 1 else ""
        return (f"{self.path} on {self.channel} during {self.action}: {self.how}{times} "
                f"({shown})")


def _shown(value: Any, redactor: Redactor | None, raw: bool) -> str:
    if value is ABSENT:
        return "absent"
    if raw:
        return plain_example(value)
    return redactor.example(value, ("unknown",)) if redactor else "<value>"


@dataclass
class DifferentialResult:
    """The outcome of one differential analysis of one device."""

    design: Design
    base: CanarySet
    variants: tuple[CanarySet, ...]
    captures: list[Capture]
    findings: list[DiffFinding] = field(default_factory=list)
    slots: int = 0
    noise: list[NoiseSlot] = field(default_factory=list)
    by_position: list[str] = field(default_factory=list)  # groups too large to align

    @property
    def variant(self) -> CanarySet:
        return self.variants[0]

    @property
    def noisy(self) -> int:
        """Slots that vary by themselves and follow nothing planted."""
        return sum(n.count for n in self.noise)

    @property
    def device(self) -> str:
        return self.captures[0].device if self.captures else "?"

    def summary(self) -> str:
        follows = sum(1 for f in self.findings if f.status == FOLLOWS)
        kept = sum(1 for f in self.findings if f.status == KEPT)
        unattributable = len(self.findings) - follows - kept
        kinds: dict[tuple[str, str], list[str]] = {}
        for n in self.noise:
            kinds.setdefault((n.path, n.why), []).append(n.action)
        named = "; ".join(f"{path} ({why}; during {', '.join(dict.fromkeys(actions))})"
                          for (path, why), actions in list(kinds.items())[:NAMED])
        more = f"; and {len(kinds) - NAMED} more" if len(kinds) > NAMED else ""
        late = (f"; aligned by position (too many messages): {', '.join(self.by_position)}"
                if self.by_position else "")
        return (f"differential: {len(self.design.runs)} runs ({self.design.kind}, "
                f"{len(self.design.baselines)} baselines, {self.design.replicates} "
                f"replicate{'s' if self.design.replicates != 1 else ''}) over "
                f"{len(self.design.names)} planted values; {self.slots} slots, {self.noisy} "
                f"vary by themselves{': ' + named + more if named else ''}; {follows} follow "
                f"planted values, {kept} kept across reset, {unattributable} vary and cannot "
                f"be attributed{late}")

    def report(self, redactor: Redactor | None = None, raw: bool = False) -> str:
        return "\n".join([*(f.describe(redactor, raw) for f in self.findings), self.summary()])


def analyse(design: Design, base: CanarySet, variants: CanarySet | Sequence[CanarySet],
            captures: Sequence[Capture]) -> DifferentialResult:
    """Compare the captures of ``design``'s runs (in order) and list what follows what.

    Raises:
        DifferentialError: not one capture per run.
    """
    if len(captures) != len(design.runs):
        raise DifferentialError(f"the {design.kind} design has {len(design.runs)} runs but "
                                f"{len(captures)} captures were given")
    variants = (variants,) if isinstance(variants, CanarySet) else tuple(variants)
    aligned = align(captures, design.baselines[0])
    per_run = aligned.runs
    keys = list(dict.fromkeys(k for run in per_run for k in run))
    result = DifferentialResult(design, base, variants, list(captures), slots=len(keys),
                                by_position=aligned.by_position)
    category = {c.name: c.category for c in base.canaries}
    groups: dict[tuple[Any, ...], DiffFinding] = {}
    noise: dict[tuple[str, ...], NoiseSlot] = {}
    for key in keys:
        values = [run[key].value if key in run else ABSENT for run in per_run]
        first = per_run[design.baselines[0]].get(key) or next(
            run[key] for run in per_run if key in run)
        judged = _judge(values, design, first.opaque)
        if judged is None:
            _merge_noise(noise, key, _noise_of(values, design))
            continue
        for found in _findings(key, values, first, judged, design, category):
            _merge(groups, key, found)
    for kept in lingering(design, base, variants, captures):
        _merge(groups, None, _kept_finding(kept, design))
    result.findings = sorted(groups.values(), key=lambda f: (f.canaries, f.path, f.action))
    result.noise = sorted(noise.values(), key=lambda n: (n.path, n.action, n.channel))
    return result


def _findings(key: SlotKey, values: list[Any], first: Emission,
              judged: tuple[int, int, list[SlotResult]], design: Design,
              category: dict[str, str]) -> list[DiffFinding]:
    lag, present, parts = judged
    out = []
    for part in parts:
        names = part.outcome.names
        status = KEPT if lag else (FOLLOWS if part.outcome.kind == DEPENDS else UNATTRIBUTABLE)
        out.append(DiffFinding(
            names, tuple(dict.fromkeys(category[n] for n in names)), status, part.outcome.exact,
            key.action, key.channel, key.path, first.message_type, part.span,
            _evidence(values, design, part.span, names, lag), first,
            present=present, runs=len(design.runs), lag=lag))
    return out


def _judge(values: list[Any], design: Design,
           opaque: bool) -> tuple[int, int, list[SlotResult]] | None:
    """(lag, runs present, the parts that follow planted values) for one slot, or None
    when it only varies by itself; a constant slot gives no parts.

    Over every run, whole values and ranges are judged as ``analyse_slot`` does. Views of
    fewer runs (the runs that have the slot; or each run judged by the values planted
    ``lag`` runs before it, which the runs after a missing first session all have) test
    more hypotheses on less evidence: there only whole values count, and only an exact
    attribution (one set of values fits, and nothing else)."""
    present = [v is not ABSENT for v in values]
    whole = all(present)
    if not whole and len({hashable(v) for v in values if v is not ABSENT}) <= 1:
        return None  # the same wherever it is: only its presence varies
    if not whole and sum(present) < MIN_PRESENT * len(values):
        return None  # an extra message now and then: too few runs to follow anything
    if not whole and len({hashable(v) for v in values if v is not ABSENT}) == sum(present):
        # new in every run that has it (a clock, a drifting sample): over a subset of the
        # runs such a value fits some set of planted values by chance, and no two runs
        # show it repeat with theirs; a value that follows a planted one repeats, since
        # each planted value takes only a few forms over a design's runs
        return None
    leading = next((i for i, p in enumerate(present) if p), len(present))
    lags = list(range(MAX_LAG + 1))
    if 0 < leading <= MAX_LAG and all(present[leading:]):
        # absent in the first sessions only, then in every one: what a value kept from
        # ``leading`` sessions before looks like, so that is asked first (over fewer
        # runs a lag-0 fit can be chance)
        lags.remove(leading)
        lags.insert(0, leading)
    for lag in lags:
        if lag and not all(present[lag:]):
            continue  # a kept value is sought only where every later session has the slot
        full = whole and not lag
        view = view_of(design, lag, None if whole or lag else present)
        found = analyse_slot(values, view, opaque, ranges=full)
        parts = [p for p in found if p.outcome.kind == DEPENDS or (
            lag == 0 and p.outcome.kind == UNATTRIBUTABLE)]
        if not full:
            parts = [p for p in parts if p.outcome.exact and p.outcome.kind == DEPENDS]
        if parts:
            return lag, sum(present), parts
        if lag == 0 and not found:
            return 0, sum(present), []  # constant over the runs that had it
    return None


def _noise_of(values: list[Any], design: Design) -> NoiseSlot:
    present = [i for i, v in enumerate(values) if v is not ABSENT]
    runs = design.runs
    if len(present) < len(values):
        picks = [present[0], next(i for i, v in enumerate(values) if v is ABSENT)]
        return NoiseSlot("", "", "", SOME_RUNS, tuple((runs[i].label, values[i]) for i in picks),
                         present=(len(present), len(present)), runs=len(values))
    else:
        b = design.baselines
        differ = [i for i in b[1:] if values[i] != values[b[0]]]
        picks = [b[0], differ[0]] if differ else [b[0]]
        why = ("varies between baselines" if differ
               else "changes in a way no planted value explains")
    return NoiseSlot("", "", "", why, tuple((runs[i].label, values[i]) for i in picks),
                     runs=len(values))


def _merge_noise(noise: dict[tuple[str, ...], NoiseSlot], key: SlotKey, slot: NoiseSlot) -> None:
    group = (key.action, key.channel, key.path, slot.why)
    if group in noise:
        old = noise[group]
        low, high = old.present
        noise[group] = dataclasses.replace(old, count=old.count + 1, present=(
            min(low, slot.present[0]), max(high, slot.present[1])))
    else:
        noise[group] = dataclasses.replace(slot, action=key.action, channel=key.channel,
                                           path=key.path)


def _kept_finding(kept: Lingering, design: Design) -> DiffFinding:
    e = kept.emission
    labels = design.runs[kept.planted_in].label, design.runs[kept.found_in].label
    evidence = ((f"planted in {labels[0]}", kept.value), (f"found in {labels[1]}", e.value))
    return DiffFinding((kept.name,), (kept.category,), KEPT, True, e.action, e.channel, e.path,
                       e.message_type, None, evidence, e, present=0, runs=len(design.runs),
                       lag=kept.found_in - kept.planted_in)


def _merge(groups: dict[tuple[Any, ...], DiffFinding], key: SlotKey | None,
           found: DiffFinding) -> None:
    group = (found.canaries, found.status, found.action, found.channel, found.path, found.span)
    if group in groups:
        old = groups[group]
        groups[group] = dataclasses.replace(old, count=old.count + (key is not None))
    else:
        groups[group] = found


def _evidence(values: Sequence[Any], design: Design, span: tuple[int, int] | None,
              names: tuple[str, ...], lag: int = 0) -> tuple[tuple[str, Any], ...]:
    """The first baseline's value (and the second's, when they differ), and the first
    run that had the slot after varying each name (``lag`` runs after, for a kept one)."""
    def cut(value: Any) -> Any:
        return value[span[0]:span[1]] if span and value is not ABSENT else value

    shifted = [b + lag for b in design.baselines if b + lag < len(values)]
    first = shifted[0]
    picks = [i for i in shifted[:2] if cut(values[i]) != cut(values[first]) or i == first]
    for name in names:  # one run per replicate: the slot followed every variant
        for replicate in range(1, design.replicates + 1):
            varied = [i + lag for i, run in enumerate(design.runs) if name in run.varied
                      and run.replicate == replicate and i + lag < len(values)]
            picks += [next((i for i in varied if values[i] is not ABSENT), varied[0])][:len(varied)]
    return tuple((design.runs[i].label, cut(values[i])) for i in dict.fromkeys(picks))


def breaches_of(finding: DiffFinding, contract: Contract) -> list[tuple[str, str]]:
    """(category, why) for each way ``finding`` breaks ``contract``, judged by the planted
    values' categories (never by what the field catalogue says the field holds).

    A finding is within the contract only where the contract names the field for that
    category explicitly (a blanket ``{}`` allows the category, not a planted value in
    any field) and, if the allowance lists ``canaries``, only those planted values. A
    value kept across a reset is never within it."""
    if finding.status == KEPT:
        return [(c, "kept across reset") for c in finding.categories]
    labels = tuple(Label(c, REASON, finding.status) for c in finding.categories)
    out = contract.breaches(Classified(finding.emission, labels))
    for category in finding.categories:
        allowed = contract.allow.get(category)
        if allowed is None or any(c == category for c, _ in out):
            continue
        matching = [p for p in allowed.fields if fnmatch.fnmatchcase(finding.path, p)]
        if all(set(p) <= {"*"} for p in matching):
            out.append((category, "field not named for it"))
        elif allowed.canaries is not None and not set(finding.canaries) <= set(allowed.canaries):
            out.append((category, f"planted {', '.join(finding.canaries)} not allowed here"))
    return out


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
        follows = {FOLLOWS: "follows", KEPT: "kept across reset:"}.get(f.status, "may follow")
        for category, why in breaches_of(f, contract):
            example = (redactor.example(f.emission.value, f.categories) if redactor
                       else f"<{category}>")
            out.append(Violation(category, f.where, example, f.action, f.channel,
                                 f"{why}; {follows} planted {', '.join(f.canaries)} "
                                 "(differential)", f.count))
    return out


def differential_verdict(result: DifferentialResult, contract: Contract | Path,
                         redactor: Redactor | None = None) -> Verdict:
    """The contract verdict over every run (hunter and classifier included, each run
    hunted for every form any run planted), plus every differential finding the contract
    does not allow. A breach seen in only some runs says in how many.

    Raises:
        ContractError: the contract file is invalid or does not cover the device.
    """
    design = result.design
    baseline = result.captures[design.baselines[0]]
    chosen = contract_for(baseline, contract)
    seen: dict[tuple[str, str, str, str], tuple[Violation, set[int]]] = {}
    hunted = every_form(result.base, result.variants)  # one hunter for every run
    for number, capture in enumerate(result.captures):
        judged = verify(capture, hunted, chosen).verdict
        assert judged is not None
        for v in judged.violations:
            key = (v.category, v.field, v.action, v.channel)
            seen.setdefault(key, (v, set()))[1].add(number)
    verdict = Verdict(chosen, baseline.device, [
        v if len(runs) == len(design.runs) else
        dataclasses.replace(v, why=f"{v.why} (in {len(runs)} of {len(design.runs)} runs)")
        for v, runs in seen.values()])
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


__all__ = [
    "FOLLOWS",
    "KEPT",
    "DiffFinding",
    "DifferentialError",
    "DifferentialResult",
    "NoiseSlot",
    "analyse",
    "breaches_of",
    "differential_verdict",
    "differential_violations",
    "findings_beyond",
]
