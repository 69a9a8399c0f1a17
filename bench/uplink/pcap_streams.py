"""Reading a pcap or pcapng file: TCP streams reassembled, and the DNS names answered.

dpkt parses the file and the packet headers (Ethernet, Linux cooked v1/v2, raw
IP, BSD loopback; IPv4 and IPv6). Each TCP connection's client-to-server bytes
are put back as the server read them (bench/uplink/tcp_reassembly.py:
retransmissions and reordering undone); a stream stops at the first hole,
since nothing after it can be parsed reliably.

A capture is hostile input too (docs/reliability.md, "Imports"):

- memory is bounded: at most ``MAX_STREAM`` bytes per stream and ``MAX_TRAFFIC``
  in all are read, of at most ``MAX_FLOWS`` connections (``MAX_NAMES`` DNS
  answers); what is past them is counted in ``Traffic.cut_bytes`` and the
  stream says ``cut``; a record that claims more than ``MAX_BLOCK`` bytes ends the
  reading (``Traffic.damaged`` says where), and so does a file cut in the middle
  of a record: what came before it is kept;
- two copies of the same bytes that disagree (a retransmission with other
  content, a segment that overlaps with other bytes, a second SYN) are never
  resolved silently: the first copy to arrive with a valid TCP checksum wins
  where they disagree, and the stream says ``contradicting``.
"""

from __future__ import annotations

import bisect
import socket
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import dpkt

from ...drivers.errors import BrewbenchError
from .tcp_reassembly import Reassembly

MAX_STREAM = 16 * 1024 * 1024
MAX_TRAFFIC = 32 * 1024 * 1024  # stream bytes read from one file, all streams together
MAX_BLOCK = 256 * 1024  # a pcap record or pcapng block; snaplen is 262144 at most
MAX_FLOWS = 16_384  # TCP directions followed per file; a machine opens a few dozen
MAX_NAMES = 16_384  # DNS answers remembered per file
PROGRESS_EVERY = 64 * 1024 * 1024
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
Address = tuple[str, int]


class PcapError(BrewbenchError, ValueError):
    """The file is not a pcap/pcapng this bench can read."""


@dataclass
class Stream:
    """What a TCP client sent to a server, in order, and when each piece arrived."""

    client: Address
    server: Address
    data: bytes = b""
    offsets: list[int] = field(default_factory=list)  # where each segment starts in data
    times: list[int] = field(default_factory=list)  # its capture time (ns)
    truncated: bool = False
    cut: bool = False  # bytes past MAX_STREAM / MAX_TRAFFIC were not read
    contradicting: bool = False  # two copies of some bytes disagreed

    def time_at(self, offset: int) -> int:
        """When the byte at ``offset`` was captured."""
        index = max(0, bisect.bisect_right(self.offsets, offset) - 1)
        return self.times[index] if self.times else 0


@dataclass
class Traffic:
    streams: list[Stream]
    names: dict[str, str]  # address -> the DNS name it was the answer for
    cut_bytes: int = 0  # stream bytes past the bounds, not read
    damaged: str = ""  # why reading stopped before the end of the file, if it did
    packets: int = 0
    unfollowed: int = 0  # TCP packets of connections past MAX_FLOWS, not followed


@dataclass
class _Flow:
    reassembly: Reassembly = field(default_factory=lambda: Reassembly(MAX_STREAM))
    seen: set[tuple[int, int]] = field(default_factory=set)  # (seq, hash): exact copies
    size: int = 0


@dataclass
class _Reading:
    """What one file's reading holds: flows, names, and what it did not read."""

    flows: dict[tuple[Address, Address], _Flow] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    size: int = 0
    cut_bytes: int = 0
    unfollowed: int = 0  # TCP packets of connections past MAX_FLOWS


class _Damaged(Exception):
    """A record claims a length no capture has: reading stops, what came before stays."""


