"""Data contracts: what a device model and firmware range may collect, and where.

A contract file is TOML (docs/data-verification.md, "Data contracts"):

    format = "brewbench-contract"
    version = 1

    [[contract]]
    model = "CM-500"
    firmware = ">=1.0, <2.0"          # comparators on dotted numbers; "*" is any
    channels = ["serial", "usb", "ble"]  # where anything may be emitted
    forbidden = ["*.card_number"]     # fields never allowed (globs on emission paths)

    [contract.allow]                  # category -> what of it may be emitted
    product = {}                      # any field, on the contract's channels
    device = {}
    payment = { fields = ["RECORD.payment_method"], channels = ["serial"] }
    identity = { fields = ["READ_LOGS.lines[]"], canaries = ["machine_name"] }

    [contract.residency]              # where each category may go over the uplink
    payment = { regions = ["eu"] }    # regions: contracts/regions.toml (bench/verify/residency.py)

``check`` classifies a capture (hunting canaries when given) and reports each
emitted field that breaks the contract, with a redacted example.
"""

from __future__ import annotations

import fnmatch
import operator
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...drivers.errors import BrewbenchError
from ..capture import Capture
from ..table import format_table
from .canaries import CanarySet
from .catalogue import CATEGORIES
from .classify import CANARY, Classified, classify
from .emissions import emissions
from .hunter import hunter_for
from .redact import Redactor
from .residency import (
    Place,
    Regions,
    Residency,
    ResidencyError,
    destination_places,
    entry_destinations,
    load_regions,
    parse_residency,
)

FORMAT = "brewbench-contract"
_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne}
_CLAUSE = re.compile(r"^(>=|<=|==|!=|>|<)?\s*(\d+(?:\.\d+)*)(\.\*)?$")


#: How a breach report reads; the nightly tells a breach from other failures by it.
BREACH = "collected data beyond its contract"
CONTRACT_KEYS = ("model", "firmware", "channels", "allow", "forbidden", "description", "residency")


class ContractError(BrewbenchError, ValueError):
    """A contract file is malformed, or none of its contracts covers the device."""


