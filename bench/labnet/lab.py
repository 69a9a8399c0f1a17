"""``LabNetwork``: the bench as a machine's network, in two Linux network namespaces.

    device namespace             gateway namespace (the bench's)
    [device process] eth0 ====== lab0  nftables: DNS -> dnsmasq, TCP -> interceptor,
     198.18.0.2/30                198.18.0.1  everything else dropped and counted

The device process (an emulated machine, or any program) runs in the device
namespace with ``device_command``; the gateway has no interface but the lab's
veth, so nothing the device sends can leave (``counts().escaped`` stays 0).
The bench's dnsmasq (two: the network's resolver, and one behind every other
address a firmware may hard-code) and interceptor serve it; readable plaintext
goes to ``upstream`` (the bench's broker and HTTP endpoint).

As an observer of the control connection the lab attributes every lookup and
connection to the action running when it happened, and at each action's end lets
the network settle: a marker lookup must come back through each dnsmasq and
every accepted connection must have its verdict.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...drivers.records import Record, Stamp
from ..capture import IDLE, Capture, Entry
from . import rules
from .dns import DnsServer, Lookup
from .findings import CHANNEL, Destinations, close_record, connect_record, dropped_record, lookup_record
from .intercept import Connection, Interceptor, Upstream
from .lab_ca import LabCA
from .netns import GATEWAY_IP, LabNamespaces, LabNetworkError, missing_tools
from .places import AddressTable, load_addresses

HARD_CODED_DNS_PORT = 5353
SETTLE_S = 3.0
#: network records per capture; a device looking up or dialling without end is cut
#: here and the cut is counted (``records_cut``), never the capture's memory
MAX_RECORDS = 50_000


def unavailable() -> str | None:
    """Why this machine cannot run the lab network (not root, tools missing), or None."""
    if os.geteuid() != 0:
        return ("the lab network needs root (network namespaces and nftables); it has no "
                "rootless (user namespace) variant yet")
    missing = missing_tools()
    if missing:
        return (f"the lab network needs {', '.join(missing)} on PATH "
                "(Debian: apt-get install iproute2 nftables dnsmasq-base)")
    return None


class LabNetwork:
    """One lab network; a context manager. ``bind`` a capture, run the device with
    ``device_command``, and read ``counts()`` and ``summary()``.

    Args:
        answers: host name -> IPv4 address the lab's DNS answers (others get a sinkhole).
        upstream: where readable plaintext goes (see ``tap_upstream``); None reads and counts.
        addresses: the address table (the shipped one by default).
        passthrough: where a TLS connection to a host is passed through sealed, unread
            (the cloud the bench stands in for, bench/labnet/maker_cloud.py); None: every
            TLS connection meets the front door.
    """

    def __init__(self, answers: Mapping[str, str] | None = None, upstream: Upstream | None = None,
                 addresses: AddressTable | None = None, settle_s: float = SETTLE_S,
                 passthrough: Upstream | None = None, max_records: int = MAX_RECORDS) -> None:
        self.max_records = max_records
        self.passthrough: Upstream = passthrough or (lambda _protocol, _host: None)
        self.answers = {name.lower(): address for name, address in (answers or {}).items()}
        self.upstream: Upstream = upstream or (lambda _protocol, _host: None)
        self.table = addresses or load_addresses()
        self.settle_s = settle_s
        self.namespaces = LabNamespaces.fresh()
        self.capture: Capture | None = None
        self.lookups: list[Lookup] = []
        self.connections: list[Connection] = []
        self.destinations = Destinations(self.table)
        self.setup_ms = 0.0
        self._kept = 0
        self.records_cut = 0
        self._udp_seen: set[tuple[str, int]] = set()
        self._root = Path(tempfile.mkdtemp(prefix="brewbench-lab-"))
        self._current = IDLE
        self._lock = threading.Lock()
        self._dns: list[DnsServer] = []
        self._interceptor: Interceptor | None = None
        self.final_counts: rules.Counts | None = None
        self.ca: LabCA | None = None

    # -- lifetime ---------------------------------------------------------------------

    def start(self) -> None:
        """Make the namespaces, rules, DNS and interceptor.

        Raises:
            LabNetworkError: not root, a tool missing, or a step failed (all undone).
        """
        why = unavailable()
        if why is not None:
            raise LabNetworkError(why)
        began = time.monotonic()
        try:
            self.namespaces.create()
            self.ca = LabCA(self._root / "ca")
            self._interceptor = Interceptor(self.namespaces.gateway, self.ca,
                                            lambda protocol, host: self.upstream(protocol, host),
                                            self._name_of, self._opened, self._closed,
                                            lambda protocol, host: self.passthrough(protocol, host))
            rules.install(self.namespaces.gateway, self._interceptor.port,
                          hard_coded_dns_port=HARD_CODED_DNS_PORT)
            self._dns = [DnsServer(self.namespaces.gateway, GATEWAY_IP, port, self.answers, label,
                                   self._looked_up)
                         for port, label in ((53, "network"), (HARD_CODED_DNS_PORT, "hard-coded"))]
            for server in self._dns:
                server.start()
            self._interceptor.start()
        except BaseException:
            self.stop()
            raise
        self.setup_ms = (time.monotonic() - began) * 1000

    def stop(self) -> None:
        """Stop every process, remove the namespaces (rules and veth go with them); idempotent."""
        for server in self._dns:
            server.stop()
        if self._interceptor is not None:
            self._interceptor.stop()
        if self.namespaces.exists():
            with contextlib.suppress(LabNetworkError):  # the rules never got installed
                self.final_counts = rules.read(self.namespaces.gateway)
        self.namespaces.destroy()
        shutil.rmtree(self._root, ignore_errors=True)
        self._publish()

    def __enter__(self) -> LabNetwork:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def device_command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the device namespace (its only network is the lab)."""
        return [*self.namespaces.exec_prefix(self.namespaces.device), *argv]

    def publish_counts(self) -> rules.Counts:
        """Read the gateway's counters into ``capture.meta["labnet"]`` now (before the
        capture is saved), record each UDP destination dropped since the last reading,
        and return them."""
        self.final_counts = self.counts()
        with self._lock:
            for address, port in self.final_counts.dropped_udp:
                if (address, port) not in self._udp_seen:
                    self._udp_seen.add((address, port))
                    self._add(dropped_record(address, port, self.table))
        self._publish()
        return self.final_counts

    def counts(self) -> rules.Counts:
        """The gateway's counters now (after ``stop``: as they were at the end)."""
        if self.namespaces.exists():
            return rules.read(self.namespaces.gateway)
        if self.final_counts is None:
            raise LabNetworkError("the lab network never ran")
        return self.final_counts

    @property
    def ca_file(self) -> Path:
        assert self.ca is not None, "start the lab first"
        return self.ca.ca_file

    # -- Observer (of the control connection) --------------------------------------------

    def bind(self, capture: Capture, upstream: Upstream | None = None) -> None:
        """Record into ``capture`` from now on (what the lab saw starts afresh); with
        ``upstream``, readable plaintext goes there from now on (a new device's tap)."""
        with self._lock:
            self.capture = capture
            self.lookups, self.connections = [], []
            self.destinations = Destinations(self.table)
            self._kept = self.records_cut = 0
            self._udp_seen = set(self.final_counts.dropped_udp) if self.final_counts else set()
            if upstream is not None:
                self.upstream = upstream
        self._publish()

    def record(self, record: Record) -> None:
        return  # control-link records are the capture's business

    def action_started(self, action: str, stamp: Stamp) -> None:
        with self._lock:
            self._current = action

    def action_ended(self, action: str, stamp: Stamp, outcome: str, detail: str) -> None:
        self.settle()
        self.publish_counts()  # UDP dropped during the action is recorded as the action's
        with self._lock:
            self._current = IDLE

    def settle(self) -> bool:
        """Wait until every lookup and connection so far is recorded; False when bounded out."""
        ok = all(server.settle(self.settle_s) for server in self._dns if server.running)
        if self._interceptor is not None:
            ok = self._interceptor.wait_judged(self._interceptor.accepted, self.settle_s) and ok
        return ok

    # -- events --------------------------------------------------------------------------

    def passthrough_to(self, passthrough: Upstream | None) -> None:
        """From now on pass TLS connections through sealed as ``passthrough`` says (None: none)."""
        self.passthrough = passthrough or (lambda _protocol, _host: None)

    def _name_of(self, address: str) -> str:
        names = [name for name, answer in self.answers.items() if answer == address]
        return names[0] if len(names) == 1 else ""

    def _looked_up(self, lookup: Lookup) -> None:
        with self._lock:
            if self._add(lookup_record(lookup, self.table)):
                self.lookups.append(lookup)

    def _opened(self, conn: Connection) -> None:
        with self._lock:
            conn.action = self._current
            self.destinations.connected(conn, self._current)
            if self._add(connect_record(conn, self.table)):
                self.connections.append(conn)

    def _closed(self, conn: Connection) -> None:
        with self._lock:
            self.destinations.closed(conn)
            self._add(close_record(conn))

    def _add(self, record: Record) -> bool:
        """Append to the capture, attributed to the lab's own idea of the current action
        (the capture's own has already moved on while the lab settles); False when cut."""
        if self._kept >= self.max_records:
            self.records_cut += 1
            return False
        self._kept += 1
        if self.capture is not None:
            self.capture.entries.append(Entry(self._current, record))
        return True

    def summary(self) -> dict[str, Any]:
        """What goes into ``capture.meta["labnet"]``."""
        counts = self.final_counts
        return {"addresses_data": self.table.data, "channel": CHANNEL,
                "lookups": len(self.lookups), "connections": len(self.connections),
                "destinations": self.destinations.as_meta(),
                "destinations_more": self.destinations.more,
                "turned_away": self._interceptor.turned_away if self._interceptor else 0,
                "records_cut": self.records_cut,
                "setup_ms": round(self.setup_ms, 1),
                **({} if counts is None else {
                    "dropped": counts.dropped, "escaped": counts.escaped,
                    "resolvers": list(counts.resolvers),
                    "dropped_udp": [f"{a}:{p}" for a, p in counts.dropped_udp]})}

    def _publish(self) -> None:
        if self.capture is not None:
            with self._lock:
                self.capture.meta["labnet"] = self.summary()


def tap_upstream(tap: Any) -> Upstream:
    """Relay readable plaintext to an ``UplinkTap``'s broker and endpoint, so the device's
    messages become uplink records exactly as on the plain path."""
    def upstream(protocol: str, host: str) -> tuple[str, int] | None:
        try:
            address, port = tap.resolve(host, protocol)
        except OSError:
            return None
        return str(address), int(port)
    return upstream


__all__ = ["HARD_CODED_DNS_PORT", "LabNetwork", "LabNetworkError", "tap_upstream", "unavailable"]