class _BoundedFile:
    """A file whose reads are bounded: dpkt reads the length a record claims, and a
    hostile length (negative: the whole file; 4 GB) must not become one read."""

    def __init__(self, file: BinaryIO, progress: Callable[[int], None] | None) -> None:
        self.file, self.progress, self.offset, self._next = file, progress, 0, PROGRESS_EVERY

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > MAX_BLOCK:
            raise _Damaged(f"a record at byte {self.offset} claims {size} bytes")
        data = self.file.read(size)
        self.offset += len(data)
        if self.progress is not None and self.offset >= self._next:
            self._next += PROGRESS_EVERY
            self.progress(self.offset)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        self.offset = self.file.seek(offset, whence)
        return self.offset

    def tell(self) -> int:
        return self.file.tell()


def read_pcap(path: Path, progress: Callable[[int], None] | None = None) -> Traffic:
    """The TCP streams and DNS answers of a pcap or pcapng file, read in bounded memory;
    ``progress(bytes_read)`` is called every ``PROGRESS_EVERY`` bytes of a long file.

    Raises:
        PcapError: the file is unreadable, not a capture, or of an unsupported link type.
    """
    try:
        with path.open("rb") as file:
            return _read(_BoundedFile(file, progress), path)
    except OSError as exc:
        raise PcapError(f"{path}: cannot read it: {exc.strerror or exc}") from exc


def _read(file: _BoundedFile, path: Path) -> Traffic:
    reading = _Reading()
    try:
        magic = file.read(4)
        file.seek(0)
        reader: Any = dpkt.pcapng.Reader(file) if magic == PCAPNG_MAGIC else dpkt.pcap.Reader(file)
        unwrap = _link(reader.datalink(), path)
    except (ValueError, dpkt.UnpackError, dpkt.NeedData, _Damaged) as exc:
        raise PcapError(f"{path}: not a pcap or pcapng capture ({exc})") from exc
    packets, damaged = 0, ""
    try:
        for ts, frame in reader:
            packets += 1
            _packet(unwrap, frame, int(ts * 1_000_000_000), reading)
    except (ValueError, dpkt.UnpackError, dpkt.NeedData, struct.error, _Damaged) as exc:
        damaged = (f"reading stopped after packet {packets} (byte {file.offset}): "
                   f"{exc or 'the file ends inside a record'}; the packets before it are kept")
    streams = [_stream(key, reading.flows.pop(key)) for key in list(reading.flows)]
    return Traffic(streams, reading.names, reading.cut_bytes, damaged, packets,
                   reading.unfollowed)


def _link(datalink: int, path: Path) -> Any:
    links: dict[int, Any] = {
        dpkt.pcap.DLT_EN10MB: lambda b: dpkt.ethernet.Ethernet(b).data,
        dpkt.pcap.DLT_LINUX_SLL: lambda b: dpkt.sll.SLL(b).data,
        276: lambda b: dpkt.sll2.SLL2(b).data,  # LINUX_SLL2, what "any" captures give today
        dpkt.pcap.DLT_NULL: lambda b: dpkt.loopback.Loopback(b).data,
        dpkt.pcap.DLT_LOOP: lambda b: dpkt.loopback.Loopback(b).data,
        dpkt.pcap.DLT_RAW: _raw_ip, 12: _raw_ip, 101: _raw_ip,
    }
    if datalink not in links:
        raise PcapError(f"{path}: link type {datalink} is not supported (Ethernet, Linux "
                        "cooked, raw IP and loopback captures are)")
    return links[datalink]


def _raw_ip(buf: bytes) -> Any:
    return dpkt.ip6.IP6(buf) if buf[:1] and buf[0] >> 4 == 6 else dpkt.ip.IP(buf)


