"""Residency: where each category of data may go when a device sends it to its cloud.

A data contract's ``[contract.residency]`` table maps a category (or ``"*"`` for
every other one) to the destinations allowed for it, as host name globs, regions,
or both:

    [contract.residency]
    payment = { regions = ["eu"] }
    "*" = { hosts = ["*.acme-cloud.example"] }

Regions come from a lab-maintained table of host globs (``contracts/regions.toml``
or the contract file's own ``[regions]``):

    format = "brewbench-regions"
    version = 1
    [regions]
    eu = ["*.eu-central-1.*", "*.eu-west-1.*"]
    us = ["*.us-east-1.*"]

A destination is the host an uplink record was meant for (its ``meta["host"]``);
records on the control link have none and are not judged here.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...drivers.errors import BrewbenchError
from ..capture import Capture
from .classify import Classified
from .emissions import Emission

REGIONS_FORMAT = "brewbench-regions"
ANY_CATEGORY = "*"


class ResidencyError(BrewbenchError, ValueError):
    """A residency rule or region table is malformed."""


@dataclass(frozen=True)
class Regions:
    """Region name -> host globs; the first region with a matching glob wins."""

    table: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def region_of(self, host: str) -> str | None:
        for region, globs in self.table.items():
            if any(fnmatch.fnmatchcase(host.lower(), glob.lower()) for glob in globs):
                return region
        return None


@dataclass(frozen=True)
class Rule:
    """Where one category may go: any host matching ``hosts`` or in one of ``regions``."""

    hosts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def breach(self, host: str, regions: Regions) -> str | None:
        """Why sending to ``host`` breaks this rule, or None when it is allowed."""
        if any(fnmatch.fnmatchcase(host.lower(), glob.lower()) for glob in self.hosts):
            return None
        region = regions.region_of(host)
        if region is not None and region in self.regions:
            return None
        allowed = ", ".join([*(f"region {r}" for r in self.regions), *self.hosts]) or "nowhere"
        return f"sent to {host} (region {region or 'unmapped'}); allowed: {allowed}"


@dataclass(frozen=True)
class Residency:
    """A contract's residency rules and the region table they use."""

    rules: Mapping[str, Rule]
    regions: Regions = Regions()

    def breach(self, category: str, host: str) -> str | None:
        rule = self.rules.get(category, self.rules.get(ANY_CATEGORY))
        return None if rule is None else rule.breach(host, self.regions)


def destination_of(capture: Capture, entry: int) -> str | None:
    """The host a captured record was sent to (uplink records), else None."""
    host = capture.entries[entry].record.meta.get("host")
    return str(host) if host else None


def entry_destinations(capture: Capture, found: Sequence[Emission]) -> dict[int, str]:
    """Capture entry -> the host it was sent to, for the entries of ``found`` that have one."""
    out = {}
    for e in found:
        if e.entry not in out and (host := destination_of(capture, e.entry)):
            out[e.entry] = host
    return out


def destinations(capture: Capture, classified: Sequence[Classified]
                 ) -> dict[str, dict[str, int]]:
    """Per category, each destination that received it and how many values."""
    out: dict[str, dict[str, int]] = {}
    for item in classified:
        host = destination_of(capture, item.emission.entry)
        if host is None:
            continue
        for category in item.categories:
            hosts = out.setdefault(category, {})
            hosts[host] = hosts.get(host, 0) + 1
    return {category: dict(sorted(hosts.items())) for category, hosts in sorted(out.items())}


def parse_residency(where: str, table: Mapping[str, Any], regions: Regions,
                    categories: Sequence[str]) -> Residency:
    """``[contract.residency]`` as rules.

    Raises:
        ResidencyError: an unknown category, key or region.
    """
    rules = {}
    for category, spec in table.items():
        if category != ANY_CATEGORY and category not in categories:
            raise ResidencyError(f"{where}: residency for unknown category {category!r}")
        if not isinstance(spec, Mapping) or set(spec) - {"hosts", "regions"}:
            raise ResidencyError(f"{where}: residency.{category} must be a table of hosts "
                                 "and/or regions")
        unknown = [r for r in spec.get("regions", ()) if r not in regions.table]
        if unknown:
            raise ResidencyError(f"{where}: residency.{category} names regions not in the "
                                 f"region table: {', '.join(unknown)}")
        rules[category] = Rule(tuple(spec.get("hosts", ())), tuple(spec.get("regions", ())))
    return Residency(rules, regions)


def load_regions(source: Path | Mapping[str, Any]) -> Regions:
    """A region table from a ``brewbench-regions`` file or an inline ``[regions]`` table.

    Raises:
        ResidencyError: the file is missing, not TOML or not a region table.
    """
    table: Mapping[str, Any] = source if not isinstance(source, Path) else {}
    if isinstance(source, Path):
        try:
            data = tomllib.loads(source.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ResidencyError(f"{source}: cannot read the region table: {exc}") from exc
        if data.get("format") != REGIONS_FORMAT or data.get("version") != 1:
            raise ResidencyError(f'{source}: not a region table (format = "{REGIONS_FORMAT}", '
                                 "version = 1)")
        table = data.get("regions", {})
    regions = {str(region): tuple(str(g) for g in globs) for region, globs in table.items()
               if isinstance(globs, list)}
    if len(regions) != len(table):
        raise ResidencyError("a region table maps each region to a list of host globs")
    return Regions(regions)


__all__ = ["ANY_CATEGORY", "REGIONS_FORMAT", "Regions", "Residency", "ResidencyError", "Rule",
           "destination_of", "destinations", "entry_destinations", "load_regions", "parse_residency"]
