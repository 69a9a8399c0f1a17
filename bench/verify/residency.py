"""Residency: where each category of data may go when a device sends it to its cloud.

A data contract's ``[contract.residency]`` table maps a category (or ``"*"`` for
every other one) to the destinations allowed for it, as host name globs, regions,
or both:

    [contract.residency]
    payment = { regions = ["eu"] }
    "*" = { hosts = ["*.acme-cloud.example"] }

Regions come from a lab-maintained table of host globs and, for destinations
the lab network placed by address, countries (``contracts/regions.toml`` or the
contract file's own ``[regions]`` / ``[countries]``):

    format = "brewbench-regions"
    version = 1
    [regions]
    eu = ["*.eu-central-1.*", "*.eu-west-1.*"]
    us = ["*.us-east-1.*"]
    [countries]
    eu = ["DE", "FR", ...]
    cn = ["CN"]

A rule may also name ``countries`` and ``operators`` (globs) itself:
``payment = { countries = ["DE"], operators = ["Hetzner*"] }``.

A destination is the host an uplink record was meant for (its ``meta["host"]``);
records on the control link have none and are not judged here. When the lab
network placed that host by address (``capture.meta["labnet"]["destinations"]``,
bench/labnet/), its region is where the address is located, whatever the host
name says: a name with ``eu-central-1`` in it that resolves to an address located
in CN is in region ``cn``. A ``hosts`` glob still allows a host by name.
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
RULE_KEYS = ("hosts", "regions", "countries", "operators")


class ResidencyError(BrewbenchError, ValueError):
    """A residency rule or region table is malformed."""


Place = Mapping[str, Any]  # where the lab network placed a host: located, registered, operator, asn


@dataclass(frozen=True)
class Regions:
    """Region name -> host globs; the first region with a matching glob wins. ``countries``
    maps a region to the ISO country codes it covers, for destinations placed by address."""

    table: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    countries: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def region_of(self, host: str, place: Place | None = None) -> str | None:
        if place is not None and place.get("located"):
            return self.region_of_country(str(place["located"]))
        for region, globs in self.table.items():
            if any(fnmatch.fnmatchcase(host.lower(), glob.lower()) for glob in globs):
                return region
        return None

    def region_of_country(self, country: str) -> str | None:
        for region, codes in self.countries.items():
            if country.upper() in codes:
                return region
        return None

    def names(self) -> set[str]:
        return set(self.table) | set(self.countries)


@dataclass(frozen=True)
class Rule:
    """Where one category may go: any host matching ``hosts``, in one of ``regions``, or
    (placed by address) located in one of ``countries`` or run by one of ``operators``."""

    hosts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()

    def breach(self, host: str, regions: Regions, place: Place | None = None) -> str | None:
        """Why sending to ``host`` (at ``place``, when placed) breaks this rule, or None."""
        if any(fnmatch.fnmatchcase(host.lower(), glob.lower()) for glob in self.hosts):
            return None
        region = regions.region_of(host, place)
        if region is not None and region in self.regions:
            return None
        if place is not None and self._allows_place(place):
            return None
        allowed = ", ".join([*(f"region {r}" for r in self.regions), *self.hosts,
                             *(f"country {c}" for c in self.countries),
                             *(f"operator {o}" for o in self.operators)]) or "nowhere"
        return f"sent to {host}{_at(host, place)} (region {region or 'unmapped'}); allowed: {allowed}"

    def _allows_place(self, place: Place) -> bool:
        located = str(place.get("located", "")).upper()
        operator = str(place.get("operator", "")).lower()
        return (bool(located) and located in self.countries) or any(
            fnmatch.fnmatchcase(operator, glob.lower()) for glob in self.operators)


def _at(host: str, place: Place | None) -> str:
    """Where a placed destination is, for the violation's sentence."""
    if place is None or not place.get("located"):
        return ""
    asn = f" AS{place['asn']}" if place.get("asn") else ""
    address = place.get("address", "?")
    return (f"{'' if address == host else f' at {address}'}, located {place['located']}, "
            f"registered {place.get('registered', '?')}, operator {place.get('operator', '?')}{asn}")


@dataclass(frozen=True)
class Residency:
    """A contract's residency rules and the region table they use."""

    rules: Mapping[str, Rule]
    regions: Regions = Regions()

    def breach(self, category: str, host: str, place: Place | None = None) -> str | None:
        rule = self.rules.get(category, self.rules.get(ANY_CATEGORY))
        return None if rule is None else rule.breach(host, self.regions, place)


def destination_places(capture: Capture) -> dict[str, Place]:
    """Host -> where the lab network placed it by address (empty without a lab network)."""
    lab = capture.meta.get("labnet")
    found = lab.get("destinations") if isinstance(lab, Mapping) else None
    if not isinstance(found, Mapping):
        return {}
    return {str(host): place for host, place in found.items()
            if isinstance(place, Mapping) and place.get("network")}


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
        if not isinstance(spec, Mapping) or set(spec) - set(RULE_KEYS):
            raise ResidencyError(f"{where}: residency.{category} must be a table of "
                                 f"{', '.join(RULE_KEYS)}")
        unknown = [r for r in spec.get("regions", ()) if r not in regions.names()]
        if unknown:
            raise ResidencyError(f"{where}: residency.{category} names regions not in the "
                                 f"region table: {', '.join(unknown)}")
        rules[category] = Rule(tuple(str(h) for h in spec.get("hosts", ())),
                               tuple(str(r) for r in spec.get("regions", ())),
                               tuple(str(c).upper() for c in spec.get("countries", ())),
                               tuple(str(o) for o in spec.get("operators", ())))
    return Residency(rules, regions)


def load_regions(source: Path | Mapping[str, Any],
                 countries: Mapping[str, Any] | None = None) -> Regions:
    """A region table from a ``brewbench-regions`` file or inline ``[regions]`` (and
    ``[countries]``) tables.

    Raises:
        ResidencyError: the file is missing, not TOML or not a region table.
    """
    table: Mapping[str, Any] = source if not isinstance(source, Path) else {}
    countries = countries or {}
    if isinstance(source, Path):
        try:
            data = tomllib.loads(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ResidencyError(f"{source}: cannot read the region table: {exc}") from exc
        if data.get("format") != REGIONS_FORMAT or data.get("version") != 1:
            raise ResidencyError(f'{source}: not a region table (format = "{REGIONS_FORMAT}", '
                                 "version = 1)")
        table, countries = data.get("regions", {}), data.get("countries", {})
    regions = {str(region): tuple(str(g) for g in globs) for region, globs in table.items()
               if isinstance(globs, list)}
    if len(regions) != len(table):
        raise ResidencyError("a region table maps each region to a list of host globs")
    codes = {str(region): tuple(str(c).upper() for c in listed)
             for region, listed in countries.items() if isinstance(listed, list)}
    if len(codes) != len(countries):
        raise ResidencyError("a region table's [countries] maps each region to a list of "
                             "ISO country codes")
    return Regions(regions, codes)


__all__ = ["ANY_CATEGORY", "REGIONS_FORMAT", "Place", "Regions", "Residency", "ResidencyError", "Rule",
           "destination_of", "destination_places", "destinations", "entry_destinations", "load_regions",
           "parse_residency"]
