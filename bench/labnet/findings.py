"""What the lab network saw, as capture records and as the capture's ``labnet`` summary.

Every lookup and every connection becomes a record on channel ``network``,
attributed to the action during which it happened:

    meta: protocol "dns", name, qtype, answer, resolver ("network" or "hard-coded"),
          and where the answer is (located, registered, operator, asn)
    meta: protocol "tcp", event "connect", address, port, destination (the name, else
          the address), sni, tls_verdict, tls_version, app (mqtt/http/""), and its place
    meta: protocol "tcp", event "close", destination, bytes_up, bytes_down
    meta: protocol "udp", event "dropped", address, port, and its place (read from the
          gateway at the end of each action: the first time each destination is dropped)

``summary`` is ``capture.meta["labnet"]``: per destination its address, place,
ports, verdicts and, per TLS connection, the action and the lengths and content
types of the TLS records the device sent; the address
table's data date; and the gateway's counts (dropped, escaped, resolvers asked).
"""

from __future__ import annotations

from typing import Any

from ...drivers.records import RX, Record, Stamp
from .dns import Lookup
from .intercept import Connection
from .places import AddressTable

CHANNEL = "network"
MAX_DESTINATIONS = 256  # a device dialling endless addresses fills this, then is counted


def lookup_record(lookup: Lookup, table: AddressTable) -> Record:
    meta: dict[str, Any] = {"protocol": "dns", "name": lookup.name, "qtype": lookup.qtype,
                            "answer": lookup.answer, "resolver": lookup.resolver}
    place = table.place(lookup.answer)
    if place.placed:
        meta.update(located=place.located, registered=place.registered, operator=place.operator,
                    asn=place.asn)
    return Record(CHANNEL, RX, Stamp.now(), b"", None, None, meta)


def connect_record(conn: Connection, table: AddressTable) -> Record:
    place = table.place(conn.address)
    meta: dict[str, Any] = {"protocol": "tcp", "event": "connect", "address": conn.address,
                            "port": conn.port, "destination": conn.host, "sni": conn.sni,
                            "tls_verdict": conn.verdict, "tls_version": conn.tls, "app": conn.protocol,
                            "located": place.located, "registered": place.registered,
                            "operator": place.operator, "asn": place.asn}
    return Record(CHANNEL, RX, Stamp.now(), b"", None, None, meta)


def dropped_record(address: str, port: int, table: AddressTable) -> Record:
    """A UDP destination (QUIC, NTP, ...) the gateway dropped: the first time it was seen."""
    place = table.place(address)
    meta = {"protocol": "udp", "event": "dropped", "address": address, "port": port,
            "located": place.located, "registered": place.registered, "operator": place.operator,
            "asn": place.asn}
    return Record(CHANNEL, RX, Stamp.now(), b"", None, None, meta)


def close_record(conn: Connection) -> Record:
    meta = {"protocol": "tcp", "event": "close", "destination": conn.host, "port": conn.port,
            "bytes_up": conn.bytes_up, "bytes_down": conn.bytes_down}
    return Record(CHANNEL, RX, Stamp.now(), b"", None, None, meta)


class Destinations:
    """Per destination (host): where it is, how the device reached it, what it made of TLS."""

    def __init__(self, table: AddressTable) -> None:
        self.table = table
        self.by_host: dict[str, dict[str, Any]] = {}
        self.more = 0

    def connected(self, conn: Connection, action: str) -> None:
        entry = self.by_host.get(conn.host)
        if entry is None:
            if len(self.by_host) >= MAX_DESTINATIONS:
                self.more += 1
                return
            entry = self.by_host[conn.host] = {**self.table.place(conn.address).as_meta(),
                                               "ports": [], "verdicts": [], "sni": conn.sni,
                                               "actions": [], "record_lengths": []}
        _add(entry["ports"], conn.port)
        _add(entry["verdicts"], conn.verdict)
        _add(entry["actions"], action)

    def closed(self, conn: Connection) -> None:
        entry = self.by_host.get(conn.host)
        if entry is not None and conn.record_lengths and len(entry["record_lengths"]) < 64:
            entry["record_lengths"].append({"action": conn.action, "lengths": list(conn.record_lengths),
                                            "types": list(conn.record_types)})

    def as_meta(self) -> dict[str, Any]:
        return {host: {k: list(v) if isinstance(v, list) else v for k, v in entry.items()}
                for host, entry in sorted(self.by_host.items())}


def _add(values: list[Any], value: Any) -> None:
    if value not in values:
        values.append(value)


def destination_lines(summary: dict[str, Any], by_category: dict[str, dict[str, int]]) -> list[str]:
    """One sentence per destination of a ``labnet`` summary, with the categories that went
    there (``by_category``: category -> host -> values, bench/verify/residency.destinations)."""
    lines = []
    for host, entry in summary.get("destinations", {}).items():
        categories = sorted(c for c, hosts in by_category.items() if host in hosts)
        lines.append(sentence(host, entry, categories))
    return lines


def sentence(host: str, entry: dict[str, Any], categories: list[str]) -> str:
    """The line a lab wants per destination."""
    what = ", ".join(categories) or "no classified data"
    where = (f"located {entry['located']}, registered {entry['registered']}, "
             f"operated by {entry['operator']}" if entry.get("network") else "not in the address table")
    return (f"{host} [{entry.get('address', '?')}]: {what}; over port "
            f"{'/'.join(str(p) for p in entry.get('ports', []))}; {where}; "
            f"TLS: {'/'.join(entry.get('verdicts', [])) or 'none'}")


__all__ = ["CHANNEL", "Destinations", "close_record", "connect_record", "destination_lines", "dropped_record",
           "lookup_record", "sentence"]
