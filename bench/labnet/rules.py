"""The gateway's nftables rules: answer DNS, redirect every TCP connection, drop and count the rest.

Everything the device sends enters the gateway on its veth. DNS to any resolver
(the network's or one hard-coded in the firmware) is redirected to the lab's
dnsmasq, and the resolver the device meant is remembered in a set; every TCP
connection, to any address and port, is redirected to the bench's interceptor,
which reads the original destination back from conntrack. Anything else (UDP
such as QUIC, ICMP, ...) is dropped and counted, and UDP drops keep their
destination. A last counter on the way out of the gateway counts packets
leaving by any interface but the lab's own: the gateway has no other, and the
tests assert that this count stays 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .netns import GATEWAY_IF, GATEWAY_IP, in_namespace, run

TABLE = "brewbench_lab"
SET_SIZE = 4096  # bounded: a device spraying addresses fills the set, never the memory


def ruleset(interceptor_port: int, hard_coded_dns_port: int) -> str:
    """The gateway's ruleset for an interceptor on ``interceptor_port``; DNS meant for the
    network's resolver stays on port 53, DNS to any other address goes to
    ``hard_coded_dns_port`` (a second dnsmasq), so each lookup says which it was."""
    lab, other = f'iifname "{GATEWAY_IF}"', hard_coded_dns_port
    return f"""
table inet {TABLE} {{
    set resolvers {{ type ipv4_addr; flags dynamic; size {SET_SIZE}; }}
    set dropped_udp {{ type ipv4_addr . inet_service; flags dynamic; size {SET_SIZE}; }}
    counter dns_redirected {{}}
    counter tcp_redirected {{}}
    counter dropped {{}}
    counter escaped {{}}
    chain to_bench {{
        type nat hook prerouting priority dstnat; policy accept;
        {lab} ip daddr {GATEWAY_IP} udp dport 53 add @resolvers {{ ip daddr }} accept
        {lab} ip daddr {GATEWAY_IP} tcp dport 53 add @resolvers {{ ip daddr }} accept
        {lab} udp dport 53 add @resolvers {{ ip daddr }} counter name dns_redirected redirect to :{other}
        {lab} tcp dport 53 add @resolvers {{ ip daddr }} counter name dns_redirected redirect to :{other}
        {lab} ip protocol tcp counter name tcp_redirected redirect to :{interceptor_port}
    }}
    chain keep_in {{
        type filter hook prerouting priority filter; policy accept;
        {lab} ip daddr {GATEWAY_IP} accept
        {lab} meta l4proto udp add @dropped_udp {{ ip daddr . udp dport }} counter name dropped drop
        {lab} counter name dropped drop
    }}
    chain no_forward {{
        type filter hook forward priority filter; policy drop;
        counter name dropped drop
    }}
    chain way_out {{
        type filter hook postrouting priority filter; policy accept;
        oifname != {{ "{GATEWAY_IF}", "lo" }} counter name escaped drop
    }}
}}
"""


@dataclass(frozen=True)
class Counts:
    """What the gateway's counters and sets hold."""

    dns_redirected: int
    tcp_redirected: int
    dropped: int
    escaped: int
    resolvers: tuple[str, ...]
    dropped_udp: tuple[tuple[str, int], ...]


def install(namespace: str, interceptor_port: int, hard_coded_dns_port: int) -> None:
    """Load the ruleset into ``namespace``."""
    run(["ip", "netns", "exec", namespace, "nft", "-f", "-"],
        stdin=ruleset(interceptor_port, hard_coded_dns_port))


def read(namespace: str) -> Counts:
    """The counters and sets, read with ``nft -j``."""
    # nft started from a thread inside the namespace: half the time of ``ip netns exec``
    # (read at the end of every action)
    data = json.loads(in_namespace(namespace, lambda: run(["nft", "-j", "list", "table", "inet", TABLE])))
    counters: dict[str, int] = {}
    sets: dict[str, list[Any]] = {}
    for item in data.get("nftables", []):
        if "counter" in item:
            counters[item["counter"]["name"]] = int(item["counter"].get("packets", 0))
        elif "set" in item:
            sets[item["set"]["name"]] = list(item["set"].get("elem", []))
    return Counts(counters.get("dns_redirected", 0), counters.get("tcp_redirected", 0),
                  counters.get("dropped", 0), counters.get("escaped", 0),
                  tuple(sorted(str(_element(e)) for e in sets.get("resolvers", []))),
                  tuple(sorted(_pair(e) for e in sets.get("dropped_udp", []))))


def _element(element: Any) -> Any:
    """A set element as nft -j writes it: plain, or wrapped with its timeout/expiry."""
    if isinstance(element, dict) and "elem" in element:
        return element["elem"]["val"]
    return element


def _pair(element: Any) -> tuple[str, int]:
    concat = _element(element)["concat"]
    return str(concat[0]), int(concat[1])


__all__ = ["TABLE", "Counts", "install", "read", "ruleset"]