class ContractViolation(AssertionError):
    """A capture holds data its contract does not allow; the message is the table."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.report())
        self.verdict = verdict


@dataclass(frozen=True)
class Allowance:
    fields: tuple[str, ...] = ("*",)
    channels: tuple[str, ...] | None = None  # None: the contract's channels
    # Planted values (canary names) that may be found there; None: any of the category.
    # A machine's own name may be in its log, its owner's may not.
    canaries: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Contract:
    """One ``[[contract]]`` table."""

    source: str
    model: str
    firmware: str
    channels: tuple[str, ...]
    allow: dict[str, Allowance]
    forbidden: tuple[str, ...] = ()
    description: str = ""
    residency: Residency | None = None

    def covers(self, model: str, firmware: str) -> bool:
        return fnmatch.fnmatchcase(model, self.model) and version_matches(firmware, self.firmware)

    def breaches(self, item: Classified) -> list[tuple[str, str]]:
        """(category, why) for each way ``item`` breaks this contract."""
        e = item.emission
        out = []
        for category in item.categories:
            if any(fnmatch.fnmatchcase(e.path, pattern) for pattern in self.forbidden):
                out.append((category, "forbidden field"))
                continue
            allowed = self.allow.get(category)
            if allowed is None:
                out.append((category, "category not allowed"))
            elif not any(fnmatch.fnmatchcase(e.path, pattern) for pattern in allowed.fields):
                out.append((category, "field not allowed"))
            elif e.channel not in (allowed.channels or self.channels):
                out.append((category, f"not allowed on {e.channel}"))
            elif allowed.canaries is not None and (planted := _planted(item, category)) \
                    and not planted <= set(allowed.canaries):
                barred = sorted(planted - set(allowed.canaries))
                out.append((category, f"planted {', '.join(barred)} not allowed here"))
        return out


def _planted(item: Classified, category: str) -> set[str]:
    """The canaries the hunter found in ``item`` as ``category`` (its labels say which)."""
    return {label.detail.partition(" as ")[0] for label in item.labels
            if label.category == category and label.reason == CANARY}


@dataclass(frozen=True)
class Violation:
    category: str
    field: str
    example: str
    action: str
    channel: str
    why: str
    count: int = 1
    destination: str = ""  # the uplink host, for a residency breach


@dataclass
class Verdict:
    """The outcome of checking one capture against one contract."""

    contract: Contract
    device: str
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def report(self) -> str:
        head = (f"{self.device} ({self.contract.model} firmware {self.contract.firmware}, "
                f"contract {self.contract.source})")
        if self.ok:
            return f"{head}: within its data contract"
        table = format_table(("category", "field", "example", "action", "channel", "count", "why"),
                             [(v.category, v.field, v.example, v.action, v.channel, v.count, v.why)
                              for v in self.violations])
        return f"{head} {BREACH}:\n{table}"


def version_matches(version: str, spec: str) -> bool:
    """True when dotted ``version`` meets every comma-separated clause of ``spec``.

    Raises:
        ContractError: a clause or the version is not a dotted number.
    """
    if spec.strip() in ("", "*"):
        return True
    have = _numbers(version, f"firmware version {version!r}")
    for clause in spec.split(","):
        match = _CLAUSE.match(clause.strip())
        if not match:
            raise ContractError(f"firmware range clause {clause.strip()!r} is not like '>=2.0' "
                                "or '==2.*'")
        op, number, wildcard = match.groups()
        want = _numbers(number, clause)
        if wildcard:
            ok = have[: len(want)] == want if op in (None, "==") else have[: len(want)] != want
        else:
            width = max(len(have), len(want))
            ok = _COMPARATORS[op or "=="](have + (0,) * (width - len(have)),
                                          want + (0,) * (width - len(want)))
        if not ok:
            return False
    return True


def _numbers(text: str, what: str) -> tuple[int, ...]:
    head = re.match(r"\d+(?:\.\d+)*", text.strip())
    if not head:
        raise ContractError(f"{what} does not start with a dotted number")
    return tuple(int(part) for part in head.group().split("."))


def load_contracts(path: Path) -> list[Contract]:
    """Every contract in a TOML file.

    Raises:
        ContractError: the file is missing, not TOML, or not a valid contract file.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ContractError(f"{path}: cannot read the contract: {exc}") from exc
    if data.get("format") != FORMAT or data.get("version") != 1:
        raise ContractError(f"{path}: not a contract file; it must start with "
                            f'format = "{FORMAT}" and version = 1')
    tables = data.get("contract")
    if not isinstance(tables, list) or not tables:
        raise ContractError(f"{path}: no [[contract]] tables")
    regions = _regions(path, data.get("regions"), data.get("countries"))
    return [_contract(path, n, table, regions) for n, table in enumerate(tables, 1)]


def _regions(path: Path, source: Any, countries: Any = None) -> Regions:
    """The file's region table: inline, a file named relative to it, or regions.toml beside it."""
    try:
        if isinstance(source, dict):
            return load_regions(source, countries if isinstance(countries, dict) else None)
        if isinstance(source, str):
            return load_regions(path.parent / source)
        beside = path.parent / "regions.toml"
        return load_regions(beside) if beside.exists() else Regions()
    except ResidencyError as exc:
        raise ContractError(f"{path}: {exc}") from exc


def _contract(path: Path, number: int, table: dict[str, Any], regions: Regions) -> Contract:
    where = f"{path}: contract #{number}"
    unknown = set(table) - set(CONTRACT_KEYS)
    if unknown:  # a typo would otherwise drop a rule in silence
        raise ContractError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: "
                            f"{', '.join(CONTRACT_KEYS)}")
    missing = [key for key in ("model", "firmware") if key not in table]
    if missing:
        raise ContractError(f"{where}: needs {' and '.join(missing)}")
    allow = {}
    for category, rules in dict(table.get("allow", {})).items():
        if category not in CATEGORIES:
            raise ContractError(f"{where}: unknown category {category!r}; known: "
                                f"{', '.join(CATEGORIES)}")
        channels = rules.get("channels")
        canaries = rules.get("canaries")
        allow[category] = Allowance(tuple(rules.get("fields", ("*",))),
                                    tuple(channels) if channels is not None else None,
                                    tuple(canaries) if canaries is not None else None)
    try:
        residency = (parse_residency(where, table["residency"], regions, CATEGORIES)
                     if "residency" in table else None)
    except ResidencyError as exc:
        raise ContractError(str(exc)) from exc
    contract = Contract(str(path), str(table["model"]), str(table["firmware"]),
                        tuple(table.get("channels", ("serial", "usb", "ble", "ble-adv"))), allow,
                        tuple(table.get("forbidden", ())), str(table.get("description", "")),
                        residency)
    version_matches("0", contract.firmware)  # reject a malformed range now, not mid-run
    return contract