def _packet(unwrap: Any, frame: bytes, ns: int, reading: _Reading) -> None:
    try:
        ip = unwrap(frame)
    except (dpkt.UnpackError, dpkt.NeedData, ValueError, IndexError):
        return  # a damaged frame: skip it, keep the rest of the capture
    if not isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6):
        return
    src, dst = _address(ip.src), _address(ip.dst)
    segment = ip.data
    if isinstance(segment, dpkt.udp.UDP) and segment.sport == 53:
        for address, name in _dns_answers(bytes(segment.data)):
            if address in reading.names or len(reading.names) < MAX_NAMES:
                reading.names[address] = name
    elif isinstance(segment, dpkt.tcp.TCP):
        key = ((src, segment.sport), (dst, segment.dport))
        flow = reading.flows.get(key)
        if flow is None:
            if len(reading.flows) >= MAX_FLOWS:  # a file of a million decoy connections
                reading.cut_bytes += len(segment.data)
                reading.unfollowed += 1
                return
            flow = reading.flows[key] = _Flow()
        valid = checksum_valid(ip)
        if segment.flags & dpkt.tcp.TH_SYN and valid is not False:
            flow.reassembly.syn(segment.seq)
        data = bytes(segment.data)
        if data:  # data on a SYN starts after it (the SYN takes one sequence number)
            seq = (segment.seq + 1) % 2**32 if segment.flags & dpkt.tcp.TH_SYN else segment.seq
            _add_segment(flow, reading, seq, data, ns, valid is not False)


def _add_segment(flow: _Flow, reading: _Reading, seq: int, data: bytes, ns: int,
                 valid: bool) -> None:
    """Keep a segment within the bounds (an exact retransmission only once)."""
    key = (seq, hash(data))
    if key in flow.seen:
        return
    if flow.size + len(data) > MAX_STREAM or reading.size + len(data) > MAX_TRAFFIC:
        flow.reassembly.cut = True
        reading.cut_bytes += len(data)
        return
    flow.seen.add(key)
    flow.reassembly.add(seq, data, ns, valid)
    flow.size += len(data)
    reading.size += len(data)


def checksum_valid(ip: Any) -> bool | None:
    """Whether the TCP checksum of ``ip``'s segment holds; None when the packet was
    captured short of its length (nothing to check against)."""
    raw = bytes(ip.data)
    if isinstance(ip, dpkt.ip6.IP6):
        pseudo = ip.src + ip.dst + struct.pack(">IxxxB", len(raw), dpkt.ip.IP_PROTO_TCP)
    else:
        if ip.len != ip.hl * 4 + len(raw):
            return None
        pseudo = ip.src + ip.dst + struct.pack(">xBH", dpkt.ip.IP_PROTO_TCP, len(raw))
    return bool(dpkt.in_cksum(pseudo + raw) == 0)


def _address(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def _dns_answers(payload: bytes) -> Iterator[tuple[str, str]]:
    """(address, asked name) for each A/AAAA answer, following CNAMEs back to the question."""
    try:
        dns = dpkt.dns.DNS(payload)
    except (dpkt.UnpackError, dpkt.NeedData, ValueError, IndexError):
        return
    if not dns.qd:
        return
    asked = dns.qd[0].name
    for answer in dns.an:
        if answer.type == dpkt.dns.DNS_A:
            yield socket.inet_ntop(socket.AF_INET, answer.rdata), asked
        elif answer.type == dpkt.dns.DNS_AAAA:
            yield socket.inet_ntop(socket.AF_INET6, answer.rdata), asked


def _stream(key: tuple[Address, Address], flow: _Flow) -> Stream:
    """One direction's bytes as its receiver read them (bench/uplink/tcp_reassembly.py)."""
    client, server = key
    done = flow.reassembly.stream()
    return Stream(client, server, done.data, done.offsets, done.times, done.truncated,
                  flow.reassembly.cut, done.contradicting)


__all__ = ["MAX_BLOCK", "MAX_FLOWS", "MAX_NAMES", "MAX_STREAM", "MAX_TRAFFIC", "PcapError",
           "Stream", "Traffic", "checksum_valid", "read_pcap"]
