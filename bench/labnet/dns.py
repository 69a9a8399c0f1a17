"""The lab's DNS: dnsmasq in the gateway namespace, answering every name and logging each lookup.

dnsmasq answers from the lab's own table of names (``answers``: name -> address)
and every other name with one sinkhole address, asks no upstream server
(``--no-resolv``) and logs each query and its answer (``--log-queries=extra``) to
its stderr, which a reader thread turns into ``Lookup`` events as they happen.

To know that every lookup made so far has been read, the bench asks dnsmasq a
marker name of its own and waits until that query shows in the log: dnsmasq logs
in the order it serves, so everything asked before it has been seen.
"""

from __future__ import annotations

import re
import secrets
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .netns import LabNetworkError, socket_in

#: Names nobody configured resolve here: TEST-NET-1 (RFC 5737), documentation only.
SINKHOLE = "192.0.2.1"
MARKER_SUFFIX = ".settle.brewbench.invalid"
MAX_LINE = 4096  # a log line longer than this is cut (a hostile name cannot grow one)
MAX_PENDING = 1024  # queries logged without an answer yet; the oldest are given up
START_TIMEOUT_S = 10.0
_QUERY = re.compile(r"^dnsmasq\[\d+\]: (\d+) ([\d.]+)/\d+ query\[(\w+)\] (.+?) from ")
_ANSWER = re.compile(r"^dnsmasq\[\d+\]: (\d+) [\d.]+/\d+ (?:config|reply|cached) (.+) is (\S+)$")


@dataclass(frozen=True)
class Lookup:
    """One name the device asked for, and what the lab answered."""

    name: str
    qtype: str
    client: str
    answer: str  # an address, or NXDOMAIN / REFUSED / NODATA as dnsmasq says it
    resolver: str  # which listener heard it: "network" or "hard-coded"


class DnsServer:
    """One dnsmasq in namespace ``namespace`` on ``port`` of ``listen``; ``start``, ``stop``."""

    def __init__(self, namespace: str, listen: str, port: int, answers: Mapping[str, str],
                 label: str, on_lookup: Callable[[Lookup], None]) -> None:
        self.namespace, self.listen, self.port, self.label = namespace, listen, port, label
        self.answers = dict(answers)
        self.on_lookup = on_lookup
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._pending: dict[str, tuple[str, str, str]] = {}
        self._cond = threading.Condition()
        self._markers_seen: set[str] = set()
        self.lines_cut = 0

    def command(self) -> list[str]:
        entries = [f"--address=/{name}/{address}" for name, address in sorted(self.answers.items())]
        return ["ip", "netns", "exec", self.namespace, "dnsmasq", "--conf-file=/dev/null",
                "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll", "--user=root",
                "--pid-file=", f"--listen-address={self.listen}", "--listen-address=127.0.0.1",
                "--bind-interfaces", f"--port={self.port}", "--log-queries=extra",
                "--log-facility=-", "--cache-size=0", *entries, f"--address=/#/{SINKHOLE}"]

    def start(self) -> None:
        """Start dnsmasq and wait until it answers.

        Raises:
            LabNetworkError: dnsmasq is missing, exited or did not answer in time.
        """
        try:
            self._process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                             text=True, errors="replace")
        except OSError as exc:
            raise LabNetworkError(f"dnsmasq: {exc}") from exc
        self._reader = threading.Thread(target=self._read_log, name=f"dnsmasq {self.label}",
                                        daemon=True)
        self._reader.start()
        if not self.settle(START_TIMEOUT_S):
            self.stop()
            raise LabNetworkError(f"dnsmasq ({self.label}) did not answer within "
                                  f"{START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(5.0)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5.0)
        if self._reader is not None:
            self._reader.join(5.0)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def settle(self, timeout: float) -> bool:
        """Ask a marker name and wait until its query was logged; False on timeout."""
        marker = f"m{secrets.token_hex(4)}{MARKER_SUFFIX}"
        end = time.monotonic() + timeout
        wait = 0.02  # asked again while dnsmasq is starting (a query before it binds is lost)
        with socket_in(self.namespace, socket.SOCK_DGRAM) as probe, self._cond:
            while self.running and time.monotonic() < end:
                probe.sendto(_query(marker), ("127.0.0.1", self.port))
                if self._cond.wait_for(lambda: marker in self._markers_seen, wait):
                    self._markers_seen.discard(marker)
                    return True
                wait = min(wait * 2, 0.5)
        return False

    # -- the log -----------------------------------------------------------------

    def _read_log(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for line in self._process.stderr:
            if len(line) > MAX_LINE:
                self.lines_cut += 1
                line = line[:MAX_LINE]
            self._line(line.rstrip("\n"))

    def _line(self, line: str) -> None:
        if query := _QUERY.match(line):
            serial, client, qtype, name = query.groups()
            if name.endswith(MARKER_SUFFIX):
                with self._cond:
                    self._markers_seen.add(name)
                    self._cond.notify_all()
                return
            if len(self._pending) >= MAX_PENDING:
                self._pending.pop(next(iter(self._pending)))
            self._pending[serial] = (name, qtype, client)
        elif (answer := _ANSWER.match(line)) and answer.group(1) in self._pending:
            name, qtype, client = self._pending.pop(answer.group(1))
            self.on_lookup(Lookup(name, qtype, client, answer.group(3), self.label))


def _query(name: str) -> bytes:
    """A DNS query for the A record of ``name`` (for the bench's own markers)."""
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return struct.pack(">HHHHHH", 0xBEEF, 0x0100, 1, 0, 0, 0) + labels + b"\x00" + struct.pack(">HH", 1, 1)


__all__ = ["SINKHOLE", "DnsServer", "Lookup"]