def select(contracts: Sequence[Contract], model: str, firmware: str) -> Contract:
    """The first contract covering ``model`` at ``firmware``.

    Raises:
        ContractError: none does (the message lists what the file covers).
    """
    for contract in contracts:
        if contract.covers(model, firmware):
            return contract
    covered = "; ".join(f"{c.model} {c.firmware}" for c in contracts) or "nothing"
    raise ContractError(f"no contract covers {model} firmware {firmware} (the file covers: "
                        f"{covered}); add a [[contract]] for it")


def check(capture: Capture, contract: Contract | Path, canaries: CanarySet | None = None,
          redactor: Redactor | None = None) -> Verdict:
    """Check what ``capture``'s device emitted against a contract (or a contract file).

    The model and firmware come from ``capture.meta`` when a file is given.

    Raises:
        ContractError: the file is invalid or no contract in it covers the device.
    """
    contract = contract_for(capture, contract)
    found = emissions(capture)
    findings = hunter_for(canaries.canaries).hunt(found) if canaries else []
    classified = classify(found, findings, canaries.names() if canaries else ())
    return judge(classified, contract, capture.device, redactor,
                 entry_destinations(capture, found), destination_places(capture))


def contract_for(capture: Capture, contract: Contract | Path) -> Contract:
    """``contract`` itself, or the one in that file covering the capture's device.

    Raises:
        ContractError: the file is invalid, no contract covers the device, or the
            capture does not say which model and firmware it is.
    """
    if isinstance(contract, Contract):
        return contract
    model, firmware = capture.meta.get("model"), capture.meta.get("firmware")
    if model is None or firmware is None:
        raise ContractError(f"{capture.device}: the capture does not say which model and "
                            "firmware it is (identify the device before checking)")
    return select(load_contracts(contract), str(model), str(firmware))


def judge(classified: Sequence[Classified], contract: Contract, device: str,
          redactor: Redactor | None = None,
          destinations: Mapping[int, str] | None = None,
          places: Mapping[str, Place] | None = None) -> Verdict:
    """The verdict on already classified emissions.

    ``destinations`` maps a capture entry to the host it was sent to (uplink
    records); the contract's residency rules judge those, by where ``places`` says
    each host's address is when the lab network placed it.
    """
    grouped: dict[tuple[str, str, str, str, str, str], list[Classified]] = {}
    for item in classified:
        e = item.emission
        breaches = [(category, why, "") for category, why in contract.breaches(item)]
        host = (destinations or {}).get(e.entry)
        if host is not None and contract.residency is not None:
            place = (places or {}).get(host)
            breaches += [(category, why, host) for category in item.categories
                         if (why := contract.residency.breach(category, host, place))]
        for category, why, where in breaches:
            grouped.setdefault((category, e.path, e.action, e.channel, why, where), []).append(item)
    verdict = Verdict(contract, device)
    for (category, path, action, channel, why, where), items in grouped.items():
        example = (redactor.example(items[0].emission.value, items[0].categories) if redactor
                   else f"<{category}>")
        verdict.violations.append(Violation(category, path, example, action, channel, why,
                                            len(items), where))
    verdict.violations.sort(key=lambda v: (CATEGORIES.index(v.category), v.field, v.action))
    return verdict


def assert_contract(capture: Capture, contract: Contract | Path,
                    canaries: CanarySet | None = None, redactor: Redactor | None = None) -> Verdict:
    """``check``, raising ContractViolation (an AssertionError) with the table on a breach."""
    verdict = check(capture, contract, canaries, redactor)
    if not verdict.ok:
        raise ContractViolation(verdict)
    return verdict
