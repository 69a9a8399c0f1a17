"""Where an address is: country (located and registered) and operator, from an offline table.

The table ships with the bench (``contracts/address_ranges.toml``, read through
importlib.resources) and says for each IPv4 range where its hosts are located,
where it is registered, who operates it and its AS number, with the source of
each row. Located and registered countries differ for the big clouds (an AWS
Frankfurt address is located in DE and registered in US); residency judges by
where the data is located. The table's ``data`` date goes into every capture
that uses it, so a verdict says which data placed its destinations.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from ...drivers.errors import BrewbenchError

ADDRESSES_FORMAT = "brewbench-addresses"
SHIPPED = "address_ranges.toml"


class AddressTableError(BrewbenchError, ValueError):
    """An address table is missing or malformed."""


@dataclass(frozen=True)
class Place:
    """Where one address is, as the table says."""

    address: str
    located: str  # ISO 3166-1 alpha-2; "ZZ" for reserved ranges, "" when unplaced
    registered: str
    operator: str
    asn: int
    network: str  # the range that placed it ("" when none did)

    @property
    def placed(self) -> bool:
        return bool(self.network)

    def describe(self) -> str:
        """One phrase for a verdict: located where, registered where, operated by whom."""
        if not self.placed:
            return f"{self.address} (not in the address table)"
        asn = f" AS{self.asn}" if self.asn else ""
        return (f"{self.address} (located {self.located}, registered {self.registered}, "
                f"operator {self.operator}{asn})")

    def as_meta(self) -> dict[str, Any]:
        return {"address": self.address, "located": self.located, "registered": self.registered,
                "operator": self.operator, "asn": self.asn, "network": self.network}


@dataclass(frozen=True)
class AddressTable:
    """IPv4 ranges -> place; ``place`` picks the most specific range."""

    ranges: tuple[tuple[ipaddress.IPv4Network, dict[str, Any]], ...]
    data: str

    def place(self, address: str) -> Place:
        try:
            ip = ipaddress.IPv4Address(address)
        except ValueError:
            return Place(address, "", "", "", 0, "")
        best = max((r for r in self.ranges if ip in r[0]), key=lambda r: r[0].prefixlen, default=None)
        if best is None:
            return Place(address, "", "", "", 0, "")
        row = best[1]
        return Place(address, row["located"], row["registered"], row["operator"], row["asn"],
                     str(best[0]))


def load_addresses(path: Path | None = None) -> AddressTable:
    """The shipped address table, or the one at ``path``.

    Raises:
        AddressTableError: the file is missing, not TOML, or a row is malformed.
    """
    try:
        text = (path.read_text(encoding="utf-8") if path is not None
                else files("brewbench.contracts").joinpath(SHIPPED).read_text(encoding="utf-8"))
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AddressTableError(f"{path or SHIPPED}: cannot read the address table: {exc}") from exc
    if data.get("format") != ADDRESSES_FORMAT or data.get("version") != 1:
        raise AddressTableError(f'{path or SHIPPED}: not an address table (format = '
                                f'"{ADDRESSES_FORMAT}", version = 1)')
    return AddressTable(tuple(_row(n, row) for n, row in enumerate(data.get("range", []), 1)),
                        str(data.get("data", "")))


def _row(number: int, row: Any) -> tuple[ipaddress.IPv4Network, dict[str, Any]]:
    try:
        network = ipaddress.IPv4Network(row["network"])
        fields = {"located": str(row["located"]).upper(), "registered": str(row["registered"]).upper(),
                  "operator": str(row["operator"]), "asn": int(row.get("asn", 0))}
    except (KeyError, TypeError, ValueError) as exc:
        raise AddressTableError(f"address table range {number}: needs network, located, "
                                f"registered and operator ({exc})") from exc
    return network, fields


__all__ = ["ADDRESSES_FORMAT", "AddressTable", "AddressTableError", "Place", "load_addresses"]
